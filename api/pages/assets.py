"""The page's own CSS and JavaScript, served by the node (no CDN, no outside fonts).

Files are read once from the package and addressed with a content hash in the query
(``/assets/page.css?v=1a2b3c4d``), so browsers may cache them for a year and still see
a new version at once after an upgrade. Only the files listed here are served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..problems import Problem

_TYPES = {
    "page.css": "text/css; charset=utf-8",
    "label.css": "text/css; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    version: str


@cache
def asset(name: str) -> Asset:
    """A static file of the pages package (``KeyError`` if it is not one of ours)."""
    media_type = _TYPES[name]
    body = resources.files("vntrace.api.pages").joinpath("static", name).read_bytes()
    return Asset(body, media_type, hashlib.sha256(body).hexdigest()[:12])


def asset_url(name: str) -> str:
    """The cache-busting URL of an asset, for templates."""
    return f"/assets/{name}?v={asset(name).version}"


router = APIRouter(include_in_schema=False)


@router.get("/assets/{name}")
def get_asset(name: str, request: Request) -> Response:
    if name not in _TYPES:
        raise Problem(404, f"no asset {name}")
    item = asset(name)
    etag = f'"{item.version}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable"
        if request.query_params.get("v") == item.version
        else "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(item.body, media_type=item.media_type, headers=headers)
