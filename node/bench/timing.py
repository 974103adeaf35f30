"""Timing helpers: best of several short rounds, since the machine is shared and noisy.

The best round is the least disturbed one; an average would mostly measure the
neighbours. Rates are units (leaves, proofs, calls) per second of ``perf_counter``.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import sha3


@dataclass(frozen=True, slots=True)
class Rate:
    """The best round: ``units`` done in ``seconds`` (``per_sec = units / seconds``)."""

    per_sec: float
    units: int
    seconds: float
    rounds: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def best_seconds(fn: Callable[[], object], rounds: int) -> float:
    """Seconds of the fastest of ``rounds`` calls of ``fn`` (the least disturbed one)."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def best_rate(round_fn: Callable[[], int], rounds: int) -> Rate:
    """Run ``round_fn`` (returns the units it did) ``rounds`` times; keep the fastest.

    The collector runs between rounds, not inside them, but stays enabled: the node
    runs with it too.
    """
    best: tuple[float, int, float] | None = None
    for _ in range(max(1, rounds)):
        gc.collect()
        start = time.perf_counter()
        units = round_fn()
        seconds = time.perf_counter() - start
        rate = units / seconds if seconds > 0 else float("inf")
        if best is None or rate > best[0]:
            best = (rate, units, seconds)
    assert best is not None
    return Rate(best[0], best[1], best[2], max(1, rounds))


def repeats_for(fn: Callable[[], object], round_seconds: float) -> int:
    """How many calls of ``fn`` fill about ``round_seconds`` (at least one)."""
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return max(1, int(round_seconds / max(once, 1e-7)))


def keccak_reference(calls: int, rounds: int) -> Rate:
    """Raw ``sha3.keccak_256`` calls/s on 64-byte input: the cost of one tree level."""
    data = os.urandom(64)
    k = sha3.keccak_256

    def run() -> int:
        for _ in range(calls):
            k(data).digest()
        return calls

    return best_rate(run, rounds)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of ``values``, interpolated linearly; None if empty."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summarize(seconds: list[float]) -> dict[str, Any]:
    """Count, mean and p50/p95/p99/max of durations, in milliseconds."""
    if not seconds:
        return {"count": 0}
    ms = [s * 1000.0 for s in seconds]
    return {
        "count": len(ms),
        "mean_ms": sum(ms) / len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }
