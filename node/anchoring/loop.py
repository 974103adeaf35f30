"""The background loop that runs the pipeline, and what it tells the health checks.

The loop never lets a chain outage or a busy database stop the node: it logs, backs
off (doubling up to a ceiling) and tries again, while intake goes on. ``status`` says
when it last succeeded, so ``/readyz`` can report a stalled anchorer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from vntrace.node.chain import ChainError
from vntrace.node.store.errors import StoreError

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


class AnchoringLoop:
    """Runs :meth:`AnchoringPipeline.step` on a thread until stopped."""

    def __init__(
        self,
        pipeline: AnchoringPipeline,
        *,
        tick: float = 0.25,
        max_backoff: float = 15.0,
    ) -> None:
        self.pipeline = pipeline
        self.tick = tick
        self.max_backoff = max_backoff
        self.status = LoopStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        delay = self.tick
        while not self._stop.is_set():
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
                self.status.epochs_anchored += len(done)
                self.status.records_anchored += sum(e.record_count for e in done)
                self.status.last_epoch_latency_s = time.monotonic() - began
            delay = self.tick
            self._stop.wait(self.tick)
