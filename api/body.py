"""Request bodies: size-capped, JSON only, parsed by the node's strict parser.

Why not FastAPI's own parsing: it calls ``json.loads``, and eth-account and py-evm raise
Python's recursion limit to 100,000, so a few hundred kilobytes of ``[`` would crash the
whole process with a segmentation fault. :func:`vntrace.node.records.parse_json` checks
depth before parsing and also refuses duplicate keys and non-finite numbers, which would
make what the node stored differ from what a producer signed.

:class:`JsonRoute` reads and parses the body before FastAPI does (FastAPI then finds it
cached on the request), so routes keep ordinary pydantic body models and their OpenAPI
schemas. A route marks itself as a batch endpoint with ``openapi_extra=BATCH`` to get
the larger body limit.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from vntrace.node.config import Settings
from vntrace.node.records import MAX_DEPTH, RecordError, parse_json

from .problems import Problem

BATCH: dict[str, Any] = {"x-body-limit": "batch"}
"""``openapi_extra`` of routes that take the batch body limit (lots, events, verify)."""

BODY_DEPTH = MAX_DEPTH + 6
"""An event may nest :data:`MAX_DEPTH` deep; the request wraps it in a few more levels."""


def body_limit(settings: Settings, batch: bool) -> int:
    return settings.max_batch_body_bytes if batch else settings.max_body_bytes


def _too_large(limit: int) -> Problem:
    return Problem(413, f"the request body is over the limit of {limit} bytes for this endpoint")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes (before reading, when it says so)."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is not None:
        return cached
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError:
            raise Problem(400, "Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body
    return body


def check_json_content_type(request: Request) -> None:
    """Accept ``application/json``, any ``+json`` type, or no Content-Type at all."""
    value = request.headers.get("content-type")
    if not value:
        return
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise Problem(415, f"send JSON (Content-Type: application/json), not {value[:80]}")


async def read_json(request: Request, limit: int) -> Any:
    """Read and strictly parse a JSON body (cached on the request for FastAPI)."""
    if hasattr(request, "_json"):
        return request._json
    check_json_content_type(request)
    body = await read_body(request, limit)
    if not body:
        return None  # FastAPI then says "Field required" if the body is not optional
    try:
        value = parse_json(body, max_depth=BODY_DEPTH, max_bytes=limit)
    except RecordError as exc:
        raise Problem(400, f"the body is not acceptable JSON: {exc}") from None
    request._json = value
    return value


class JsonRoute(APIRoute):
    """An APIRoute whose JSON body is capped and parsed by :func:`read_json` first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        batch = (self.openapi_extra or {}).get("x-body-limit") == "batch"

        async def limited(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            await read_json(request, body_limit(settings, batch))
            return await handler(request)

        return limited
