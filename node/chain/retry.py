"""Bounded retries with exponential backoff and jitter for transient chain errors."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import ChainUnavailableError, TransientChainError

__all__ = ["RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; before try ``n`` (n >= 1) sleep a random time in
    ``[d/2, d]`` with ``d = min(max_delay, base_delay * 2**(n-1))`` ("equal jitter":
    it backs off for sure yet spreads out clients that failed together).

    Tests pass tiny delays; ``sleep`` and ``rng`` are injectable.
    """

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delays(self) -> Iterator[float]:
        """The sleeps between tries (``attempts - 1`` of them)."""
        for n in range(1, self.attempts):
            cap = min(self.max_delay, self.base_delay * 2 ** (n - 1))
            yield cap / 2 + self.rng.uniform(0, cap / 2)

    def call(self, fn: Callable[[], T], *, what: str = "chain request") -> T:
        """Run ``fn``; retry on :class:`TransientChainError`; after the last try raise
        :class:`ChainUnavailableError` chained to the last transient error."""
        delays = self.delays()
        while True:
            try:
                return fn()
            except TransientChainError as exc:
                delay = next(delays, None)
                if delay is None:
                    raise ChainUnavailableError(
                        f"{what} failed after {self.attempts} attempts: {exc}"
                    ) from exc
                self.sleep(delay)
