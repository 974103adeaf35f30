"""Per-caller request rate limit: a token bucket per API key, or per client address.

In memory and per process: it protects one gateway from one noisy caller, not a fleet
(put a shared limiter in front for that). The limit runs before authentication, so a
caller is its API key only once that key has authenticated here (:class:`KnownKeys`);
anything else, forged or unknown tokens included, counts against the client's address,
so inventing tokens cannot buy a fresh budget. Health, readiness and metrics are never
limited, so monitoring keeps working under load.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vntrace.node.store.keys import parse_token

from .problems import problem_response

EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
MAX_CALLERS = 10_000


class KnownKeys:
    """Key ids that authenticated in this process (bounded, most recent kept)."""

    def __init__(self, size: int = MAX_CALLERS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, key_id: str) -> None:
        with self._lock:
            self._ids[key_id] = None
            self._ids.move_to_end(key_id)
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ids


class TokenBuckets:
    """``rate`` tokens per second up to ``burst``; one request takes one token."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str, now: float | None = None) -> float:
        """0 if allowed, else the seconds to wait for the next token."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[caller] = (tokens, now)
            while len(self._buckets) > MAX_CALLERS:
                self._buckets.popitem(last=False)
            return wait


def caller_of(scope: Scope, known: KnownKeys) -> str:
    """``key:<id>`` for a key that authenticated before, else ``addr:<client address>``."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            parsed = parse_token(token.strip()) if scheme.lower() == "bearer" else None
            if parsed is not None and parsed[0] in known:
                return "key:" + parsed[0]
            break
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    """Answers 429 problem+json with ``Retry-After`` when a caller is over its rate."""

    def __init__(self, app: ASGIApp, rate: float, burst: int, known: KnownKeys) -> None:
        self.app = app
        self.known = known
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(caller_of(scope, self.known))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        response = problem_response(
            Request(scope),
            429,
            f"over the limit of {self.buckets.rate:g} requests per second "
            f"(burst {self.buckets.burst}); retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
        await response(scope, receive, send)
