"""The ``Store``: the node's durable state behind typed methods.

Open it with :meth:`Store.open` (any supported URL) or :meth:`Store.for_data_dir`
(the embedded default, ``{data_dir}/vntrace.db``); both bring the schema up to date.
Every method is one transaction: when it returns, its writes are committed.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.engine import URL

from .base import FaultHook
from .clock import Clock, utc_now
from .custodial import CustodialMixin
from .engine import RetryPolicy, create_store_engine
from .epochs import EpochsMixin
from .errors import InvalidInputError
from .lots import LotsMixin
from .migrations import applied_versions, migrate
from .producers import ProducersMixin
from .proofs import TreeCache, tree_size
from .schema import epochs, outbox, records
from .state import StateMixin

__all__ = ["DB_FILENAME", "Store"]

DB_FILENAME = "vntrace.db"
TREE_CACHE_BYTES = 64 * 1024 * 1024
"""Default budget of the sealed-tree cache (a 100k-record epoch's tree is 6.4 MB)."""


class Store(ProducersMixin, LotsMixin, EpochsMixin, StateMixin, CustodialMixin):
    """Producers, API keys, lots, records, epochs, the outbox and small node state."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        fault_hook: FaultHook | None = None,
        tree_cache_bytes: int = TREE_CACHE_BYTES,
    ) -> None:
        """Wrap an engine made by :func:`create_store_engine` (prefer :meth:`open`)."""
        self._engine = engine
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._trees = TreeCache(tree_cache_bytes)
        self.fault_hook = fault_hook

    @classmethod
    def open(
        cls,
        url: str | URL,
        *,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        busy_timeout_ms: int = 5000,
        tree_cache_bytes: int = TREE_CACHE_BYTES,
        run_migrations: bool = True,
    ) -> Store:
        """Connect to ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``) and
        migrate it to the newest schema (refusing a database from a newer version)."""
        engine = create_store_engine(url, busy_timeout_ms=busy_timeout_ms)
        store = cls(engine, clock=clock, retry=retry, tree_cache_bytes=tree_cache_bytes)
        try:
            if run_migrations:
                migrate(engine, clock=clock, retry=store._retry)
        except BaseException:
            engine.dispose()
            raise
        return store

    @classmethod
    def for_data_dir(
        cls,
        data_dir: str | Path,
        *,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        busy_timeout_ms: int = 5000,
        tree_cache_bytes: int = TREE_CACHE_BYTES,
    ) -> Store:
        """The embedded default: SQLite (WAL) at ``{data_dir}/vntrace.db``, folder created."""
        path = Path(data_dir)
        if path.exists() and not path.is_dir():
            raise InvalidInputError(f"{path} is not a folder")
        path.mkdir(parents=True, exist_ok=True)
        url = URL.create("sqlite", database=str(path.resolve() / DB_FILENAME))
        return cls.open(
            url,
            clock=clock,
            retry=retry,
            busy_timeout_ms=busy_timeout_ms,
            tree_cache_bytes=tree_cache_bytes,
        )

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        self._trees.clear()
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def schema_version(self) -> int:
        """The newest applied migration (0 for an empty database)."""
        return self._read(lambda c: max(applied_versions(c), default=0), "schema version")

    def check_integrity(self) -> list[str]:
        """Cross-table invariants, for checks after a crash; empty means consistent.

        Every epoch has exactly ``record_count`` records, all in the state its own
        status implies, and a tree of ``2n - 1`` nodes; no record or outbox row names
        a missing epoch (foreign keys forbid it; this checks it independently).
        """

        def tx(conn: Connection) -> list[str]:
            problems: list[str] = []
            per_epoch = (
                select(
                    records.c.epoch,
                    func.count().label("n"),
                    func.sum(case((records.c.status == "anchored", 1), else_=0)).label("a"),
                )
                .where(records.c.epoch.is_not(None))
                .group_by(records.c.epoch)
                .subquery()
            )
            stmt = select(
                epochs.c.number,
                epochs.c.record_count,
                epochs.c.status,
                func.length(epochs.c.tree),
                func.coalesce(per_epoch.c.n, 0),
                func.coalesce(per_epoch.c.a, 0),
            ).outerjoin(per_epoch, per_epoch.c.epoch == epochs.c.number)
            for number, count, status, blob_len, n, anchored in conn.execute(stmt):
                if n != count:
                    problems.append(f"epoch {number}: {n} records, expected {count}")
                if blob_len != tree_size(count) * 32:
                    problems.append(f"epoch {number}: tree of {blob_len} bytes")
                if anchored != (n if status == "anchored" else 0):
                    problems.append(f"epoch {number} is {status} but {anchored} records anchored")
            for table in (records, outbox):
                orphans = conn.scalar(
                    select(func.count())
                    .select_from(table.outerjoin(epochs, table.c.epoch == epochs.c.number))
                    .where(table.c.epoch.is_not(None), epochs.c.number.is_(None))
                )
                if orphans:
                    problems.append(f"{orphans} {table.name} rows name a missing epoch")
            return problems

        return self._read(tx, "check integrity")
