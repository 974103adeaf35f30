"""A persistent py-evm database over LMDB.

py-evm ships only in-memory databases. :class:`LmdbAtomicDB` implements its
``BaseAtomicDB`` contract on one LMDB environment so the embedded chain survives
restarts. The property that matters for crash safety: what py-evm writes in one
``atomic_batch()`` lands in ONE LMDB write transaction, so a crash at any instant
leaves the old or the new state, never a torn mix.

With ``commit_keys`` (the embedded chain passes py-evm's canonical-head key) it
goes one step further and makes a whole *block* one transaction: writes outside
a batch, and batches that do not touch those keys (py-evm commits a
transaction's state before it mines the block), are held in memory and committed
together with the next batch that does (the block that moves the head). A crash
loses at most the unmined pending block, which nothing on disk refers to, and a
block costs one fsync instead of several.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import lmdb
from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB

__all__ = ["DEFAULT_MAP_SIZE", "LmdbAtomicDB"]

log = logging.getLogger(__name__)

#: Upper bound of the memory map (the file grows sparsely up to it): 64 GiB.
DEFAULT_MAP_SIZE: Final = 64 << 30

_DELETED: Final = None  # marker in the write-behind buffer


class LmdbAtomicDB(BaseAtomicDB):
    """py-evm ``BaseAtomicDB`` stored in an LMDB environment at ``path``.

    ``commit_keys``: see the module docstring. ``sync=True`` fsyncs on every
    commit (durable against power loss); ``sync=False`` keeps LMDB's atomicity and
    consistency (a process crash loses nothing committed, a machine crash may lose
    the last commits) and is faster.
    Not safe for concurrent use from several threads: the embedded chain
    serialises all access with its own lock.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        map_size: int = DEFAULT_MAP_SIZE,
        sync: bool = True,
        commit_keys: Collection[bytes] | None = None,
    ):
        self.path = Path(path)
        self._commit_keys = frozenset(commit_keys) if commit_keys is not None else None
        self.path.mkdir(parents=True, exist_ok=True)
        self._env: lmdb.Environment | None = lmdb.open(
            str(self.path),
            map_size=map_size,
            subdir=True,
            sync=sync,
            metasync=sync,
            readahead=False,
            max_dbs=0,
        )
        # Writes not yet in LMDB (unbatched ones, and batches held for ``commit_keys``).
        self._pending: dict[bytes, bytes | None] = {}

    # -- BaseDB ---------------------------------------------------------------

    @property
    def env(self) -> lmdb.Environment:
        if self._env is None:
            raise RuntimeError("LmdbAtomicDB is closed")
        return self._env

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        with self.env.begin(buffers=False) as txn:
            value = txn.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    # -- BaseAtomicDB ---------------------------------------------------------

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """Yield a readable write batch; on clean exit commit it in one LMDB transaction."""
        batch = _LmdbWriteBatch(self)
        try:
            yield batch
        except BaseException:
            log.debug("atomic batch dropped after an error")
            raise
        else:
            changes = batch.take_diff()
            if self._commit_keys is None or not self._commit_keys.isdisjoint(changes):
                self._commit(changes)
            else:
                self._pending.update(changes)
        finally:
            batch.shut()

    def flush(self) -> None:
        """Commit everything held in memory now (:meth:`close` does)."""
        self._commit({})

    def _commit(self, changes: dict[bytes, bytes | None]) -> None:
        if not changes and not self._pending:
            return
        with self.env.begin(write=True) as txn:
            for source in (self._pending, changes):
                for key, value in source.items():
                    if value is _DELETED:
                        txn.delete(key)
                    else:
                        txn.put(key, value)
        self._pending.clear()

    # -- lifecycle ------------------------------------------------------------

    def close(self) -> None:
        """Flush buffered writes and close the environment (idempotent)."""
        if self._env is None:
            return
        try:
            self.flush()
        finally:
            self._env.close()
            self._env = None

    def __enter__(self) -> LmdbAtomicDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _LmdbWriteBatch(AtomicDBWriteBatch):
    """py-evm's diff-tracking write batch, reading through to the LMDB store."""

    def __init__(self, db: LmdbAtomicDB) -> None:
        super().__init__(db)

    def take_diff(self) -> dict[bytes, bytes | None]:
        diff = self._diff()
        changes: dict[bytes, bytes | None] = dict.fromkeys(diff.deleted_keys(), _DELETED)
        changes.update(diff.pending_items())
        return changes

    def shut(self) -> None:
        # Same as py-evm: forbid use of the batch outside its context.
        self._track_diff = None
        self._write_target_db = None
