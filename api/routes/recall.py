"""``POST /v1/lots/{gtin}/{lot}/recall``: the lot's producer or the administrator."""

from __future__ import annotations

from fastapi import APIRouter

from vntrace.node.store.types import Role

from ..body import JsonRoute
from ..deps import PrincipalDep, ProfileDep, RecallsDep
from ..problems import Problem
from ..schemas.lots import RecallCreate, RecallOut
from .common import lot_identity

router = APIRouter(prefix="/v1/lots", tags=["recall"], route_class=JsonRoute)


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


@router.post("/{gtin}/{lot:path}/recall", response_model=RecallOut)
def recall_lot(
    gtin: str,
    lot: str,
    body: RecallCreate,
    profile: ProfileDep,
    recalls: RecallsDep,
    principal: PrincipalDep,
) -> RecallOut:
    """Recall a lot on the node at once and in the on-chain registry.

    From then on every record of the lot verifies as `recalled`. Repeating a recall
    keeps the first one.
    """
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    if principal.role is Role.ADMIN:
        producer = None
    elif principal.producer is not None:
        producer = principal.producer
    else:
        raise Problem(403, "only the lot's producer or the administrator may recall it")
    row = recalls.recall(producer, gtin14, lot, body.reason)
    assert row.recalled_at is not None
    return RecallOut(
        gtin=row.gtin,
        lot=row.lot_number,
        lot_key=_hex(row.lot_key) or "",
        recalled_at=row.recalled_at,
        reason=row.recall_reason,
        onchain_tx_hash=_hex(row.recall_tx_hash),
    )
