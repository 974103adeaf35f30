"""The witness's HTTP binding (Starlette): the tlog-witness paths and nothing else.

- ``POST /add-checkpoint`` (submission prefix = the server root): 200 with the
  cosignature line(s) as ``text/plain``; 409 with ``text/x.tlog.size``; other
  refusals (400/403/404/413/422) as RFC 9457 ``application/problem+json``.
- ``GET /{sha256(origin) hex}/checkpoint`` (monitoring prefix = the root): the latest
  cosigned checkpoint, with the log's signature and this witness's cosignature.
- ``GET /``: the witness's name, vkey and the size it holds for each log (JSON).

Nothing here can answer 500 for a bad request: every refusal is a ProtocolError.
"""

from __future__ import annotations

import hashlib
import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .core import MAX_BODY, Witness
from .errors import ConflictSizeError, ProtocolError

log = logging.getLogger("vntrace.witness")
TEXT = "text/plain; charset=utf-8"


def _problem(e: ProtocolError) -> Response:
    body = {"type": "about:blank", "title": e.title, "status": e.status, "detail": e.detail}
    return JSONResponse(body, status_code=e.status, media_type="application/problem+json")


def create_app(witness: Witness) -> Starlette:
    """The ASGI app serving ``witness``."""

    async def add_checkpoint(request: Request) -> Response:
        try:
            declared = request.headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
                raise ProtocolError(413, f"body larger than {MAX_BODY} bytes")
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    raise ProtocolError(413, f"body larger than {MAX_BODY} bytes")
            line = await run_in_threadpool(witness.add_checkpoint, body)
        except ConflictSizeError as e:
            return Response(f"{e.size}\n", status_code=409, media_type="text/x.tlog.size")
        except ProtocolError as e:
            log.info("refused add-checkpoint: %s %s", e.status, e.detail)
            return _problem(e)
        return Response(line, status_code=200, media_type=TEXT)

    async def monitor(request: Request) -> Response:
        note = await run_in_threadpool(witness.checkpoint_for, request.path_params["origin"])
        if note is None:
            return _problem(ProtocolError(404, "this witness never cosigned that log"))
        return PlainTextResponse(note, media_type=TEXT)

    async def about(request: Request) -> Response:
        latest = await run_in_threadpool(witness.state.all_latest)
        logs = [
            {
                "origin": origin,
                "originHash": hashlib.sha256(origin.encode()).hexdigest(),
                "logKeys": [v.vkey for v in witness.logs[origin]],
                "size": latest[origin].size if origin in latest else 0,
            }
            for origin in sorted(witness.logs)
        ]
        return JSONResponse({"name": witness.signer.name, "vkey": witness.vkey, "logs": logs})

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin:str}/checkpoint", monitor, methods=["GET"]),
            Route("/", about, methods=["GET"]),
        ]
    )
