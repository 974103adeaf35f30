"""What a lot's page derives from its events alone, kept while those events are the same.

The EUDR summary and the map of a cooperative lot (about 1,000 plots) cost tens of
milliseconds to derive (geometry checks, geodesic areas, simplification), and so does
reading every EPCIS event in the profile's terms (:func:`profile_provenance`); all
depend on nothing but the events' bytes, which never change once stored. The page keys
them by a hash of exactly those bytes (:func:`content_key`), so a changed byte in the
store (a tampered row) derives them afresh, while everything else about the records
(status, epoch, recall) is read, and the verdict recomputed, on every request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from vntrace.node.epcis.records import profile_provenance
from vntrace.node.profile import Profile

T = TypeVar("T")

MEMO_SIZE = 128
"""Derived values kept (each lot has a few: summary, map per language, profile events)."""


def content_key(event_bytes: Iterable[bytes]) -> bytes:
    """SHA-256 over the events' stored bytes, each length-prefixed, in page order."""
    h = hashlib.sha256()
    for raw in event_bytes:
        h.update(len(raw).to_bytes(8, "big"))
        h.update(raw)
    return h.digest()


class PageMemo:
    """A small thread-safe LRU of derived page values (one per app)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()  # outside the lock: two first requests may both build
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


@dataclass(frozen=True, slots=True)
class Derived:
    """One lot's entry into the memo: ``get(name, build)`` for that lot's bytes."""

    memo: PageMemo
    key: bytes

    def get(self, name: str, build: Callable[[], T]) -> T:
        return self.memo.get((self.key, name), build)


def derive(derived: Derived | None, name: str, build: Callable[[], T]) -> T:
    """``build()``, memoised when the page was given a :class:`Derived`."""
    return build() if derived is None else derived.get(name, build)


def memoised_profile_provenance(
    derived: Derived | None, profile: Profile, provenance: dict[str, Any]
) -> dict[str, Any]:
    """``profile_provenance(profile, provenance)``, its events kept in the memo.

    Only the events are kept (each record's event in the profile's terms is a function
    of its stored bytes); the records around them are ``provenance``'s, as read now.
    """
    if derived is None:
        return profile_provenance(profile, provenance)

    def events() -> tuple[Any, ...] | None:
        shown = profile_provenance(profile, provenance)
        if shown is provenance:
            return None  # no EPCIS event: the provenance is shown as it is
        return tuple(r["event"] for r in shown["records"])

    kept = derived.get("profile-events", events)
    if kept is None:
        return provenance
    records = provenance["records"]
    return {
        **provenance,
        "records": [{**r, "event": e} for r, e in zip(records, kept, strict=True)],
    }


__all__ = [
    "MEMO_SIZE",
    "Derived",
    "PageMemo",
    "content_key",
    "derive",
    "memoised_profile_provenance",
]
