"""Time as the store keeps it: integer milliseconds since the Unix epoch, UTC.

Integers rather than ``DateTime(timezone=True)`` because SQLite has no time type (the
driver would hand back naive datetimes) and an integer sorts, compares and indexes the
same on every backend. Rows expose timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .errors import InvalidInputError

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; injectable for tests."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def to_ms(value: datetime) -> int:
    """Aware datetime -> integer epoch milliseconds (exact, no float rounding)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError("times must be timezone-aware")
    return (value - _EPOCH) // _MS


def from_ms(value: int) -> datetime:
    """Integer epoch milliseconds -> aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=value)


def opt_from_ms(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)
