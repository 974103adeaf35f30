"""Fault injection for crash tests: kill this process at a named point.

A node started with ``VNTRACE_FAULT_POINTS="after_sign:2"`` SIGKILLs itself the second
time the anchorer passes ``after_sign``, with no chance to clean up, exactly like a
power cut. The crash tests use it to stop a real node process at every step of the
pipeline and prove that, after a restart, every acknowledged record ends up anchored
exactly once. Unset (the default), :meth:`FaultPlan.hit` only counts.

Under ``vntrace serve --workers N`` the point kills the worker that reaches it. The plan
belongs to the workers of one start (each carries it): the supervisor starts
replacements without it (``node/workers.py``), since a replacement that inherited it
would die at the same point again, in a loop, and the node would never get past it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import Counter


class FaultPlan:
    """Named crash points, each with the hit number at which to die."""

    def __init__(self, spec: str | None = None) -> None:
        self._targets: dict[str, int] = {}
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            name, _, nth = item.rpartition(":") if item[-1:].isdigit() else (item, "", "")
            self._targets[name] = int(nth) if nth else 1

    @property
    def armed(self) -> bool:
        """True when some point is set to crash."""
        return bool(self._targets)

    def hit(self, point: str) -> None:
        """Pass ``point``; die there if this is the planned hit."""
        with self._lock:
            self._hits[point] += 1
            due = self._targets.get(point) == self._hits[point]
        if due:
            sys.stderr.write(f"fault injection: SIGKILL at {point}\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def hits(self, point: str) -> int:
        """How often ``point`` was passed."""
        return self._hits[point]
