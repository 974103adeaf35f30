"""A worker dies with its supervisor: SIGKILL, asked for before the API is imported.

Why SIGKILL and why that early is in ``vntrace.node.workers._die_with_parent``: a worker
still starting up when the supervisor died held a listening socket whose queued
connections were reset seconds later (CI: ``/metrics`` reset right after a restart).
Both checks run in child processes, so the test process's own death signal is untouched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"
)

_READ_DEATH_SIGNAL = """
import ctypes
from vntrace.node.workers import _die_with_parent
_die_with_parent()
value = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
print(value.value)
"""

_ORPHANED_START = """
import multiprocessing, os, sys
from tests.node.test_workers_death_signal import orphaned_worker
child = multiprocessing.get_context("spawn").Process(target=orphaned_worker, args=(sys.argv[1],))
child.start()
os._exit(0)  # the supervisor dies while its worker is starting
"""


def orphaned_worker(report: str) -> None:
    """A spawned worker that reaches its app factory after its supervisor died."""
    import multiprocessing

    parent = multiprocessing.parent_process().pid  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.01)
    from vntrace.node import workers

    outcome = "served"
    try:
        workers.app()
    except SystemExit as exc:
        outcome = f"exit {exc.code}"
    Path(report).write_text(
        json.dumps({"outcome": outcome, "api_imported": "vntrace.api" in sys.modules})
    )


def test_the_death_signal_is_sigkill() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _READ_DEATH_SIGNAL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(out.stdout.strip()) == signal.SIGKILL


def test_a_worker_whose_supervisor_died_stops_before_importing_the_api(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", _ORPHANED_START, str(report)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=True,
    )
    deadline = time.monotonic() + 60
    while not report.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(report.read_text()) == {"outcome": "exit 1", "api_imported": False}
