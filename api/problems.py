"""RFC 9457 problem details: every error the gateway sends, in one shape.

Each kind of problem has a stable ``type`` URI under :data:`TYPE_BASE` (clients match on
it, people read ``title`` and ``detail``); field errors go in the ``errors`` extension
as ``{field, message, code}`` (plus ``index`` for batch items). The handlers here map
the node's error trees (service, store, records, chain) so that bad input never turns
into a 500, and anything unexpected becomes a generic 500 with the traceback logged,
never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vntrace.node import errors as node_errors
from vntrace.node.chain import ChainError, ContractRevertError
from vntrace.node.records import RecordError
from vntrace.node.store import errors as store_errors

log = logging.getLogger("vntrace.api")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://vntrace.example/problems/"

_SLUGS: dict[int, str] = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    406: "not-acceptable",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}
_TITLES: dict[int, str] = {
    400: "Malformed request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(HTTPException):
    """An error to answer with problem+json.

    A subclass of Starlette's ``HTTPException`` on purpose: FastAPI re-raises those
    untouched while it reads a body, where it would turn anything else into a bare 400.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.slug = slug or _SLUGS.get(status)
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors or [])
        self.extensions = extensions


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response; ``slug=""`` (or an unknown status) means ``about:blank``."""
    slug = _SLUGS.get(status) if slug is None else slug
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors:
        body["errors"] = list(errors)
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "events", 0, "salt")`` -> ``events[0].salt`` (what a client can find)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors()[:50]:
        loc = list(err.get("loc", ()))
        where = str(loc.pop(0)) if loc and loc[0] in ("body", "query", "path", "header") else ""
        item: dict[str, Any] = {
            "field": field_path(loc),
            "message": err.get("msg", "invalid"),
            "code": err.get("type", "invalid"),
        }
        if where:
            item["in"] = where
        out.append(item)
    return out


def _node_slug(exc: node_errors.NodeError) -> str | None:
    return _SLUGS.get(exc.status)


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status_code,
            str(exc.detail),
            slug=exc.slug,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's own (404 no route, 405 wrong method): plain HTTP, so about:blank.
        detail = str(exc.detail)
        if exc.status_code == 404:
            detail = f"nothing at {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(request, exc.status_code, detail, slug="", headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        where = first["field"] or first.get("in", "request")
        detail = f"{where}: {first['message']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem_response(request, 422, detail, errors=errors)

    @app.exception_handler(node_errors.NodeError)
    async def _node(request: Request, exc: node_errors.NodeError) -> JSONResponse:
        if exc.status >= 500 and not isinstance(exc, node_errors.UnavailableError):
            log.error("node error on %s: %s", request.url.path, exc.detail)
        headers = {**exc.headers, **({"Retry-After": "5"} if exc.status == 503 else {})}
        return problem_response(
            request,
            exc.status,
            exc.detail,
            slug=_node_slug(exc),
            title=exc.title,
            errors=exc.errors,
            headers=headers or None,
            **exc.extensions,
        )

    @app.exception_handler(store_errors.StoreError)
    async def _store(request: Request, exc: store_errors.StoreError) -> JSONResponse:
        status = {
            store_errors.NotFoundError: 404,
            store_errors.ConflictError: 409,
            store_errors.InvalidInputError: 422,
            store_errors.StoreUnavailableError: 503,
        }.get(type(exc), 503)
        if status == 503:
            log.warning("store unavailable on %s: %s", request.url.path, exc)
            return problem_response(
                request,
                503,
                "the database is unavailable; try again shortly",
                headers={"Retry-After": "5"},
            )
        return problem_response(request, status, str(exc))

    @app.exception_handler(RecordError)
    async def _record(request: Request, exc: RecordError) -> JSONResponse:
        return problem_response(request, 422, str(exc))

    @app.exception_handler(ChainError)
    async def _chain(request: Request, exc: ChainError) -> JSONResponse:
        if isinstance(exc, ContractRevertError):
            return problem_response(request, 409, f"the registry refused: {exc}")
        log.warning("chain unavailable on %s: %s", request.url.path, exc)
        return problem_response(
            request,
            503,
            "the chain is unavailable; try again shortly",
            headers={"Retry-After": "5"},
        )


class CatchAllMiddleware:
    """Turn an unexpected exception into a generic 500 problem, logging the traceback.

    Sits just inside Starlette's ServerErrorMiddleware, which would log it again and
    re-raise; here it stops, so the client gets problem+json and the log one traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = problem_response(
                Request(scope), 500, "the node failed to handle this request; the error was logged"
            )
            await response(scope, receive, send)
