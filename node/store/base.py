"""What every part of the store shares: the engine, the clock, transactions, checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine

from .clock import Clock, to_ms
from .engine import RetryPolicy, run_transaction
from .errors import InvalidInputError

T = TypeVar("T")

FaultHook = Callable[[str], None]
"""Called with a point name inside transactions (e.g. ``"seal:epoch_inserted"``).

For crash tests only: a hook that kills the process shows what a crash at that point
leaves behind. ``None`` in production.
"""


class StoreBase:
    """Transactions and small helpers for the store's parts (mixins of ``Store``)."""

    _engine: Engine
    _clock: Clock
    _retry: RetryPolicy
    fault_hook: FaultHook | None

    def _read(self, fn: Callable[[Connection], T], what: str) -> T:
        return run_transaction(self._engine, fn, write=False, retry=self._retry, what=what)

    def _write(self, fn: Callable[[Connection], T], what: str) -> T:
        return run_transaction(self._engine, fn, write=True, retry=self._retry, what=what)

    def _now_ms(self) -> int:
        return to_ms(self._clock())

    def _hook(self, point: str) -> None:
        if self.fault_hook is not None:
            self.fault_hook(point)


class TableStore:
    """Base of a feature's own tables kept beside ``Store`` (the log's, EPCIS's), on the
    store's engine: every read and write goes through the store's transaction runner
    (whole-transaction retries when the database is busy, driver errors mapped onto
    :class:`~vntrace.node.store.errors.StoreError` with ``what`` in the message), so
    these tables behave as the store's own on SQLite and PostgreSQL alike."""

    def __init__(self, engine: Engine, retry: RetryPolicy | None = None) -> None:
        self._engine = engine
        self._retry = retry or RetryPolicy()

    def _tx(self, fn: Callable[[Connection], T], *, write: bool, what: str) -> T:
        return run_transaction(self._engine, fn, write=write, retry=self._retry, what=what)


def check_bytes(name: str, value: object, size: int | None = None) -> bytes:
    """``value`` as bytes of ``size`` (any size when ``None``), else InvalidInputError."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidInputError(f"{name} must be bytes, got {type(value).__name__}")
    b = bytes(value)
    if size is not None and len(b) != size:
        raise InvalidInputError(f"{name} must be {size} bytes, got {len(b)}")
    return b


def check_opt_bytes(name: str, value: object, size: int) -> bytes | None:
    return None if value is None else check_bytes(name, value, size)
