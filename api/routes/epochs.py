"""``GET /v1/epochs`` and ``GET /v1/epochs/{number}``: roots and their anchors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from vntrace.node.errors import NotFoundError

from ..deps import ChainDep, StoreDep
from ..schemas.epochs import EpochList, EpochOut

router = APIRouter(prefix="/v1/epochs", tags=["epochs"])


@router.get("", response_model=EpochList)
def list_epochs(
    store: StoreDep,
    chain: ChainDep,
    after: Annotated[
        int,
        # Bounded: a number past a 64-bit integer overflowed the database (a 500).
        Query(ge=0, le=2**63 - 1, description="List epochs numbered above this."),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EpochList:
    """Epochs in ascending order, a page at a time."""
    rows = store.list_epochs(after=after, limit=limit)
    registry = chain.registry_address
    items = [EpochOut.of(r, registry) for r in rows]
    return EpochList(items=items, next_after=rows[-1].number if len(rows) == limit else None)


@router.get("/{number}", response_model=EpochOut)
def get_epoch(
    number: Annotated[int, Path(ge=0, le=2**63 - 1)], store: StoreDep, chain: ChainDep
) -> EpochOut:
    """One epoch: root, record count, anchor transaction and block."""
    row = store.get_epoch(number)
    if row is None:
        raise NotFoundError(f"no epoch {number}")
    return EpochOut.of(row, chain.registry_address)
