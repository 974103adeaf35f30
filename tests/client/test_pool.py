"""The offline checks of a batch on several processes (``vntrace.client._pool``): the
same verdict for every bundle as in one process, whatever the batch holds and whatever
happens to the workers."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vntrace.client import VerificationResult, _pool, verify_bundles, verify_bundles_async
from vntrace.client._facts import Pins
from vntrace.client.verify import PREFETCH_FROM
from vntrace.client.witness import WitnessPolicy
from vntrace.node.tlog.note import ED25519, Verifier

from .conftest import Node, Producer, anchored_lot, clean_env
from .fake_chain import make_bundle

KEY = Account.create().key
OTHER = Account.create().key
CHAIN_ID, REGISTRY = 424242, "0x" + "5A" * 20


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    """Each test starts without workers and leaves none behind."""
    _pool.shutdown()
    yield
    _pool.shutdown()


def _warm(processes: int = 2) -> _pool.Pool:
    pool = _pool.shared()
    assert pool is not None
    assert pool.start(processes - 1, timeout=60), "the worker did not start"
    return pool


def _until_a_worker_helps(pool: _pool.Pool, call: Any, expected: Any, tries: int = 20) -> None:
    """Repeat ``call`` (each answer must be ``expected``) until a worker did a chunk: the
    caller takes chunks too and may, on a busy machine, finish before a worker starts."""
    before = pool.chunks["worker"]
    for _ in range(tries):
        assert call() == expected
        if pool.chunks["worker"] > before:
            return
    raise AssertionError(f"no worker took part in {tries} calls")


# -- a mixed batch from a real node ------------------------------------------------------


def _tamper_event(b: dict[str, Any]) -> dict[str, Any]:
    b = copy.deepcopy(b)
    b["event"]["quantity"]["value"] += 100
    return b


def _tamper_proof(b: dict[str, Any]) -> dict[str, Any]:
    b = copy.deepcopy(b)
    b["proof"][0] = "0x" + bytes(a ^ 1 for a in bytes.fromhex(b["proof"][0][2:])).hex()
    return b


@pytest.fixture(scope="module")
def mixed(producer: Producer) -> tuple[list[Any], list[str | None]]:
    """Bundles of two lots anchored in two epochs, each also tampered with, plus junk."""
    first = anchored_lot(producer, 4)
    second = anchored_lot(producer, 3)
    client = producer.client
    a = [client.bundle(r) for r in first.record_ids]
    b = [client.bundle(r) for r in second.record_ids]
    assert len({x["epoch"] for x in a + b}) >= 2, "the two lots share an epoch"
    wrong_signature = dict(a[0], signature=a[1]["signature"])  # another record's signature
    items: list[Any] = [
        *a,
        *b,
        _tamper_event(a[1]),
        _tamper_proof(b[0]),
        wrong_signature,
        dict(a[2], root=None, proof=None, anchor=None, epoch=None),  # pending
        dict(b[1], salt="0xzz"),
        {k: v for k, v in a[3].items() if k != "event"},
        "not a bundle",
        42,
        None,
        [a[0]],
        {},
        {"leaf": "0x00"},
    ]
    ids: list[str | None] = [None] * len(items)
    ids[0] = a[0]["recordId"]  # the one asked for
    ids[1] = b[0]["recordId"]  # another one than asked for: leaf_mismatch
    reps = 24  # about 550 items: several chunks for the worker and for the caller
    unpicklable = dict(b[2], event=(x for x in ()))  # the caller does the chunk it is in
    return [*items * reps, unpicklable], [*ids * reps, None]


def test_one_process_and_two_agree_on_a_mixed_batch(
    node: Node, mixed: tuple[list[Any], list[str | None]]
) -> None:
    items, ids = mixed
    alone = verify_bundles(items, rpc_url=node.rpc_url, record_ids=ids, workers=1)
    reasons = {r for res in alone for r in res.reasons}
    assert {"digest_mismatch", "proof_mismatch", "bad_signature", "malformed"} <= reasons
    assert {"leaf_mismatch", "pending"} <= reasons
    assert {res.status for res in alone} == {"verified", "failed", "pending"}
    pool = _warm()
    _until_a_worker_helps(
        pool,
        lambda: verify_bundles(items, rpc_url=node.rpc_url, record_ids=ids, workers=2),
        alone,
    )
    assert [r.to_dict() for r in verify_bundles(items, rpc_url=node.rpc_url, record_ids=ids)] == [
        r.to_dict() for r in alone
    ]  # the default (automatic) too


def test_the_pool_is_reused_across_calls(mixed: tuple[list[Any], list[str | None]]) -> None:
    items, ids = mixed
    pool = _warm()
    pins = Pins()
    expected = _finished(_pool.local_jobs(items, pins, ids))
    pids = pool.workers()
    for _ in range(3):
        assert _finished(_pool.build_jobs(items, pins, ids, workers=2)) == expected
        assert _pool.shared() is pool
        assert pool.workers() == pids
    _until_a_worker_helps(
        pool, lambda: _finished(_pool.build_jobs(items, pins, ids, workers=2)), expected
    )
    assert pool.workers() == pids
    assert pool.chunks["caller"] > 0


def test_async_verification_agrees_and_leaves_the_loop_free(
    node: Node, mixed: tuple[list[Any], list[str | None]]
) -> None:
    items, ids = mixed
    alone = verify_bundles(items, rpc_url=node.rpc_url, record_ids=ids, workers=1)
    _warm()

    async def run() -> tuple[list[VerificationResult], int]:
        ticks = 0
        done = asyncio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        times = PREFETCH_FROM // len(items) + 1  # large enough to be checked off the loop
        ticker = asyncio.create_task(tick())
        try:
            many = await verify_bundles_async(
                items * times, rpc_url=node.rpc_url, record_ids=ids * times, workers=2
            )
        finally:
            done.set()
            await ticker
        assert many == alone * times
        results = await verify_bundles_async(items, rpc_url=node.rpc_url, record_ids=ids, workers=2)
        return results, ticks

    results, ticks = asyncio.run(run())
    assert results == alone
    assert ticks > 1  # the loop ran while the batch was checked (inline, it could not)


# -- whatever a batch holds --------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


def _finished(jobs: list[Any]) -> list[VerificationResult]:
    return [job.finish(None) for job in jobs]


@st.composite
def _items(draw: st.DrawFn) -> Any:
    """A genuine bundle, one with a field changed or removed, or any JSON value."""
    base = make_bundle(KEY, CHAIN_ID, REGISTRY)
    kind = draw(st.sampled_from(["genuine", "changed", "removed", "json"]))
    if kind == "json":
        return draw(_json)
    if kind == "changed":
        base[draw(st.sampled_from(sorted(base)))] = draw(_json)
    elif kind == "removed":
        del base[draw(st.sampled_from(sorted(base)))]
    return base


HEAVY = ("eth", "eth_tester", "web3", "fastapi", "starlette", "uvicorn", "sqlalchemy")


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    """One real worker process, spoken to directly (so every chunk reaches it); when it
    ends it writes which server packages it loaded (none may be)."""
    report = tmp_path_factory.mktemp("worker") / "modules"
    command = _pool._default_command()
    assert command[-2:] == ("-c", _pool._BOOT)
    tail = (
        f";open({str(report)!r},'w').write(repr(sorted("
        f"{{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    proc = subprocess.Popen(
        (*command[:-1], _pool._BOOT + tail), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    _pool._write(proc.stdin, _pool._path_message())
    hello = _pool._read(proc.stdout)
    assert hello is not None
    yield proc
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
    assert report.read_text() == "[]"  # it checked bundles with the light SDK only


def _through(worker: subprocess.Popen[bytes], items: list[Any], pins: Pins) -> list[Any]:
    import pickle

    assert worker.stdin is not None and worker.stdout is not None
    ids = [None] * len(items)
    _pool._write(worker.stdin, pickle.dumps((pins, items, ids)))
    answer = _pool._read(worker.stdout)
    assert answer is not None
    ok, jobs = pickle.loads(answer)
    assert ok, jobs
    batch = _pool._Batch.cut(items, pins, ids, processes=1)
    assert len(batch.bounds) == 1 and batch.attach(0, jobs)
    return jobs


_POLICY = WitnessPolicy(Verifier("log.example", ED25519, b"\x01" * 32).vkey)
_PINS = [
    Pins(),
    Pins(REGISTRY, CHAIN_ID),
    Pins("0x" + "11" * 20, 1),
    Pins(REGISTRY, CHAIN_ID, _POLICY, {"0x" + "ab" * 20: frozenset({"0x" + "cd" * 20})}),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(items=st.lists(_items(), min_size=1, max_size=6), which=st.sampled_from(range(4)))
def test_a_worker_builds_the_very_jobs_of_this_process(
    worker: subprocess.Popen[bytes], items: list[Any], which: int
) -> None:
    pins = _PINS[which]
    here = _pool.local_jobs(items, pins, [None] * len(items))
    there = _through(worker, items, pins)
    assert _finished(there) == _finished(here)
    assert [j.needs for j in there] == [j.needs for j in here]
    assert all(a.bundle is b.bundle for a, b in zip(there, here, strict=True) if a.bundle)


def test_shared_and_cyclic_objects_reach_the_same_verdicts() -> None:
    """Chunks are pickled without the memo: a cycle cannot be (the caller checks that
    chunk), and an object shared a million times over is pickled with the memo."""
    good = make_bundle(KEY, CHAIN_ID, REGISTRY)
    cyclic: dict[str, Any] = dict(good)
    cyclic["self"] = cyclic
    dag: list[Any] = []
    for _ in range(40):
        dag = [dag, dag]
    shared = dict(good, extra=dag)
    twice = dict(good, proof=good["proof"], extra=good["proof"])  # one list in two fields
    with pytest.raises(ValueError, match="cyclic"):
        _pool._request((Pins(), [cyclic], [None]))
    assert len(_pool._request((Pins(), [shared], [None]))) < 10_000
    items = [good, cyclic, good, shared, twice] * 40
    ids: list[str | None] = [None] * len(items)
    expected = _finished(_pool.local_jobs(items, Pins(), ids))
    assert {r.status for r in expected} == {"verified"}  # the chain is not asked here
    pool = _warm()
    _until_a_worker_helps(
        pool, lambda: _finished(_pool.build_jobs(items, Pins(), ids, workers=2)), expected
    )


# -- when the workers fail ---------------------------------------------------------------


def _offline_batch() -> tuple[list[Any], list[str | None], list[VerificationResult]]:
    good = make_bundle(KEY, CHAIN_ID, REGISTRY)
    bad = dict(make_bundle(OTHER, CHAIN_ID, REGISTRY), signature=good["signature"])
    items: list[Any] = [good, bad, "junk", {"event": 1}] * 100
    ids: list[str | None] = [None] * len(items)
    return items, ids, _finished(_pool.local_jobs(items, Pins(), ids))


def test_a_killed_worker_loses_no_verdict() -> None:
    items, ids, expected = _offline_batch()
    pool = _warm()
    (pid,) = pool.workers()
    os.kill(pid, signal.SIGKILL)
    assert _finished(_pool.build_jobs(items, Pins(), ids, workers=2)) == expected
    deadline = time.monotonic() + 30
    while pid in pool.workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.start(1, timeout=60)  # replaced
    (replacement,) = pool.workers()
    assert replacement != pid
    _until_a_worker_helps(
        pool, lambda: _finished(_pool.build_jobs(items, Pins(), ids, workers=2)), expected
    )


def test_a_hung_worker_is_replaced_by_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pool, "STALL_SECONDS", 1.5)
    items, ids, expected = _offline_batch()
    pool = _warm()
    (pid,) = pool.workers()
    os.kill(pid, signal.SIGSTOP)  # alive, holding its chunks, never answering
    try:
        began = time.monotonic()
        assert _finished(_pool.build_jobs(items, Pins(), ids, workers=2)) == expected
        assert time.monotonic() - began < 1.5  # it took its chunks back, no stall waited for
        time.sleep(1.6)
        assert _finished(_pool.build_jobs(items, Pins(), ids, workers=2)) == expected
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while pid in pool.workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid not in pool.workers()  # killed once it held a chunk too long


@pytest.mark.parametrize(
    "command",
    [
        ("/nonexistent/python",),  # cannot be started at all
        (sys.executable, "-c", "import sys; sys.exit(3)"),  # dies before it is ready
        (sys.executable, "-c", "import sys; sys.stdin.read(8); sys.stdout.write('garbage')"),
    ],
    ids=["no interpreter", "exits", "garbage"],
)
def test_workers_that_cannot_start_fall_back_to_this_process(
    monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setattr(_pool, "COMMAND", command)
    _pool.shutdown()
    items, ids, expected = _offline_batch()
    pool = _pool.shared()
    assert pool is not None
    for _ in range(_pool.MAX_FAILURES + 1):
        assert _finished(_pool.build_jobs(items, Pins(), ids, workers=2)) == expected
        deadline = time.monotonic() + 30
        while pool.workers() and time.monotonic() < deadline:  # let a started one fail
            time.sleep(0.05)
    assert pool.disabled and _pool.shared() is None
    assert pool.chunks["worker"] == 0
    assert _finished(_pool.build_jobs(items, Pins(), ids)) == expected  # still one process


def test_no_worker_from_an_interpreter_that_is_not_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An embedding server (uWSGI) or a frozen application would start itself."""
    monkeypatch.setattr(sys, "executable", "/usr/local/bin/uwsgi")
    items, ids, expected = _offline_batch()
    assert _pool.shared() is None
    assert _finished(_pool.build_jobs(items, Pins(), ids, workers=2)) == expected


def test_the_number_of_processes() -> None:
    assert _pool.processes_for(10_000, 1) == 1
    assert _pool.processes_for(10, 3) == 3
    assert _pool.processes_for(1, 3) == 1
    assert _pool.processes_for(_pool.THRESHOLD - 1, None) == 1
    cores = _pool.usable_cores()
    assert _pool.processes_for(_pool.THRESHOLD, None) == (cores if cores > 1 else 1)
    for bad in (0, -1, True, 1.5, "2"):
        with pytest.raises(ValueError, match="workers"):
            _pool.processes_for(10, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        verify_bundles([{}], rpc_url="http://unused", workers=0)


# -- what the workers do not do ----------------------------------------------------------


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    """multiprocessing's spawn would run this script again in every worker."""
    marks = tmp_path / "runs"
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path[:0] = {sys.path!r}
            from eth_account import Account
            from tests.client.fake_chain import make_bundle
            from vntrace.client import _pool
            from vntrace.client._facts import Pins
            with open({str(marks)!r}, "a") as f:
                f.write("ran\\n")
            items = [make_bundle(Account.create().key, 1, "0x" + "11" * 20)] * 400
            pool = _pool.shared()
            assert pool.start(1, timeout=60)
            for _ in range(20):
                jobs = _pool.build_jobs(items, Pins(), workers=2)
                if pool.chunks["worker"]:
                    break
            assert pool.chunks["worker"], "no worker took part"
            assert [j.finish(None) for j in jobs] == [
                j.finish(None) for j in _pool.local_jobs(items, Pins(), [None] * 400)
            ]
            """
        )
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=clean_env(), timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert marks.read_text() == "ran\n"


def test_a_forked_child_starts_its_own_workers(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        from eth_account import Account
        from tests.client.fake_chain import make_bundle
        from vntrace.client import _pool
        from vntrace.client._facts import Pins
        items = [make_bundle(Account.create().key, 1, "0x" + "11" * 20)] * 300
        expected = [j.finish(None) for j in _pool.local_jobs(items, Pins(), [None] * 300)]
        parent = _pool.shared()
        assert parent.start(1, timeout=60)
        mine = parent.workers()
        pid = os.fork()
        if pid == 0:
            child = _pool.shared()
            ok = child is not parent and child.start(1, timeout=60)
            ok = ok and not set(child.workers()) & set(mine)
            jobs = _pool.build_jobs(items, Pins(), workers=2)
            ok = ok and [j.finish(None) for j in jobs] == expected
            _pool.shutdown()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert parent.workers() == mine
        jobs = _pool.build_jobs(items, Pins(), workers=2)
        assert [j.finish(None) for j in jobs] == expected
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 0, run.stderr
