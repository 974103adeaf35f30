"""``/v1/log``: the witnessed log of anchored epochs (checkpoints, proofs, witnesses).

- ``GET /v1/log``: origin, the log's verifier key, size, witnesses and what they cosigned;
- ``GET /v1/log/checkpoint[?size=N]``: the C2SP signed checkpoint with the collected
  cosignatures, ``text/plain; charset=utf-8`` (what witnesses and clients parse);
- ``GET /v1/log/proof/inclusion?epoch=N[&size=M]``: epoch N's leaf and RFC 9162 path;
- ``GET /v1/log/proof/consistency?from=M&to=N``: RFC 9162 consistency proof, base64;
- ``GET /v1/log/epochs/{epoch}``: the ``log`` section a bundle carries for that epoch.

The node's ``LogService`` (``node.log``) answers; reads first fold in newly anchored
epochs (cheap, idempotent), so a read never lags the anchoring listener.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from vntrace.node.errors import NotFoundError
from vntrace.node.tlog.errors import TlogError
from vntrace.node.tlog.note import b64
from vntrace.node.tlog.service import LogService

router = APIRouter(prefix="/v1/log", tags=["log"])
log = logging.getLogger("vntrace.api")


def get_log(request: Request) -> LogService:
    """The node's LogService, synced with the anchored epochs."""
    service: LogService = request.app.state.node.log
    try:
        service.sync()
    except TlogError as e:  # serve what the log has; the anchored history is re-read later
        log.warning("log sync failed: %s", e.detail)
    return service


LogDep = Annotated[LogService, Depends(get_log)]
MAX_SIZE = 2**63 - 1
"""Sizes and epochs are signed 64-bit in the store (and u64 in C2SP notes)."""
Size = Annotated[int, Query(ge=1, le=MAX_SIZE)]
OptionalSize = Annotated[int | None, Query(ge=1, le=MAX_SIZE)]


@router.get("")
def log_status(service: LogDep) -> dict[str, Any]:
    """The log's origin and key, its size, and each witness's cosigned size."""
    return service.status()


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def checkpoint(service: LogDep, size: OptionalSize = None) -> PlainTextResponse:
    """The newest (or ``size``'s) signed checkpoint with its cosignatures."""
    return PlainTextResponse(service.checkpoint_note(size), media_type="text/plain; charset=utf-8")


@router.get("/proof/inclusion")
def inclusion(
    service: LogDep,
    epoch: Size,
    size: OptionalSize = None,
) -> dict[str, Any]:
    """Epoch ``epoch``'s leaf (153 bytes, base64) and its path to the root of ``size``."""
    return service.inclusion(epoch, size)


@router.get("/proof/consistency")
def consistency(
    service: LogDep,
    old: Annotated[int, Query(alias="from", ge=0, le=MAX_SIZE)],
    new: Annotated[int, Query(alias="to", ge=0, le=MAX_SIZE)],
) -> dict[str, Any]:
    """Proof that the log of size ``from`` is a prefix of the log of size ``to``."""
    proof = service.consistency(old, new)
    return {"from": old, "to": new, "proof": [b64(h) for h in proof]}


@router.get("/epochs/{epoch}")
def bundle_section(
    service: LogDep, epoch: Annotated[int, Path(ge=1, le=MAX_SIZE)]
) -> dict[str, Any]:
    """The ``log`` section for a bundle of epoch ``epoch`` (best-cosigned checkpoint)."""
    section = service.bundle_section(epoch)
    if section is None:
        raise NotFoundError(f"epoch {epoch} is not in the log yet")
    return section
