"""The bindings' top-level resources as collections: ``GET /epcis/epcs``, ``/bizSteps``,
``/bizLocations``, ``/readPoints``, ``/dispositions``, ``/eventTypes`` and ``/``.

GS1's OpenAPI of the EPCIS 2.0 REST bindings answers each with a JSON-LD ``Collection``
(``{"@context", "type": "Collection", "member": [...]}``: ``BizStepCollection``,
``EventTypeCollection``, ``ResourceCollection``), paged with ``perPage`` and
``nextPageToken`` like the event query, and each member ``/{resource}/{value}`` with the
sub-resources it has (at least ``events``). Pure: the values come from the index.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .index import DEFAULT_PER_PAGE, EpcisQueryError, parse_per_page

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MEMBER_RESOURCES = ("epcs", "bizSteps", "bizLocations", "readPoints", "dispositions")
"""Top-level resources whose members are the values found in the captured events."""
TOP_LEVEL = ("eventTypes", *MEMBER_RESOURCES, "events", "capture", "queries")
"""What ``GET /epcis/`` lists (the bindings' ``200SupportedTopLevel``)."""
SUB_RESOURCES = ("events",)
"""What ``GET /epcis/{resource}/{value}`` lists."""


def collection(members: Sequence[str]) -> dict[str, Any]:
    """A JSON-LD ``Collection`` of ``members``."""
    return {"@context": CONTEXT, "type": "Collection", "member": list(members)}


def page_params(resource: str, params: Mapping[str, str]) -> tuple[int, str | None]:
    """``perPage`` and the value after which the page starts, from ``nextPageToken``.
    Any other parameter is refused (the bindings define none for collections)."""
    unknown = sorted(set(params) - {"perPage", "nextPageToken"})
    if unknown:
        raise EpcisQueryError(unknown[0], f"not a parameter of /{resource}")
    per_page = parse_per_page(params["perPage"]) if "perPage" in params else DEFAULT_PER_PAGE
    token = params.get("nextPageToken")
    return per_page, None if token is None else _decode(resource, token)


def next_token(resource: str, members: Sequence[str], per_page: int) -> str | None:
    """The token of the page after ``members`` (``None`` when it was the last)."""
    if len(members) < per_page:
        return None
    raw = json.dumps([resource, members[-1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(resource: str, token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        name, after = json.loads(raw)
    except (ValueError, TypeError):
        raise EpcisQueryError("nextPageToken", "not a token this node issued") from None
    if name != resource or not isinstance(after, str):
        raise EpcisQueryError("nextPageToken", f"not a token of /{resource}")
    return after


__all__ = [
    "MEMBER_RESOURCES",
    "SUB_RESOURCES",
    "TOP_LEVEL",
    "collection",
    "next_token",
    "page_params",
]
