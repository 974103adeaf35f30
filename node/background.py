"""One background loop for the node's side jobs (witness pushes, webhook deliveries).

Such a job keeps everything it owes in the database, so its loop can be simple and
forgiving: run a round, sleep until kicked or ``interval`` seconds have passed, again
until stopped. A round that raises is logged and retried at the next wake-up (the job's
state is durable, nothing is lost by trying later); no failure ends the thread, and the
thread is a daemon, so it never holds the process open. Retry timing of individual items
(a delivery's backoff, say) stays the job's own business.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class BackgroundWorker:
    """A daemon thread running ``step`` now, on each :meth:`kick` and every ``interval`` s."""

    def __init__(
        self,
        step: Callable[[], object],
        *,
        name: str,
        interval: float,
        log: logging.Logger,
        failure: str,
    ) -> None:
        self.interval = interval
        """Seconds between rounds when nobody kicks (read before each wait)."""
        self._step = step
        self._name = name
        self._log = log
        self._failure = failure
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Run a round as soon as the current one (if any) is done."""
        self._wake.set()

    def start(self) -> None:
        """Start the thread (once: a started worker is left as it is)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float) -> None:
        """Ask the loop to end and wait up to ``timeout`` s for the round in progress."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # contained: the job's state is durable, the next round retries
                self._log.exception(self._failure)
            self._wake.wait(self.interval)
            self._wake.clear()


__all__ = ["BackgroundWorker"]
