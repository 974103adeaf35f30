"""The anchoring pipeline's durable steps: seal, record the signed tx, send, anchor.

Each step is one transaction and idempotent, so the anchorer can crash anywhere and
resume from :meth:`EpochsMixin.unfinished_epochs` and the outbox: a record is sealed
into exactly one epoch, an epoch is anchored once, a signed transaction is stored
before it is sent (so a resend reuses the same nonce and bytes).

Several processes may share one PostgreSQL database; one of them anchors at a time
(``vntrace.node.anchoring.leader``), but the store does not rely on that for
correctness: sealers are serialised by a transaction advisory lock, and the steps that
read an epoch and then change it lock its row first (``FOR UPDATE``), so two callers can
never seal the same record twice or anchor one epoch with two transactions. On SQLite
the ``BEGIN IMMEDIATE`` write lock already serialises every write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, func, insert, select, text, update

from vntrace.node import merkle

from . import rows
from .base import StoreBase, check_bytes, check_opt_bytes
from .errors import ConflictError, InvalidInputError, NotFoundError, StoreError
from .proofs import (
    BlobTree,
    TreeBuilder,
    TreeCache,
    check_tree,
    default_build,
    order_for_tree,
    split_tree,
)
from .schema import epochs, lots, outbox, records
from .types import (
    EpochRow,
    EpochStatus,
    LotMultiproof,
    OutboxRow,
    RecordProof,
    RecordRow,
    RecordStatus,
    TxStatus,
)

__all__ = ["EpochsMixin"]

_PENDING = RecordStatus.PENDING.value
_LIVE_TX = (TxStatus.SIGNED.value, TxStatus.SENT.value, TxStatus.MINED.value)


# pg_advisory_xact_lock key serialising sealers on PostgreSQL ("vntrace seal").
_PG_SEAL_LOCK = 0x766E_7472_7365
_PG_SEAL_UPDATE = text(
    "UPDATE records SET epoch = :n, leaf_index = v.idx, status = 'sealed' "
    "FROM unnest(CAST(:rids AS BIGINT[]), CAST(:idxs AS INTEGER[])) AS v(rid, idx) "
    "WHERE records.id = v.rid AND records.status = 'pending'"
)


def _by_rid(params: dict[str, int]) -> int:
    return params["rid"]


class EpochsMixin(StoreBase):
    _trees: TreeCache

    # -- sealing ---------------------------------------------------------------------

    def seal_epoch(self, max_records: int, build: TreeBuilder | None = None) -> EpochRow | None:
        """Seal up to ``max_records`` oldest pending records into epoch ``last + 1``.

        One transaction: select the pending records, order them by lot, build the tree,
        store it whole, point every record at its epoch and leaf index. A crash leaves
        either all of it or none of it. ``None`` when nothing is pending.
        """
        if max_records < 1:
            raise InvalidInputError("max_records must be at least 1")
        builder = build or default_build

        def tx(conn: Connection) -> EpochRow | None:
            stmt = (
                select(records.c.id, records.c.lot_id, records.c.leaf)
                .where(records.c.status == _PENDING)
                .order_by(records.c.id)
                .limit(max_records)
            )
            if conn.dialect.name == "postgresql":
                # Serialise sealers: a second one waits here and, READ COMMITTED giving
                # each statement a fresh snapshot, then sees the first one's epoch and
                # seals the next records under the next number instead of colliding.
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SEAL_LOCK})
                # Lock the chosen rows; never wait on a row another writer holds.
                stmt = stmt.with_for_update(skip_locked=True)
            pending = conn.execute(stmt).all()
            if not pending:
                return None
            self._hook("seal:selected")
            leaf_of = {r.id: bytes(r.leaf) for r in pending}
            order = order_for_tree([(r.id, r.lot_id) for r in pending])
            leaves = [leaf_of[rid] for rid in order]
            root, nodes = builder(leaves)
            check_tree(leaves, root, nodes)
            number = (conn.scalar(select(func.max(epochs.c.number))) or 0) + 1
            conn.execute(
                insert(epochs).values(
                    number=number,
                    root=root,
                    record_count=len(leaves),
                    tree=b"".join(nodes),
                    status=EpochStatus.SEALED.value,
                    sealed_at=self._now_ms(),
                )
            )
            self._hook("seal:epoch_inserted")
            if conn.dialect.name == "postgresql":
                # One statement over two arrays instead of one UPDATE per record
                # (sealing 20,000 records took 1.2 s instead of 2.4 s).
                conn.execute(
                    _PG_SEAL_UPDATE,
                    {"n": number, "rids": list(order), "idxs": list(range(len(order)))},
                )
            else:
                conn.execute(
                    update(records)
                    .where(records.c.id == bindparam("rid"), records.c.status == _PENDING)
                    .values(
                        epoch=number, leaf_index=bindparam("idx"), status=RecordStatus.SEALED.value
                    ),
                    # In id order, the order of the rows on disk.
                    sorted(({"rid": rid, "idx": k} for k, rid in enumerate(order)), key=_by_rid),
                )
            sealed = conn.scalar(
                select(func.count()).select_from(records).where(records.c.epoch == number)
            )
            if sealed != len(order):
                raise ConflictError("pending records changed while sealing; retry")
            self._hook("seal:records_updated")
            return _epoch(conn, number)

        return self._write(tx, "seal epoch")

    # -- the outbox and anchoring ----------------------------------------------------

    def record_signed_tx(self, epoch: int, raw_tx: bytes, tx_hash: bytes, nonce: int) -> OutboxRow:
        """Store a signed anchor transaction before it is sent (idempotent by hash)."""
        raw_tx = check_bytes("raw_tx", raw_tx)
        tx_hash = check_bytes("tx_hash", tx_hash, 32)

        def tx(conn: Connection) -> OutboxRow:
            ep = _epoch(conn, epoch, lock=True)
            existing = _outbox_by_hash(conn, tx_hash)
            if existing is not None:
                if existing.epoch != epoch or existing.raw_tx != raw_tx:
                    raise ConflictError("this transaction hash is stored for something else")
                return existing
            if ep.status is EpochStatus.ANCHORED:
                raise ConflictError(f"epoch {epoch} is already anchored")
            now = self._now_ms()
            conn.execute(
                insert(outbox).values(
                    epoch=epoch,
                    raw_tx=raw_tx,
                    tx_hash=tx_hash,
                    nonce=nonce,
                    status=TxStatus.SIGNED.value,
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            return _outbox_by_hash_or_raise(conn, tx_hash)

        return self._write(tx, "record signed tx")

    def mark_sent(self, tx_hash: bytes) -> OutboxRow:
        """The transaction was broadcast (again): count the attempt, epoch -> sent."""
        tx_hash = check_bytes("tx_hash", tx_hash, 32)

        def tx(conn: Connection) -> OutboxRow:
            row = _locked_outbox(conn, tx_hash)
            if row.status not in (TxStatus.SIGNED, TxStatus.SENT):
                raise ConflictError(f"transaction is {row.status}, not sendable")
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(
                    status=TxStatus.SENT.value,
                    attempts=outbox.c.attempts + 1,
                    updated_at=self._now_ms(),
                )
            )
            conn.execute(
                update(epochs)
                .where(epochs.c.number == row.epoch, epochs.c.status != EpochStatus.ANCHORED.value)
                .values(status=EpochStatus.SENT.value, tx_hash=tx_hash)
            )
            return _outbox_by_hash_or_raise(conn, tx_hash)

        return self._write(tx, "mark sent")

    def mark_mined(self, tx_hash: bytes) -> OutboxRow:
        """The transaction is in a block, waiting for confirmations."""
        return self._set_tx_status(tx_hash, TxStatus.MINED, None, "mark mined")

    def record_tx_error(self, tx_hash: bytes, error: str, *, failed: bool = False) -> OutboxRow:
        """Keep the last error of a transaction; ``failed=True`` retires it for good."""
        status = TxStatus.FAILED if failed else None
        return self._set_tx_status(tx_hash, status, error, "record tx error")

    def _set_tx_status(
        self, tx_hash: bytes, status: TxStatus | None, error: str | None, what: str
    ) -> OutboxRow:
        tx_hash = check_bytes("tx_hash", tx_hash, 32)

        def tx(conn: Connection) -> OutboxRow:
            row = _locked_outbox(conn, tx_hash)
            if row.status in (TxStatus.CONFIRMED, TxStatus.REPLACED) and status is not None:
                raise ConflictError(f"transaction is already {row.status}")
            values: dict[str, object] = {"updated_at": self._now_ms()}
            if status is not None:
                values["status"] = status.value
            if error is not None:
                values["last_error"] = error
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
            return _outbox_by_hash_or_raise(conn, tx_hash)

        return self._write(tx, what)

    def mark_anchored(
        self,
        epoch: int,
        tx_hash: bytes,
        block_number: int,
        block_timestamp: int,
        *,
        chain_id: int | None = None,
        contract: bytes | None = None,
    ) -> EpochRow:
        """The anchor is final: epoch and all its records -> anchored, in one transaction.

        The outbox row of ``tx_hash`` becomes confirmed and the epoch's other live
        transactions replaced. Repeating the call with the same hash is a no-op.
        """
        tx_hash = check_bytes("tx_hash", tx_hash, 32)
        contract = check_opt_bytes("contract", contract, 20)

        def tx(conn: Connection) -> EpochRow:
            ep = _epoch(conn, epoch, lock=True)  # a concurrent anchorer waits, then sees it
            if ep.status is EpochStatus.ANCHORED:
                if ep.tx_hash != tx_hash:
                    raise ConflictError(f"epoch {epoch} is anchored by another transaction")
                return ep
            now = self._now_ms()
            conn.execute(
                update(epochs)
                .where(epochs.c.number == epoch)
                .values(
                    status=EpochStatus.ANCHORED.value,
                    anchored_at=now,
                    tx_hash=tx_hash,
                    block_number=block_number,
                    block_timestamp=block_timestamp,
                    chain_id=chain_id,
                    contract=contract,
                )
            )
            self._hook("anchor:epoch_updated")
            conn.execute(
                update(records)
                .where(records.c.epoch == epoch)
                .values(status=RecordStatus.ANCHORED.value)
            )
            conn.execute(
                update(outbox)
                .where(outbox.c.tx_hash == tx_hash)
                .values(status=TxStatus.CONFIRMED.value, updated_at=now)
            )
            conn.execute(
                update(outbox)
                .where(
                    outbox.c.epoch == epoch,
                    outbox.c.tx_hash != tx_hash,
                    outbox.c.status.in_(_LIVE_TX),
                )
                .values(status=TxStatus.REPLACED.value, updated_at=now)
            )
            return _epoch(conn, epoch)

        return self._write(tx, "mark anchored")

    # -- reading epochs --------------------------------------------------------------

    def get_epoch(self, number: int) -> EpochRow | None:
        return self._read(lambda c: _epoch_or_none(c, number), "get epoch")

    def get_epoch_by_root(self, root: bytes) -> EpochRow | None:
        root = check_bytes("root", root, 32)

        def tx(conn: Connection) -> EpochRow | None:
            r = conn.execute(select(*rows.EPOCH_COLUMNS).where(epochs.c.root == root)).first()
            return rows.epoch(r) if r else None

        return self._read(tx, "get epoch")

    def latest_epoch(self) -> EpochRow | None:
        stmt = select(*rows.EPOCH_COLUMNS).order_by(epochs.c.number.desc()).limit(1)

        def tx(conn: Connection) -> EpochRow | None:
            r = conn.execute(stmt).first()
            return rows.epoch(r) if r else None

        return self._read(tx, "latest epoch")

    def list_epochs(
        self, *, status: EpochStatus | str | None = None, after: int = 0, limit: int = 100
    ) -> list[EpochRow]:
        stmt = (
            select(*rows.EPOCH_COLUMNS)
            .where(epochs.c.number > after)
            .order_by(epochs.c.number)
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(epochs.c.status == EpochStatus(status).value)
        return self._read(lambda c: [rows.epoch(r) for r in c.execute(stmt)], "list epochs")

    def unfinished_epochs(self) -> list[EpochRow]:
        """Sealed or sent but not anchored, oldest first: what the anchorer resumes."""
        stmt = (
            select(*rows.EPOCH_COLUMNS)
            .where(epochs.c.status.in_((EpochStatus.SEALED.value, EpochStatus.SENT.value)))
            .order_by(epochs.c.number)
        )
        return self._read(lambda c: [rows.epoch(r) for r in c.execute(stmt)], "unfinished")

    def outbox_for_epoch(self, epoch: int) -> list[OutboxRow]:
        """An epoch's signed transactions, oldest first."""
        stmt = select(outbox).where(outbox.c.epoch == epoch).order_by(outbox.c.id)
        return self._read(lambda c: [rows.outbox_row(r) for r in c.execute(stmt)], "outbox")

    def get_outbox(self, tx_hash: bytes) -> OutboxRow | None:
        tx_hash = check_bytes("tx_hash", tx_hash, 32)
        return self._read(lambda c: _outbox_by_hash(c, tx_hash), "outbox")

    def epoch_tree(self, number: int) -> list[bytes]:
        """The whole stored node array (root first)."""

        def tx(conn: Connection) -> list[bytes]:
            return split_tree(self._tree(conn, _epoch(conn, number)).blob)

        return self._read(tx, "epoch tree")

    def _tree(self, conn: Connection, ep: EpochRow) -> BlobTree:
        """The epoch's node array, from the cache or read once from its row."""
        blob = self._trees.get(ep.number, ep.root)
        if blob is None:
            raw = conn.scalar(select(epochs.c.tree).where(epochs.c.number == ep.number))
            if raw is None:
                raise StoreError(f"epoch {ep.number} has no stored tree")
            blob = bytes(raw)
            self._trees.put(ep.number, ep.root, blob)
        return BlobTree(blob)

    # -- proofs ----------------------------------------------------------------------

    def proof_for(self, leaf: bytes) -> RecordProof | None:
        """Inclusion proof of a record from its stored tree; ``None`` while pending.

        Slices the ``log2(n)`` siblings out of the stored (and cached) node array; the
        tree is never rebuilt. An unknown leaf is a NotFoundError.
        """
        leaf = check_bytes("leaf", leaf, 32)

        def tx(conn: Connection) -> RecordProof | None:
            r = conn.execute(rows.select_records().where(records.c.leaf == leaf)).first()
            if r is None:
                raise NotFoundError(f"no record 0x{leaf.hex()}")
            rec = rows.record(r)
            if rec.epoch is None or rec.leaf_index is None:
                return None
            ep = _epoch(conn, rec.epoch)
            tree = self._tree(conn, ep)
            index = len(tree) - 1 - rec.leaf_index
            if tree[index] != leaf:
                raise StoreError(f"stored tree of epoch {ep.number} does not hold this leaf")
            proof = merkle.get_proof(tree, index)
            return RecordProof(record=rec, epoch=ep, leaf_index=rec.leaf_index, proof=proof)

        return self._read(tx, "proof")

    def records_with_proofs(
        self, leaves: Sequence[bytes]
    ) -> dict[bytes, tuple[RecordRow, RecordProof | None]]:
        """Many records with their inclusion proofs (``None`` while pending), in ONE read
        transaction: each epoch row and stored tree is read once however many of the
        records it holds. Unknown leaves are absent from the answer."""
        wanted = list(dict.fromkeys(check_bytes("leaf", leaf, 32) for leaf in leaves))

        def tx(conn: Connection) -> dict[bytes, tuple[RecordRow, RecordProof | None]]:
            out: dict[bytes, tuple[RecordRow, RecordProof | None]] = {}
            eps: dict[int, tuple[EpochRow, BlobTree]] = {}
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                for r in conn.execute(rows.select_records().where(records.c.leaf.in_(chunk))):
                    rec = rows.record(r)
                    if rec.epoch is None or rec.leaf_index is None:
                        out[rec.leaf] = (rec, None)
                        continue
                    if rec.epoch not in eps:
                        ep = _epoch(conn, rec.epoch)
                        eps[rec.epoch] = (ep, self._tree(conn, ep))
                    ep, tree = eps[rec.epoch]
                    index = len(tree) - 1 - rec.leaf_index
                    if tree[index] != rec.leaf:
                        raise StoreError(f"stored tree of epoch {ep.number} does not hold a leaf")
                    proof = merkle.get_proof(tree, index)
                    out[rec.leaf] = (
                        rec,
                        RecordProof(record=rec, epoch=ep, leaf_index=rec.leaf_index, proof=proof),
                    )
            return out

        return self._read(tx, "records with proofs")

    def multiproof_for(self, lot_key: bytes, epoch: int) -> LotMultiproof:
        """One multiproof for all of a lot's records in an epoch (adjacent leaves)."""
        lot_key = check_bytes("lot_key", lot_key, 32)

        def tx(conn: Connection) -> LotMultiproof:
            recs = [
                rows.record(r)
                for r in conn.execute(
                    rows.select_records()
                    .where(lots.c.lot_key == lot_key, records.c.epoch == epoch)
                    .order_by(records.c.leaf_index)
                )
            ]
            if not recs:
                raise NotFoundError(f"lot 0x{lot_key.hex()} has no records in epoch {epoch}")
            return self._lot_multiproof(conn, epoch, recs)

        return self._read(tx, "multiproof")

    def multiproofs_of(self, recs: Sequence[RecordRow]) -> dict[int, LotMultiproof]:
        """:meth:`multiproof_for` of every epoch among ``recs`` (one lot's records, read
        already), in ONE read transaction that reads only the epochs and their trees."""
        by_epoch: dict[int, list[RecordRow]] = {}
        for r in recs:
            if r.epoch is not None and r.leaf_index is not None:
                by_epoch.setdefault(r.epoch, []).append(r)

        def tx(conn: Connection) -> dict[int, LotMultiproof]:
            return {n: self._lot_multiproof(conn, n, m) for n, m in sorted(by_epoch.items())}

        return self._read(tx, "multiproofs")

    def _lot_multiproof(
        self, conn: Connection, number: int, members: Sequence[RecordRow]
    ) -> LotMultiproof:
        ep = _epoch(conn, number)
        tree = self._tree(conn, ep)
        indices = [len(tree) - 1 - r.leaf_index for r in members if r.leaf_index is not None]
        mp = merkle.get_multiproof(tree, indices)
        by_leaf = {r.leaf: r for r in members}
        if set(mp.leaves) != set(by_leaf):
            raise StoreError(f"stored tree of epoch {number} does not hold the lot's leaves")
        return LotMultiproof(
            epoch=ep,
            records=[by_leaf[x] for x in mp.leaves],
            leaves=list(mp.leaves),
            proof=list(mp.proof),
            proof_flags=list(mp.proof_flags),
        )


def _epoch_or_none(conn: Connection, number: int, *, lock: bool = False) -> EpochRow | None:
    """The epoch row; ``lock`` takes its row lock (PostgreSQL ``FOR UPDATE``; SQLite's
    write transaction already holds the database lock and the clause is not emitted)."""
    stmt = select(*rows.EPOCH_COLUMNS).where(epochs.c.number == number)
    if lock:
        stmt = stmt.with_for_update()
    r = conn.execute(stmt).first()
    return rows.epoch(r) if r else None


def _epoch(conn: Connection, number: int, *, lock: bool = False) -> EpochRow:
    ep = _epoch_or_none(conn, number, lock=lock)
    if ep is None:
        raise NotFoundError(f"no epoch {number}")
    return ep


def _outbox_by_hash(conn: Connection, tx_hash: bytes) -> OutboxRow | None:
    r = conn.execute(select(outbox).where(outbox.c.tx_hash == tx_hash)).first()
    return rows.outbox_row(r) if r else None


def _locked_outbox(conn: Connection, tx_hash: bytes) -> OutboxRow:
    """An outbox row read under its epoch's row lock, so a concurrent ``mark_anchored``
    (which locks the epoch first too) cannot change it between this read and our
    update; taking the locks in one order (epoch, then outbox) avoids deadlocks."""
    row = _outbox_by_hash_or_raise(conn, tx_hash)
    if conn.dialect.name != "postgresql":
        return row
    _epoch(conn, row.epoch, lock=True)
    return _outbox_by_hash_or_raise(conn, tx_hash)


def _outbox_by_hash_or_raise(conn: Connection, tx_hash: bytes) -> OutboxRow:
    row = _outbox_by_hash(conn, tx_hash)
    if row is None:
        raise NotFoundError(f"no outbox transaction 0x{tx_hash.hex()}")
    return row
