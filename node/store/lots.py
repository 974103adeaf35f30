"""Lots and records: intake is one transaction per batch, idempotent by leaf."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, update

from . import rows
from .base import StoreBase, check_bytes, check_opt_bytes
from .clock import from_ms, to_ms
from .engine import insert_ignore
from .errors import ConflictError, InvalidInputError, NotFoundError
from .schema import disclosures, epochs, lots, producers, records
from .types import IntakeSignature, LotRow, NewRecord, RecordRow, RecordStatus

__all__ = ["LotsMixin"]

_IN_CHUNK = 500  # leaves per IN (...) lookup
# Built once: a single-bundle verification spent a third of its store read building it.
_INTAKE_SIGNATURES = (
    select(
        records.c.leaf,
        records.c.digest,
        records.c.signature,
        func.coalesce(records.c.custodian, producers.c.address),
    )
    .join_from(records, producers, records.c.producer_id == producers.c.id)
    .where(records.c.leaf.in_(bindparam("leaves", expanding=True)))
)


class LotsMixin(StoreBase):
    # -- lots ------------------------------------------------------------------------

    def create_or_get_lot(
        self, lot_key: bytes, gtin: str, lot_number: str, producer_id: int
    ) -> tuple[LotRow, bool]:
        """The lot with ``lot_key``, created if new; ``(row, created)``.

        A lot belongs to the producer who registered it: the same key from another
        producer, or with other GTIN/lot number, is a ConflictError.
        """
        lot_key = check_bytes("lot_key", lot_key, 32)
        if not gtin or not lot_number:
            raise InvalidInputError("a lot needs a GTIN and a lot number")

        def tx(conn: Connection) -> tuple[LotRow, bool]:
            # RETURNING tells "inserted" from "already there" on both backends (rowcount
            # does not: psycopg reports -1 for an INSERT with RETURNING).
            inserted = conn.execute(
                insert_ignore(conn, lots, ["lot_key"])
                .values(
                    lot_key=lot_key,
                    gtin=gtin,
                    lot_number=lot_number,
                    producer_id=producer_id,
                    created_at=self._now_ms(),
                )
                .returning(lots.c.id)
            ).first()
            row = _lot_or_raise(conn, lot_key)
            if row.producer_id != producer_id:
                raise ConflictError("the lot belongs to another producer")
            if (row.gtin, row.lot_number) != (gtin, lot_number):
                raise ConflictError("the lot key is stored with another GTIN or lot number")
            return row, inserted is not None

        return self._write(tx, "create lot")

    def get_lot(self, lot_key: bytes) -> LotRow | None:
        lot_key = check_bytes("lot_key", lot_key, 32)
        return self._read(lambda c: _lot(c, lot_key), "get lot")

    def list_lots(
        self, *, producer_id: int | None = None, after_id: int = 0, limit: int = 100
    ) -> list[LotRow]:
        """Lots in creation order, paged by ``after_id``."""
        stmt = select(lots).where(lots.c.id > after_id).order_by(lots.c.id).limit(limit)
        if producer_id is not None:
            stmt = stmt.where(lots.c.producer_id == producer_id)
        return self._read(lambda c: [rows.lot(r) for r in c.execute(stmt)], "list lots")

    def recall_lot(self, lot_key: bytes, reason: str, *, tx_hash: bytes | None = None) -> LotRow:
        """Mark a lot recalled (idempotent: the first recall time and reason are kept)."""
        lot_key = check_bytes("lot_key", lot_key, 32)
        values: dict[str, object] = {"recalled_at": self._now_ms(), "recall_reason": reason}

        def tx(conn: Connection) -> LotRow:
            conn.execute(
                update(lots)
                .where(lots.c.lot_key == lot_key, lots.c.recalled_at.is_(None))
                .values(**values)
            )
            row = _lot_or_raise(conn, lot_key)
            return _set_recall_tx(conn, row, tx_hash) if tx_hash is not None else row

        return self._write(tx, "recall lot")

    def mark_recall_onchain(self, lot_key: bytes, tx_hash: bytes) -> LotRow:
        """Remember the transaction that recorded the recall on chain."""
        lot_key = check_bytes("lot_key", lot_key, 32)

        def tx(conn: Connection) -> LotRow:
            row = _lot_or_raise(conn, lot_key)
            if row.recalled_at is None:
                raise ConflictError("the lot is not recalled")
            return _set_recall_tx(conn, row, tx_hash)

        return self._write(tx, "mark recall on chain")

    # -- records ---------------------------------------------------------------------

    def add_records(self, new: Sequence[NewRecord]) -> list[RecordRow]:
        """Store a batch in ONE transaction; rows come back in input order.

        Returning means committed (acknowledged = on disk). A leaf already stored, or
        repeated in the batch, is not inserted again: its existing row is returned.
        """
        checked = [(check_bytes("leaf", r.leaf, 32), self._record_values(r)) for r in new]
        if not checked:
            return []
        leaves = [leaf for leaf, _ in checked]
        batch: dict[bytes, dict[str, object]] = {}
        for leaf, values in checked:
            batch.setdefault(leaf, values)

        sealed = [
            {"leaf": r.leaf, "key_id": r.disclosures_key_id, "sealed": r.sealed_disclosures}
            for r in new
            if r.sealed_disclosures is not None
        ]
        if any(not d["key_id"] for d in sealed):
            raise InvalidInputError("sealed disclosures need the id of their key")

        def tx(conn: Connection) -> list[RecordRow]:
            conn.execute(insert_ignore(conn, records, ["leaf"]), list(batch.values()))
            if sealed:
                now = self._now_ms()
                conn.execute(
                    insert_ignore(conn, disclosures, ["leaf"]),
                    [{**d, "created_at": now} for d in sealed],
                )
            self._hook("add_records:inserted")
            stored = _records_by_leaves(conn, list(batch))
            return [stored[leaf] for leaf in leaves]

        return self._write(tx, "add records")

    def _record_values(self, r: NewRecord) -> dict[str, object]:
        received = r.received_at if r.received_at is not None else self._clock()
        return {
            "leaf": check_bytes("leaf", r.leaf, 32),
            "lot_id": r.lot_id,
            "producer_id": r.producer_id,
            "digest": check_bytes("digest", r.digest, 32),
            "salt": check_bytes("salt", r.salt, 32),
            "event_json": check_bytes("event_json", r.event_json),
            "signature": check_bytes("signature", r.signature, 65),
            "received_at": to_ms(received),
            "status": RecordStatus.PENDING.value,
            "custodian": check_opt_bytes("custodian", r.custodian, 20),
        }

    def get_sealed_disclosures(self, leaf: bytes) -> tuple[str, bytes] | None:
        """``(key_id, sealed blob)`` of a record's confidential fields, if it has any."""
        leaf = check_bytes("leaf", leaf, 32)
        stmt = select(disclosures.c.key_id, disclosures.c.sealed).where(disclosures.c.leaf == leaf)

        def tx(conn: Connection) -> tuple[str, bytes] | None:
            row = conn.execute(stmt).first()
            return None if row is None else (row.key_id, bytes(row.sealed))

        return self._read(tx, "get disclosures")

    def get_record(self, leaf: bytes) -> RecordRow | None:
        leaf = check_bytes("leaf", leaf, 32)
        return self._read(lambda c: _records_by_leaves(c, [leaf]).get(leaf), "get record")

    def get_records(self, leaves: Sequence[bytes]) -> dict[bytes, RecordRow]:
        """Stored records by leaf, in one read transaction (unknown leaves are absent)."""
        wanted = list(dict.fromkeys(check_bytes("leaf", leaf, 32) for leaf in leaves))
        if not wanted:
            return {}
        return self._read(lambda c: _records_by_leaves(c, wanted), "get records")

    def intake_signatures(self, leaves: Sequence[bytes]) -> dict[bytes, IntakeSignature]:
        """What intake checked of these stored records, by leaf, in one read: only the
        columns verification compares (a whole RecordRow per bundle cost ~10 µs more)."""
        wanted = list(dict.fromkeys(check_bytes("leaf", leaf, 32) for leaf in leaves))
        if not wanted:
            return {}

        def tx(conn: Connection) -> dict[bytes, IntakeSignature]:
            out: dict[bytes, IntakeSignature] = {}
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = {"leaves": wanted[i : i + _IN_CHUNK]}
                for leaf, digest, signature, signer in conn.execute(_INTAKE_SIGNATURES, chunk):
                    out[bytes(leaf)] = IntakeSignature(
                        bytes(digest), bytes(signature), bytes(signer)
                    )
            return out

        return self._read(tx, "get intake signatures")

    def list_records_by_lot(
        self, lot_key: bytes, *, after_id: int = 0, limit: int | None = None
    ) -> list[RecordRow]:
        """A lot's records in intake order, paged by ``after_id``."""
        lot_key = check_bytes("lot_key", lot_key, 32)
        stmt = (
            rows.select_records()
            .where(lots.c.lot_key == lot_key, records.c.id > after_id)
            .order_by(records.c.id)
            .limit(limit)
        )
        return self._read(lambda c: [rows.record(r) for r in c.execute(stmt)], "list records")

    def records_in_epoch(self, epoch: int) -> list[RecordRow]:
        """An epoch's records in leaf order."""
        stmt = rows.select_records().where(records.c.epoch == epoch).order_by(records.c.leaf_index)
        return self._read(lambda c: [rows.record(r) for r in c.execute(stmt)], "list records")

    def pending_count(self) -> int:
        stmt = select(func.count()).select_from(records).where(records.c.status == "pending")
        return self._read(lambda c: int(c.execute(stmt).scalar_one()), "count pending")

    def anchored_totals(self) -> tuple[int, int]:
        """``(epochs, records)`` anchored so far: the node's, whichever process anchored."""
        stmt = select(func.count(), func.coalesce(func.sum(epochs.c.record_count), 0)).where(
            epochs.c.status == "anchored"
        )

        def tx(conn: Connection) -> tuple[int, int]:
            count, total = conn.execute(stmt).one()
            return int(count), int(total)

        return self._read(tx, "count anchored")

    def oldest_pending_received_at(self) -> datetime | None:
        """Intake time of the oldest pending record (drives time-based sealing)."""
        stmt = (
            select(records.c.received_at)
            .where(records.c.status == "pending")
            .order_by(records.c.id)
            .limit(1)
        )

        def tx(conn: Connection) -> datetime | None:
            ms = conn.scalar(stmt)
            return None if ms is None else from_ms(ms)

        return self._read(tx, "oldest pending")


def _lot(conn: Connection, lot_key: bytes) -> LotRow | None:
    r = conn.execute(select(lots).where(lots.c.lot_key == lot_key)).first()
    return rows.lot(r) if r else None


def _lot_or_raise(conn: Connection, lot_key: bytes) -> LotRow:
    row = _lot(conn, lot_key)
    if row is None:
        raise NotFoundError(f"no lot 0x{lot_key.hex()}")
    return row


def _set_recall_tx(conn: Connection, row: LotRow, tx_hash: bytes) -> LotRow:
    tx_hash = check_bytes("tx_hash", tx_hash, 32)
    if row.recall_tx_hash not in (None, tx_hash):
        raise ConflictError("the recall is already recorded by another transaction")
    conn.execute(update(lots).where(lots.c.id == row.id).values(recall_tx_hash=tx_hash))
    return _lot_or_raise(conn, row.lot_key)


def _records_by_leaves(conn: Connection, leaves: list[bytes]) -> dict[bytes, RecordRow]:
    out: dict[bytes, RecordRow] = {}
    for i in range(0, len(leaves), _IN_CHUNK):
        stmt = rows.select_records().where(records.c.leaf.in_(leaves[i : i + _IN_CHUNK]))
        for r in conn.execute(stmt):
            rec = rows.record(r)
            out[rec.leaf] = rec
    return out
