"""The suite's progress display and its time budget.

On a terminal the current phase is one status line, redrawn in place with the time
spent and the budget; elsewhere (CI logs, pipes) every phase is one plain line. The
budget scales the timed phases and lets the suite skip what no longer fits.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class Progress:
    """``say`` a phase (a line), ``note`` its detail (redrawn on a terminal)."""

    def __init__(
        self, budget: float | None = None, stream: TextIO | None = None, quiet: bool = False
    ) -> None:
        self.started = time.monotonic()
        self.budget = budget
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.phase = ""
        self.lines: list[str] = []
        self._drawn = False
        self._last_note = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _prefix(self) -> str:
        spent = _clock(self.elapsed)
        return f"[bench {spent}" + (f" / {_clock(self.budget)}]" if self.budget else "]")

    def say(self, phase: str) -> None:
        """Start a phase: printed as a line (and kept for the report's log)."""
        self.phase = phase
        self.lines.append(f"{_clock(self.elapsed)} {phase}")
        if self.quiet:
            return
        self._clear()
        print(f"{self._prefix()} {phase}", file=self.stream, flush=True)

    def note(self, detail: str) -> None:
        """Detail of the current phase: redrawn in place on a terminal, else dropped."""
        if self.quiet or not self.tty:
            return
        now = time.monotonic()
        if now - self._last_note < 0.2:
            return
        self._last_note = now
        text = f"{self._prefix()} {self.phase}: {detail}"
        self.stream.write("\r\x1b[2K" + text[:200])
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False

    def __call__(self, message: str) -> None:
        """Progress callback for code that takes ``Callable[[str], None]``."""
        self.say(message)


class Budget:
    """Seconds the whole run may take; phases ask what is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.seconds - self.elapsed

    def allows(self, needed: float) -> bool:
        """Whether ``needed`` more seconds fit."""
        return self.left() >= needed
