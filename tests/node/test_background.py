"""``BackgroundWorker``: the loop behind the log's witness pushes and the EPCIS webhooks."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from vntrace.node.background import BackgroundWorker

log = logging.getLogger("tests.background")


class Rounds:
    """A step that counts its calls, signals each one and fails when told to."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls = 0
        self.fail_first = fail_first
        self.ran = threading.Event()

    def __call__(self) -> None:
        self.calls += 1
        self.ran.set()
        if self.calls <= self.fail_first:
            raise RuntimeError(f"round {self.calls} failed")

    def wait(self, timeout: float = 5.0) -> None:
        assert self.ran.wait(timeout), "the worker did not run a round"
        self.ran.clear()


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_runs_at_start_then_on_kick_not_before_the_interval() -> None:
    step = Rounds()
    worker = BackgroundWorker(step, name="bg-kick", interval=60.0, log=log, failure="x")
    worker.start()
    try:
        step.wait()
        assert step.calls == 1
        assert not step.ran.wait(0.2)  # sleeps: no round until kicked or 60 s pass
        worker.kick()
        step.wait()
        assert step.calls == 2
        assert [t.daemon for t in _threads("bg-kick")] == [True]
    finally:
        worker.stop(5.0)
    assert _threads("bg-kick") == []


def test_interval_paces_rounds_and_can_change() -> None:
    step = Rounds()
    worker = BackgroundWorker(step, name="bg-interval", interval=60.0, log=log, failure="x")
    worker.start()
    try:
        step.wait()
        worker.interval = 0.02
        worker.kick()  # the wait in progress used 60 s; the next one uses the new value
        step.wait()
        for _ in range(3):
            step.wait()  # no kick: rounds keep coming every 20 ms
        assert step.calls >= 5
    finally:
        worker.stop(5.0)


def test_a_failing_round_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    step = Rounds(fail_first=2)
    worker = BackgroundWorker(
        step, name="bg-fail", interval=0.01, log=log, failure="round failed; retrying"
    )
    with caplog.at_level(logging.ERROR, logger="tests.background"):
        worker.start()
        try:
            for _ in range(3):
                step.wait()
        finally:
            worker.stop(5.0)
    failures = [r for r in caplog.records if r.getMessage() == "round failed; retrying"]
    assert len(failures) == 2
    assert all(r.exc_info and "failed" in str(r.exc_info[1]) for r in failures)
    assert step.calls >= 3


def test_stop_waits_for_the_round_and_start_again_restarts() -> None:
    release = threading.Event()
    done: list[float] = []

    def slow() -> None:
        release.wait(5.0)
        done.append(time.monotonic())

    worker = BackgroundWorker(slow, name="bg-stop", interval=60.0, log=log, failure="x")
    worker.start()
    worker.start()  # a second start leaves the running thread alone
    assert len(_threads("bg-stop")) == 1
    threading.Timer(0.1, release.set).start()
    worker.stop(5.0)  # returns once the round in progress is over
    assert len(done) == 1 and _threads("bg-stop") == []

    step = Rounds()
    worker = BackgroundWorker(step, name="bg-restart", interval=60.0, log=log, failure="x")
    worker.start()
    step.wait()
    worker.stop(5.0)
    worker.start()  # stopped, then started: a fresh thread runs a round at once
    step.wait()
    worker.stop(5.0)
    assert step.calls == 2 and _threads("bg-restart") == []
