"""Recalls: a lot recalled on the node at once, and relayed to the registry.

The lot's producer may recall its own lot; the administrator (the regulator) any lot.
The node-side recall is what readers see immediately; the on-chain one is what a
consumer verifying against the chain sees. A failed relay is retried by recalling again.
"""

from __future__ import annotations

from vntrace.node.chain import ChainError, ContractRevertError
from vntrace.node.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from vntrace.node.store.types import LotRow, ProducerRow

from .context import NodeContext
from .producers import ProducerService


class RecallService:
    """Recalls lots on the node and on chain."""

    def __init__(self, ctx: NodeContext, producers: ProducerService) -> None:
        self._ctx = ctx
        self._producers = producers

    def recall(self, producer: ProducerRow | None, gtin: str, lot: str, reason: str) -> LotRow:
        """Recall a lot. ``producer`` is the caller when a producer recalls its own lot;
        ``None`` means the administrator."""
        store, chain = self._ctx.store, self._ctx.chain
        gtin14, lot, key = self._producers.lot_identity(gtin, lot)
        row = store.get_lot(key)
        if row is None:
            raise NotFoundError(f"no lot {lot} of GTIN {gtin14}")
        if producer is not None and row.producer_id != producer.id:
            raise ForbiddenError("only the lot's producer or the regulator may recall it")
        if not reason.strip():
            raise InvalidInputError("a recall needs a reason")
        if row.recalled_at is None:
            row = store.recall_lot(key, reason)
        if row.recall_tx_hash is None:
            try:
                result = chain.recall_lot(key, reason)
                row = store.mark_recall_onchain(key, result.tx_hash)
            except ContractRevertError as exc:
                if exc.error_name != "VntraceLotAlreadyRecalled":
                    raise ConflictError(f"recall refused on chain: {exc}") from exc
            except ChainError as exc:
                raise UnavailableError(f"recalled on the node, not yet on chain: {exc}") from exc
        return row
