"""Producers and their lots: who may write, and into which lot.

A lot belongs to the producer that registered it first; only that producer (while
active) writes into it. Producers are registered on the node and, where the node holds
the admin key, in the registry contract too.
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
from vntrace.node.records import RecordError, lot_key, normalize_gtin, validate_lot
from vntrace.node.records.signing import address_bytes, to_checksum_address
from vntrace.node.store import errors as store_errors
from vntrace.node.store.types import LotRow, ProducerRow

from .context import NodeContext


def parse_address(address: str) -> bytes:
    """An Ethereum address as 20 bytes, or :class:`InvalidInputError`."""
    try:
        return address_bytes(address, "address")
    except (RecordError, ValueError) as exc:
        raise InvalidInputError(f"not an Ethereum address: {address!r}") from exc


def check_active(producer: ProducerRow) -> None:
    """Deactivated producers write nothing."""
    if not producer.active:
        raise ForbiddenError("this producer is deactivated")


class ProducerService:
    """Registers producers and lots, and says whose lot is whose."""

    def __init__(self, ctx: NodeContext) -> None:
        self._ctx = ctx

    def register_producer(
        self, address: str, name: str, metadata_uri: str | None = None
    ) -> ProducerRow:
        """Register a producer on the node and, where the node holds the admin key, on chain."""
        store, chain = self._ctx.store, self._ctx.chain
        raw = parse_address(address)
        if raw == bytes(20):  # the registry refuses it, and nobody holds its key
            raise InvalidInputError("the zero address cannot be a producer")
        try:
            row = store.get_producer_by_address(raw) or store.add_producer(raw, name, metadata_uri)
        except store_errors.InvalidInputError as exc:
            raise InvalidInputError(str(exc)) from exc
        if not row.registered_onchain and chain.admin_account is not None:
            checksum = to_checksum_address(raw)
            try:
                if chain.get_producer(checksum) is None:
                    result = chain.register_producer(checksum, metadata_uri or name)
                    row = store.mark_producer_onchain(row.id, result.tx_hash)
                else:
                    row = store.mark_producer_onchain(row.id, b"\x00" * 32)
            except ContractRevertError as exc:  # retrying will not help: not a 503
                raise ConflictError(f"registered on the node; the registry refused: {exc}") from exc
            except ChainError as exc:
                raise UnavailableError(f"registered on the node, not yet on chain: {exc}") from exc
        return row

    def producer(self, address: str) -> ProducerRow:
        """A registered producer by address."""
        row = self._ctx.store.get_producer_by_address(parse_address(address))
        if row is None:
            raise NotFoundError(f"no producer {address}")
        return row

    def lot_identity(self, gtin: str, lot: str) -> tuple[str, str, bytes]:
        """Normalised GTIN-14, lot number and lot key, checked against the profile."""
        try:
            gtin14 = normalize_gtin(gtin)
            lot = validate_lot(lot)
        except RecordError as exc:
            raise InvalidInputError(str(exc)) from exc
        profile = self._ctx.profile
        if not profile.accepts_gtin(gtin14):
            raise InvalidInputError(f"GTIN {gtin14} is not a product of profile {profile.id}")
        return gtin14, lot, lot_key(gtin14, lot)

    def register_lot(self, producer: ProducerRow, gtin: str, lot: str) -> tuple[LotRow, bool]:
        """Create the lot for ``producer`` (or return it if it is already theirs)."""
        check_active(producer)
        gtin14, lot, key = self.lot_identity(gtin, lot)
        try:
            return self._ctx.store.create_or_get_lot(key, gtin14, lot, producer.id)
        except store_errors.ConflictError as exc:
            raise ForbiddenError(f"lot {lot} of GTIN {gtin14} belongs to another producer") from (
                exc
            )

    def own_lot(self, producer: ProducerRow, gtin: str, lot: str) -> LotRow:
        """The producer's lot, created if new. A lot that is already the producer's is
        read, not written: a read transaction instead of a write one per batch."""
        check_active(producer)
        gtin14, lot, key = self.lot_identity(gtin, lot)
        row = self._ctx.store.get_lot(key)
        mine = row is not None and row.producer_id == producer.id
        if mine and row is not None and (row.gtin, row.lot_number) == (gtin14, lot):
            return row
        return self.register_lot(producer, gtin14, lot)[0]
