"""The log's tables (migration 3) over the node store's engine: small, transactional.

Uses the store's own engine and transaction runner (retries, error mapping), so it
works on SQLite and PostgreSQL alike. Invariants it enforces:

- leaves are appended densely (``idx`` = epoch - 1) and never change;
- one checkpoint per size, never replaced: the log cannot sign two trees of one size,
  even after a crash between signing and storing (the stored one wins).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, update

from vntrace.node.store.base import TableStore
from vntrace.node.store.engine import insert_ignore, upsert
from vntrace.node.store.schema import (
    tlog_checkpoints,
    tlog_cosignatures,
    tlog_leaves,
    tlog_meta,
    tlog_witnesses,
)

from .errors import TlogError


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    idx: int
    epoch: int
    data: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    """The log-signed note (without cosignatures)."""


class LogStore(TableStore):
    """Reads and writes of the ``tlog_*`` tables."""

    def meta_once(self, key: str, value: str) -> str:
        """Set ``key`` unless set; return the stored value (first writer wins)."""

        def tx(conn: Connection) -> str:
            conn.execute(insert_ignore(conn, tlog_meta, ["key"]).values(key=key, value=value))
            return conn.execute(
                select(tlog_meta.c.value).where(tlog_meta.c.key == key)
            ).scalar_one()

        return self._tx(tx, write=True, what="log meta")

    def size(self) -> int:
        stmt = select(func.count()).select_from(tlog_leaves)
        return self._tx(lambda c: int(c.execute(stmt).scalar_one()), write=False, what="log size")

    def leaf_hashes(self, start: int = 0) -> list[bytes]:
        stmt = (
            select(tlog_leaves.c.hash).where(tlog_leaves.c.idx >= start).order_by(tlog_leaves.c.idx)
        )
        return self._tx(lambda c: list(c.scalars(stmt)), write=False, what="log leaves")

    def leaf(self, idx: int) -> StoredLeaf | None:
        stmt = select(tlog_leaves).where(tlog_leaves.c.idx == idx)

        def tx(conn: Connection) -> StoredLeaf | None:
            r = conn.execute(stmt).first()
            return StoredLeaf(r.idx, r.epoch, r.data, r.hash) if r else None

        return self._tx(tx, write=False, what="log leaf")

    def append(self, start: int, leaves: Sequence[StoredLeaf]) -> int:
        """Append leaves ``start, start+1, ...``; ones already there must be identical.

        Returns the log size afterwards. Idempotent, so a crash anywhere is harmless.
        """

        def tx(conn: Connection) -> int:
            size = int(conn.execute(select(func.count()).select_from(tlog_leaves)).scalar_one())
            if start > size:
                raise TlogError(f"cannot append at {start}: the log has {size} leaves")
            for leaf in leaves:
                if leaf.idx < size:
                    have = conn.execute(
                        select(tlog_leaves.c.data).where(tlog_leaves.c.idx == leaf.idx)
                    ).scalar_one()
                    if have != leaf.data:
                        raise TlogError(
                            f"epoch {leaf.epoch} no longer matches log leaf {leaf.idx}: "
                            "the anchored history changed under the log"
                        )
                    continue
                conn.execute(
                    tlog_leaves.insert().values(
                        idx=leaf.idx, epoch=leaf.epoch, data=leaf.data, hash=leaf.hash
                    )
                )
                size += 1
            return size

        return self._tx(tx, write=True, what="log append")

    def put_checkpoint(self, size: int, root: bytes, note: str) -> StoredCheckpoint:
        """Store the signed checkpoint for ``size`` unless one exists; return the stored one."""

        def tx(conn: Connection) -> StoredCheckpoint:
            conn.execute(
                insert_ignore(conn, tlog_checkpoints, ["size"]).values(
                    size=size, root=root, note=note, created_at=int(time.time() * 1000)
                )
            )
            return _checkpoint(conn, size)  # type: ignore[return-value]

        stored = self._tx(tx, write=True, what="log checkpoint")
        if stored.root != root:
            raise TlogError(f"the log already signed a different tree of size {size}")
        return stored

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        """The checkpoint of ``size`` (default: the largest)."""

        def tx(conn: Connection) -> StoredCheckpoint | None:
            if size is not None:
                return _checkpoint(conn, size)
            top = conn.execute(select(func.max(tlog_checkpoints.c.size))).scalar_one()
            return None if top is None else _checkpoint(conn, int(top))

        return self._tx(tx, write=False, what="log checkpoint")

    def checkpoint_sizes(self, at_least: int = 0) -> list[tuple[int, int]]:
        """``(size, cosignature count)`` of every checkpoint with size >= ``at_least``."""
        n = func.count(tlog_cosignatures.c.witness)
        stmt = (
            select(tlog_checkpoints.c.size, n)
            .select_from(
                tlog_checkpoints.outerjoin(
                    tlog_cosignatures, tlog_cosignatures.c.size == tlog_checkpoints.c.size
                )
            )
            .where(tlog_checkpoints.c.size >= at_least)
            .group_by(tlog_checkpoints.c.size)
        )
        return self._tx(
            lambda c: [(int(s), int(k)) for s, k in c.execute(stmt)], write=False, what="sizes"
        )

    def add_cosignature(self, size: int, witness: str, line: str, timestamp: int) -> None:
        def tx(conn: Connection) -> None:
            conn.execute(
                insert_ignore(conn, tlog_cosignatures, ["size", "witness"]).values(
                    size=size, witness=witness, line=line, timestamp=timestamp
                )
            )

        self._tx(tx, write=True, what="log cosignature")

    def cosignature_lines(self, size: int) -> list[tuple[str, str]]:
        """``(witness, signature line)`` collected for ``size``, by witness name."""
        stmt = (
            select(tlog_cosignatures.c.witness, tlog_cosignatures.c.line)
            .where(tlog_cosignatures.c.size == size)
            .order_by(tlog_cosignatures.c.witness)
        )
        return self._tx(lambda c: [tuple(r) for r in c.execute(stmt)], write=False, what="cosigs")

    def witness_size(self, witness: str) -> int:
        """The size ``witness`` last cosigned for this log (0 when never)."""
        stmt = select(tlog_witnesses.c.size).where(tlog_witnesses.c.witness == witness)
        return self._tx(lambda c: int(c.execute(stmt).scalar() or 0), write=False, what="witness")

    def set_witness(self, witness: str, *, size: int | None, error: str | None) -> None:
        """Record a witness's size (when known) and the last error (None: it answered)."""
        now = int(time.time() * 1000)

        def tx(conn: Connection) -> None:
            if size is None:
                done = conn.execute(
                    update(tlog_witnesses)
                    .where(tlog_witnesses.c.witness == witness)
                    .values(last_error=error, updated_at=now)
                ).rowcount
                if done:
                    return
            values = {"witness": witness, "size": size or 0, "last_error": error, "updated_at": now}
            conn.execute(upsert(conn, tlog_witnesses, ["witness"], values))

        self._tx(tx, write=True, what="witness state")

    def witness_states(self) -> dict[str, tuple[int, str | None]]:
        stmt = select(tlog_witnesses.c.witness, tlog_witnesses.c.size, tlog_witnesses.c.last_error)
        return self._tx(
            lambda c: {w: (int(s), e) for w, s, e in c.execute(stmt)}, write=False, what="witnesses"
        )


def _checkpoint(conn: Connection, size: int) -> StoredCheckpoint | None:
    r = conn.execute(select(tlog_checkpoints).where(tlog_checkpoints.c.size == size)).first()
    return StoredCheckpoint(int(r.size), r.root, r.note) if r else None
