"""One exception tree for everything the store raises.

Callers catch :class:`StoreError` for "the store said no" and the subclasses when they
act differently. No SQLAlchemy or driver exception escapes the store: each is mapped to
one of these (the original stays reachable as ``__cause__`` for logs).
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "SchemaVersionError",
    "StoreError",
    "StoreUnavailableError",
]


class StoreError(Exception):
    """Base of every error raised by ``vntrace.node.store``."""


class NotFoundError(StoreError, LookupError):
    """A mutation or proof names a row that does not exist."""


class ConflictError(StoreError):
    """The request contradicts stored state (duplicate unique value, wrong owner, state)."""


class InvalidInputError(StoreError, ValueError):
    """An argument has the wrong shape (a 31-byte leaf, an unknown role, a naive time)."""


class StoreUnavailableError(StoreError):
    """The database stayed locked or unreachable after the bounded retries: try later."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this code, or its migration history is unknown."""
