"""The background loop that runs the pipeline, and what it tells the health checks.

The loop never lets a chain outage or a busy database stop the node: it logs, backs
off (doubling up to a ceiling) and tries again, while intake goes on. ``status`` says
when it last succeeded, so ``/readyz`` can report a stalled anchorer.

With a :class:`~.leader.Leadership` lock (several processes on one database), the loop
steps the pipeline only while it holds the lock, re-checked before every step; a
follower tries to take the lock every ``leader_retry`` seconds; ``status.is_leader``
says which one this process is. A follower's ``last_success_at`` stays unset (it
anchors nothing), so its readiness check still sees records that nobody anchors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vntrace.node.chain import ChainError
from vntrace.node.store.errors import StoreError
from vntrace.node.store.types import EpochRow

from .leader import Leadership
from .pipeline import AnchoringHaltedError, AnchoringPipeline

log = logging.getLogger("vntrace.anchoring")


@dataclass(slots=True)
class LoopStatus:
    """What the loop last did (read by health checks and metrics)."""

    started_at: float = field(default_factory=time.time)
    last_success_at: float | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    epochs_anchored: int = 0
    records_anchored: int = 0
    last_epoch_latency_s: float | None = None
    halted: bool = False
    is_leader: bool = False
    """True while this process is the active anchorer (always, without a lock)."""
    leader_since: float | None = None
    """When this process last became the active anchorer."""
    leadership: str | None = None
    """Which lock decides (``None``: no lock, this process always anchors)."""


class AnchoringLoop:
    """Runs :meth:`AnchoringPipeline.step` on a thread until stopped."""

    def __init__(
        self,
        pipeline: AnchoringPipeline,
        *,
        tick: float = 0.25,
        max_backoff: float = 15.0,
        leadership: Leadership | None = None,
        leader_retry: float = 2.0,
    ) -> None:
        self.pipeline = pipeline
        self.tick = tick
        self.max_backoff = max_backoff
        self.leadership = leadership
        self.leader_retry = leader_retry
        self.status = LoopStatus(leadership=leadership.describe() if leadership else None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listeners: list[Callable[[list[EpochRow]], None]] = []
        """Called with the epochs each step anchored (the log of epochs follows them).
        A failing listener is logged and never stops anchoring."""

    def notify(self, done: list[EpochRow]) -> None:
        """Tell the listeners about newly anchored epochs (also after ``anchor_now``)."""
        for listener in self.listeners:
            try:
                listener(done)
            except Exception:  # a follower's fault must never halt anchoring
                log.exception("an anchoring listener failed; anchoring goes on")

    def start(self) -> None:
        """Start the loop on a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="vntrace-anchoring", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop after its current step, and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop body; returns when :meth:`stop` is called or anchoring halts."""
        try:
            self._run()
        finally:
            if self.leadership is not None:
                self.leadership.release()
                self._set_leader(False)

    def _run(self) -> None:
        delay = self.tick
        while not self._stop.is_set():
            if not self._lead():
                self._stop.wait(self.leader_retry)
                continue
            try:
                began = time.monotonic()
                done = self.pipeline.step()
            except AnchoringHaltedError as exc:
                log.error("anchoring halted: %s", exc)
                self.status.last_error = str(exc)
                self.status.halted = True
                return
            except (ChainError, StoreError, TimeoutError) as exc:
                self.status.consecutive_failures += 1
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                delay = min(self.max_backoff, max(self.tick, delay * 2))
                log.warning("anchoring step failed (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                continue
            self.status.last_success_at = time.time()
            self.status.consecutive_failures = 0
            self.status.last_error = None
            if done:
                self.notify(done)
                self.status.epochs_anchored += len(done)
                self.status.records_anchored += sum(e.record_count for e in done)
                self.status.last_epoch_latency_s = time.monotonic() - began
            delay = self.tick
            self._stop.wait(self.tick)

    def _lead(self) -> bool:
        """Whether to step now: take or re-check the lock (always True without one)."""
        if self.leadership is None:
            self._set_leader(True)
            return True
        try:
            if self.status.is_leader:
                held = self.leadership.still_held()
            else:
                held = self.leadership.try_acquire()
        except Exception as exc:  # the lock's database is unreachable: not the leader
            self._set_leader(False)
            self.status.consecutive_failures += 1
            self.status.last_error = f"anchorer lock: {type(exc).__name__}: {exc}"
            log.warning("anchorer lock unavailable (%s); retrying", exc)
            return False
        self._set_leader(held)
        if not held:  # a healthy follower: the lock answered, another process anchors
            self.status.consecutive_failures = 0
            self.status.last_error = None
        return held

    def _set_leader(self, leader: bool) -> None:
        if leader == self.status.is_leader:
            return
        self.status.is_leader = leader
        if leader:
            self.status.leader_since = time.time()
            if self.leadership is not None:
                log.info("this process is now the active anchorer (%s)", self.status.leadership)
        elif self.leadership is not None:
            log.warning("this process is no longer the active anchorer")
