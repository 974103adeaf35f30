"""Splitting a long upload into requests the node accepts, and reporting a partial one.

The node takes at most ``maxEventsPerRequest`` events and ``maxBatchBodyBytes`` per
request (``GET /v1/info``); each request is all-or-none. Batches keep the events'
order, since intake order is the lot's history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ApiError, FieldIssue, UploadError, VntraceError
from .models import LotWritten, NodeInfo
from .signer import SignedEvent, submissions

BODY_MARGIN = 0.9
"""Fill requests to this share of the node's body limit (headers, JSON framing)."""


def plan_batches(
    info: NodeInfo,
    events: Sequence[SignedEvent | Mapping[str, Any]],
    batch_size: int | None = None,
    *,
    disclose: bool = True,
) -> list[list[dict[str, Any]]]:
    """Consecutive batches within the node's count and size limits."""
    max_count = info.max_events_per_request
    if batch_size is not None:
        max_count = max(1, min(batch_size, max_count))
    max_bytes = int(info.max_batch_body_bytes * BODY_MARGIN)
    batches: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for item in submissions(events, disclose=disclose):
        item_size = len(json.dumps(item, ensure_ascii=False).encode()) + 1
        if current and (len(current) >= max_count or size + item_size > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    return batches


def upload_error(
    exc: VntraceError, stored: int, total: int, written: LotWritten | None
) -> UploadError:
    """The error for a batch failing after ``stored`` events went through."""
    errors: tuple[FieldIssue, ...] = ()
    if isinstance(exc, ApiError):
        errors = tuple(_shift(e, stored) for e in exc.errors)
    message = (
        f"upload stopped: events 0-{stored - 1} stored, {total - stored} not stored: {exc}"
        if stored
        else f"upload failed, nothing stored: {exc}"
    )
    return UploadError(
        message, stored=stored, total=total, written=written, cause=exc, errors=errors
    )


def _shift(issue: FieldIssue, offset: int) -> FieldIssue:
    index = None if issue.index is None else issue.index + offset
    field = issue.field
    if issue.index is not None and field.startswith(f"events[{issue.index}]"):
        field = f"events[{index}]" + field[len(f"events[{issue.index}]") :]
    return FieldIssue(field, issue.message, issue.code, index, issue.location)


__all__ = ["BODY_MARGIN", "plan_batches", "upload_error"]
