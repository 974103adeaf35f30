"""kill -9 inside and between store transactions, on SQLite and on PostgreSQL.

A child process (``crash_child.py``) is killed with SIGKILL at chosen points; the
database is then reopened: what was acknowledged is there and no transaction is ever
half applied. On PostgreSQL the server sees the client's socket close and rolls the
open transaction back; on SQLite the WAL holds only committed frames.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vntrace.node.store import EpochStatus, RecordStatus, Store

from .helpers import assert_consistent, make_world

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[3]


def _prepare(url: str, pending: int = 0) -> None:
    with Store.open(url) as s:
        w = make_world(s)
        lots = [w.lot(name) for name in "ABC"]
        if pending:
            s.add_records([w.record(lots[i % 3], i) for i in range(pending)])


def _child(url: str, *args: str) -> list[str]:
    return [sys.executable, str(CHILD), url, *args]


def _run_child(url: str, *args: str) -> list[str]:
    proc = subprocess.run(_child(url, *args), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc.stdout.split()


def test_records_acknowledged_before_sigkill_are_there(store_url: str) -> None:
    _prepare(store_url)
    acked = _run_child(store_url, "add", "4")  # killed right after the 4th add_records
    assert len(acked) == 100
    with Store.open(store_url) as s:
        assert s.pending_count() == 100
        for leaf in acked:
            assert s.get_record(bytes.fromhex(leaf)) is not None


def test_records_acknowledged_before_an_external_sigkill_are_there(store_url: str) -> None:
    _prepare(store_url)
    proc = subprocess.Popen(_child(store_url, "add"), stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    acked = [proc.stdout.readline().strip() for _ in range(60)]
    proc.send_signal(signal.SIGKILL)  # somewhere in the middle of later batches
    rest, _ = proc.communicate(timeout=30)
    acked += rest.split()
    with Store.open(store_url) as s:
        stored = s.pending_count()
        assert stored >= len(acked) >= 60
        assert stored % 25 == 0  # whole batches only
        for leaf in acked:
            assert s.get_record(bytes.fromhex(leaf)) is not None
        assert_consistent(s)


def test_a_crash_before_commit_acknowledges_nothing(store_url: str) -> None:
    _prepare(store_url, pending=5)
    assert _run_child(store_url, "add-crash") == []
    with Store.open(store_url) as s:
        assert s.pending_count() == 5


@pytest.mark.parametrize("point", ["seal:selected", "seal:epoch_inserted", "seal:records_updated"])
def test_a_crash_inside_seal_leaves_no_epoch(store_url: str, point: str) -> None:
    _prepare(store_url, pending=30)
    _run_child(store_url, "seal", point)
    with Store.open(store_url) as s:
        assert s.latest_epoch() is None
        assert s.pending_count() == 30
        assert_consistent(s)
        epoch = s.seal_epoch(100)  # the anchorer simply seals again (no lock left behind)
        assert epoch is not None and (epoch.number, epoch.record_count) == (1, 30)
        assert_consistent(s)


def test_a_crash_right_after_seal_leaves_a_complete_epoch(store_url: str) -> None:
    _prepare(store_url, pending=30)
    assert _run_child(store_url, "seal", "never") == ["1"]
    with Store.open(store_url) as s:
        [epoch] = s.unfinished_epochs()
        assert (epoch.number, epoch.record_count, epoch.status) == (1, 30, EpochStatus.SEALED)
        assert s.pending_count() == 0
        assert len(s.epoch_tree(1)) == 59
        assert_consistent(s)


def test_a_crash_inside_mark_anchored_changes_nothing(store_url: str) -> None:
    _prepare(store_url, pending=10)
    with Store.open(store_url) as s:
        s.seal_epoch(100)
        s.record_signed_tx(1, b"raw", b"\x01" * 32, 0)
        s.mark_sent(b"\x01" * 32)
    _run_child(store_url, "anchor", "anchor:epoch_updated")
    with Store.open(store_url) as s:
        epoch = s.get_epoch(1)
        assert epoch is not None and epoch.status is EpochStatus.SENT
        assert {r.status for r in s.records_in_epoch(1)} == {RecordStatus.SEALED}
        assert_consistent(s)
        s.mark_anchored(1, b"\x01" * 32, 10, 1_700_000_000)  # resumes cleanly
        assert {r.status for r in s.records_in_epoch(1)} == {RecordStatus.ANCHORED}
        assert_consistent(s)
