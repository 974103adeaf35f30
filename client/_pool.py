"""The offline checks of a large batch on every usable core.

:class:`~._checks.BundleJob` costs about 85 µs per bundle (RFC 8785, keccak, the Merkle
proof, an EIP-712 recovery), all under one GIL. For a batch of at least
:data:`THRESHOLD` bundles, when more than one core is usable, the caller and
``processes - 1`` worker processes build the jobs together: the batch is cut into a few
large chunks; workers take chunks from the front, the caller from the back (so it is
never idle, and it takes back a chunk a worker without a core holds too long), and a
chunk a worker cannot do (it died, hung, or the chunk cannot be pickled) is done by the
caller. Workers return the jobs without
their bundle (the caller re-attaches its own object), so every job, and so every
:class:`~.results.VerificationResult`, is the one the caller would have built itself.

The workers are plain ``python -c`` children (``subprocess``: fork+exec, safe with
threads and open httpx clients) speaking length-prefixed pickles over their stdin and
stdout, not :mod:`multiprocessing`: its ``spawn`` and ``forkserver`` children re-import
the caller's ``__main__`` script, so a script without an ``if __name__ == "__main__"``
guard would run again in every worker. A worker imports the light SDK only (the node
extra is not needed). The pool is created on first use, reused by later calls (and by
concurrent callers), grows to the most processes asked for, and is shut down at exit.
If a worker cannot start, the caller does the work; after :data:`MAX_FAILURES` failures
in a row the pool is not tried again in this process. Where ``sys.executable`` is not a
Python interpreter (a frozen application, an embedding server) no worker is started.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import io
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from vntrace.node.bundles import OfflineCheck

from ._checks import BundleJob
from ._facts import Needs, Pins

log = logging.getLogger("vntrace.client")

THRESHOLD = 256
"""Bundles from which ``workers=None`` uses the pool (when more than one core is usable):
about 20 ms of checks, well above the cost of handing chunks to a warm worker."""

MIN_CHUNK = 16
MAX_CHUNK = 128
CHUNKS_PER_PROCESS = 8
"""A batch is cut into about this many chunks per process (each of MIN_CHUNK to
MAX_CHUNK bundles, so an answer fits in a pipe's buffer): few enough that handing one
over is cheap, enough that the caller and the workers finish together."""

PATIENCE = 2.0
"""An idle caller takes back the chunk a worker is checking once the worker has been at
it this many times as long as the caller takes for a chunk: a worker is somewhat slower
(it unpickles and pickles too), one without a core is much slower."""

DEPTH = 2
"""Chunks a worker holds at once: the one it checks and the next, already in its pipe."""

STALL_SECONDS = 30.0
"""A worker holding one chunk this long is killed (the caller has long taken the chunk
back: it waits for a worker no longer than it would take to check the chunk itself)."""

MAX_FAILURES = 3
"""Workers that fail (cannot start, die, hang) in a row before the pool is given up."""

COMMAND: tuple[str, ...] | None = None
"""The command that starts a worker (``None``: this interpreter; tests replace it)."""

_BOOT = (
    "import sys,marshal;r=sys.stdin.buffer;n=int.from_bytes(r.read(8),'little');"
    "sys.path[:]=marshal.loads(r.read(n));"
    "from vntrace.client._pool import serve;serve()"
)
"""A worker's first lines: the caller's ``sys.path`` (as ``multiprocessing`` does), read
with builtins only so nothing is imported from the current folder before it is set."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def processes_for(count: int, workers: int | None) -> int:
    """How many processes check ``count`` bundles: ``workers`` when given (``1``: this
    one only), else every usable core for a batch of at least :data:`THRESHOLD`."""
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be None or a whole number >= 1, not {workers!r}")
        return workers if count > 1 else 1
    cores = usable_cores()
    return cores if cores > 1 and count >= THRESHOLD else 1


def local_jobs(
    bundles: Sequence[Any], pins: Pins, record_ids: Sequence[str | None]
) -> list[BundleJob]:
    """The jobs built in this process (the reference the pool must equal)."""
    return [BundleJob(b, pins, rid) for b, rid in zip(bundles, record_ids, strict=True)]


def build_jobs(
    bundles: Sequence[Any],
    pins: Pins,
    record_ids: Sequence[str | None] | None = None,
    workers: int | None = None,
) -> list[BundleJob]:
    """The :class:`BundleJob` of every bundle, in order, on up to :func:`processes_for`
    processes; the same jobs whichever way they were built."""
    items = list(bundles)
    ids = list(record_ids) if record_ids is not None else [None] * len(items)
    if len(ids) != len(items):
        raise ValueError("record_ids must have one entry per bundle")
    processes = processes_for(len(items), workers)
    pool = shared() if processes > 1 else None
    if pool is None:
        return local_jobs(items, pins, ids)
    return pool.build(items, pins, ids, processes)


# -- the worker side ---------------------------------------------------------------------


def _write(out: IO[bytes], payload: bytes) -> None:
    out.write(len(payload).to_bytes(8, "little") + payload)  # one write: one wake-up
    out.flush()


def _read(inp: IO[bytes]) -> bytes | None:
    head = inp.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    body = inp.read(size)
    if len(body) < size:
        return None
    return body


def serve() -> None:
    """A worker's loop: read ``(pins, bundles, record_ids)``, answer ``(True, jobs)``
    (bundles stripped) or ``(False, error)``; exit when the caller closes stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, never into the protocol
    _write(out, pickle.dumps(("ready", os.getpid())))
    while (message := _read(inp)) is not None:
        try:
            pins, bundles, ids = pickle.loads(message)
            jobs = local_jobs(bundles, pins, ids)
            for job in jobs:
                job.bundle = {}
            reply = _reply(jobs)
        except Exception as exc:  # the caller redoes the chunk and sees the error itself
            reply = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
        _write(out, reply)


def _by_fields(obj: Any) -> tuple[Any, tuple[Any, ...]]:
    return type(obj), tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


def _rebuilt_by_init(cls: type) -> bool:
    """Whether ``cls(*fields)`` rebuilds an instance exactly (a plain dataclass)."""
    return (
        dataclasses.is_dataclass(cls)
        and not hasattr(cls, "__post_init__")
        and all(f.init for f in dataclasses.fields(cls))
    )


_REDUCERS = {cls: _by_fields for cls in (OfflineCheck, Needs) if _rebuilt_by_init(cls)}
"""The dataclasses of a job, sent as their fields and rebuilt by their ``__init__``: the
caller unpickles a job a third faster than through ``dataclasses``' ``__setstate__``."""


def _reply(jobs: list[BundleJob]) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump((True, jobs))
    return out.getvalue()


# -- the caller side ---------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen[bytes]
    ready: bool = False
    dead: bool = False
    inflight: deque[tuple[_Batch, int]] = field(default_factory=deque)
    """Chunks sent (or being sent), in the order the worker answers them; the first is
    the one it is checking, the others wait in its input pipe."""
    since: float = 0.0
    """When the worker began its current chunk (for :data:`STALL_SECONDS`)."""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, payload: bytes) -> None:
        assert self.proc.stdin is not None
        _write(self.proc.stdin, payload)

    def receive(self) -> bytes:
        assert self.proc.stdout is not None
        answer = _read(self.proc.stdout)
        if answer is None:
            raise EOFError("the worker closed its output")
        return answer

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()


@dataclass(eq=False)
class _Batch:
    bundles: list[Any]
    pins: Pins
    ids: list[str | None]
    cap: int
    """At most this many workers help with the batch."""
    bounds: list[tuple[int, int]] = field(default_factory=list)
    pending: deque[int] = field(default_factory=deque)
    mine: deque[int] = field(default_factory=deque)
    """Chunks only the caller may do (a worker failed on them)."""
    running: dict[int, _Worker] = field(default_factory=dict)
    helpers: set[_Worker] = field(default_factory=set)
    results: list[list[BundleJob] | None] = field(default_factory=list)
    own_seconds: float = 0.0
    own_bundles: int = 0
    """The caller's own pace on this batch (when to take a chunk back from a worker)."""

    @classmethod
    def cut(cls, bundles: list[Any], pins: Pins, ids: list[str | None], processes: int) -> _Batch:
        n = len(bundles)
        size = max(MIN_CHUNK, -(-n // (CHUNKS_PER_PROCESS * processes)))
        size = max(1, min(MAX_CHUNK, size, -(-n // processes)))
        batch = cls(bundles, pins, ids, cap=processes - 1)
        batch.bounds = [(i, min(i + size, n)) for i in range(0, n, size)]
        batch.pending = deque(range(len(batch.bounds)))
        batch.results = [None] * len(batch.bounds)
        return batch

    def size(self, index: int) -> int:
        lo, hi = self.bounds[index]
        return hi - lo

    def compute(self, index: int) -> list[BundleJob]:
        lo, hi = self.bounds[index]
        return local_jobs(self.bundles[lo:hi], self.pins, self.ids[lo:hi])

    def attach(self, index: int, jobs: Any) -> bool:
        """Take a worker's jobs for chunk ``index``, each given the caller's own bundle."""
        lo, hi = self.bounds[index]
        if not isinstance(jobs, list) or len(jobs) != hi - lo:
            return False
        for job, bundle in zip(jobs, self.bundles[lo:hi], strict=True):
            if not isinstance(job, BundleJob):
                return False
            job.bundle = bundle if isinstance(bundle, dict) else {}
        self.results[index] = jobs
        return True


class Pool:
    """Worker processes shared by every caller of this process (see the module doc)."""

    def __init__(self, command: Sequence[str] | None = None) -> None:
        self.command = tuple(command) if command else _default_command()
        self.pid = os.getpid()
        self.disabled = False
        self.failures = 0
        self.closed = False
        self.chunks = {"worker": 0, "caller": 0, "taken_back": 0}
        """Chunks done by the workers, by callers, and by callers after a worker had
        them (for tests and the benchmark)."""
        self._cond = threading.Condition()
        self._workers: list[_Worker] = []
        self._batches: list[_Batch] = []

    # -- the callers --------------------------------------------------------------------

    def build(
        self, bundles: list[Any], pins: Pins, ids: list[str | None], processes: int
    ) -> list[BundleJob]:
        """The jobs of ``bundles``, built here and by up to ``processes - 1`` workers."""
        batch = _Batch.cut(bundles, pins, ids, processes)
        with self._cond:
            self._grow(processes - 1)
            self._batches.append(batch)
            self._cond.notify_all()
        try:
            while True:
                with self._cond:
                    index, wait = self._take(batch)
                    if index is None:
                        if not batch.running:
                            break
                        self._cond.wait(timeout=min(wait, 1.0, STALL_SECONDS))
                        continue
                    self.chunks["caller"] += 1
                began = time.perf_counter()
                batch.results[index] = batch.compute(index)
                batch.own_seconds += time.perf_counter() - began
                batch.own_bundles += batch.size(index)
        finally:
            with self._cond:
                self._batches.remove(batch)
        out: list[BundleJob] = []
        for chunk in batch.results:
            assert chunk is not None
            out += chunk
        return out

    def _take(self, batch: _Batch) -> tuple[int | None, float]:
        """The caller's next chunk: one given back, else the last one left, else one
        waiting behind another in a worker's pipe, else one a worker has been checking
        for :data:`PATIENCE` times as long as the caller takes for a chunk (a worker
        without a core). A chunk
        taken from a worker is checked twice; the first answer counts. Without a chunk:
        how long to wait before asking again."""
        if batch.mine:
            return batch.mine.popleft(), 0.0
        if batch.pending:
            return batch.pending.pop(), 0.0
        self._unstick()
        wait = 1.0
        now = time.monotonic()
        for worker in {*batch.running.values()}:
            for position, (owner, index) in enumerate(worker.inflight):
                if owner is not batch or batch.running.get(index) is not worker:
                    continue
                if position == 0 and batch.own_bundles:
                    left = batch.own_seconds / batch.own_bundles * batch.size(index) * PATIENCE
                    left -= now - worker.since
                    if left > 0:
                        wait = min(wait, left)
                        continue
                elif position == 0:
                    continue  # no measure of the caller's pace yet: wait for the worker
                del batch.running[index]
                self.chunks["taken_back"] += 1
                return index, 0.0
        return None, wait

    def _unstick(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            if worker.inflight and now - worker.since > STALL_SECONDS:
                log.debug("verification worker %s stalled; the caller takes over", worker.pid)
                worker.kill()  # its threads see the pipes close and give its chunks back

    # -- the workers --------------------------------------------------------------------

    def workers(self) -> list[int]:
        """The process ids of the live workers."""
        with self._cond:
            return [w.pid for w in self._workers if not w.dead]

    def start(self, workers: int, timeout: float = 30.0) -> bool:
        """Start ``workers`` workers now rather than at the first large batch, and wait
        up to ``timeout`` seconds until they are ready; ``True`` if they are."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._grow(workers)
            while sum(w.ready and not w.dead for w in self._workers) < workers:
                left = deadline - time.monotonic()
                if left <= 0 or self.disabled or self.closed or not self._workers:
                    return False
                self._cond.wait(left)
            return True

    def _grow(self, wanted: int) -> None:
        if self.disabled or self.closed:
            return
        while sum(not w.dead for w in self._workers) < wanted:
            try:
                proc = subprocess.Popen(
                    self.command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                )
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                log.debug("cannot start a verification worker: %s", exc)
                self._failed()
                return
            worker = _Worker(proc)
            self._workers.append(worker)
            threading.Thread(
                target=self._feed, args=(worker,), name=f"vntrace-verify-{proc.pid}", daemon=True
            ).start()

    def _failed(self) -> None:
        self.failures += 1
        if self.failures >= MAX_FAILURES and not self.disabled:
            self.disabled = True
            log.debug("verification workers failed %d times: checking in one process", MAX_FAILURES)

    def _next(self, worker: _Worker) -> tuple[_Batch, int] | None:
        for batch in self._batches:
            if batch.pending and (worker in batch.helpers or len(batch.helpers) < batch.cap):
                batch.helpers.add(worker)
                index = batch.pending.popleft()
                batch.running[index] = worker
                return batch, index
        return None

    def _feed(self, worker: _Worker) -> None:
        """A worker's writer thread: start it, then keep up to :data:`DEPTH` chunks in
        its pipe (it never waits for this process between two chunks)."""
        try:
            worker.send(_path_message())
            hello = pickle.loads(worker.receive())
            if not (isinstance(hello, tuple) and hello[0] == "ready"):
                raise EOFError("the worker did not say it is ready")
        except Exception as exc:
            self._lose(worker, f"did not start: {exc}")
            return
        with self._cond:
            worker.ready = True
            self._cond.notify_all()
        threading.Thread(
            target=self._drain, args=(worker,), name=f"vntrace-verify-{worker.pid}-r", daemon=True
        ).start()
        while True:
            with self._cond:
                while True:
                    if self.closed or worker.dead:
                        return
                    task = self._next(worker) if len(worker.inflight) < DEPTH else None
                    if task is not None:
                        break
                    self._cond.wait()
                if not worker.inflight:
                    worker.since = time.monotonic()
                worker.inflight.append(task)
            batch, index = task
            lo, hi = batch.bounds[index]
            try:
                payload = _request((batch.pins, batch.bundles[lo:hi], batch.ids[lo:hi]))
            except Exception:  # not picklable (any object may be in a batch): the caller's
                with self._cond:
                    worker.inflight.remove(task)
                    self._give_back(batch, index, worker)
                continue
            try:
                worker.send(payload)
            except Exception as exc:
                self._lose(worker, str(exc))
                return

    def _drain(self, worker: _Worker) -> None:
        """A worker's reader thread: each answer goes to the chunk it answers."""
        while True:
            try:
                answer = worker.receive()
            except Exception as exc:
                self._lose(worker, str(exc))
                return
            with self._cond:
                if not worker.inflight:  # an answer nobody asked for: not our protocol
                    break
                batch, index = worker.inflight.popleft()
                worker.since = time.monotonic()
            try:
                ok, body = pickle.loads(answer)
            except Exception:
                ok, body = False, None
            with self._cond:
                if batch.running.get(index) is worker:
                    del batch.running[index]
                    if ok and batch.attach(index, body):
                        self.failures = 0
                        self.chunks["worker"] += 1
                    else:
                        batch.mine.append(index)
                self._cond.notify_all()
        self._lose(worker, "it answered out of turn")

    def _give_back(self, batch: _Batch, index: int, worker: _Worker) -> None:
        """(Holding the lock) the caller does chunk ``index`` of ``batch``."""
        if batch.running.get(index) is worker:
            del batch.running[index]
            batch.mine.append(index)
        self._cond.notify_all()

    def _lose(self, worker: _Worker, why: str) -> None:
        """A worker failed: the caller does its chunks; it is ended and replaced next time."""
        worker.kill()
        with self._cond:
            if worker.dead:
                return  # its other thread already did this
            if not self.closed:
                log.debug("verification worker %s lost (%s)", worker.pid, why)
                self._failed()
            worker.dead = True
            if worker in self._workers:
                self._workers.remove(worker)
            while worker.inflight:
                self._give_back(*worker.inflight.popleft(), worker)
            self._cond.notify_all()
        _reap(worker.proc)

    # -- the end ------------------------------------------------------------------------

    def shutdown(self, timeout: float = 1.0) -> None:
        """End every worker: an idle one by closing its input, the others by a kill."""
        with self._cond:
            self.closed = True
            workers, self._workers = list(self._workers), []
            self._cond.notify_all()
        for worker in workers:
            if not worker.ready or worker.inflight:
                worker.kill()
            elif worker.proc.stdin is not None:
                try:
                    worker.proc.stdin.close()
                except OSError:
                    worker.kill()
        for worker in workers:
            _reap(worker.proc, timeout)

    def forget(self) -> None:
        """In a forked child: drop the parent's workers without touching them."""
        for worker in self._workers:
            for stream in (worker.proc.stdin, worker.proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError, ValueError):
                        os.close(stream.fileno())
        _FORGOTTEN.append(self)  # never collected: closing its files would flush them


FAST_LIMIT = 16 << 20
"""Bytes a chunk may take pickled without the memo before it is pickled with it."""


class _Bounded(io.BytesIO):
    def write(self, data: Any) -> int:
        if self.tell() + len(data) > FAST_LIMIT:
            raise OverflowError("too large without the memo")
        return super().write(data)


def _request(chunk: tuple[Pins, list[Any], list[str | None]]) -> bytes:
    """A chunk pickled without the memo (``Pickler.fast``): about 4x faster for bundles
    parsed from JSON, where every key is a string object of its own. Shared objects
    arrive as equal copies, which no check can tell apart (nothing in a check looks at
    identity or mutates a bundle). A cycle raises ``ValueError`` (the caller does that
    chunk); an object shared so often that its copies would blow up is caught by the
    size bound and pickled with the memo instead."""
    out = _Bounded()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(chunk)
    except OverflowError:
        return pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)
    return out.getvalue()


def _reap(proc: subprocess.Popen[bytes], timeout: float = 1.0) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _default_command() -> tuple[str, ...]:
    """This interpreter with its flags (``OSError`` where ``sys.executable`` is not a
    plain Python: a frozen application or an embedding server would start itself)."""
    if COMMAND:
        return tuple(COMMAND)
    name = os.path.basename(sys.executable or "").lower()
    if getattr(sys, "frozen", False) or not name.startswith(("python", "pypy")):
        raise OSError(f"no Python interpreter to start workers with ({sys.executable!r})")
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    return (sys.executable, *flags, "-c", _BOOT)


def _path_message() -> bytes:
    import marshal

    return marshal.dumps([p for p in sys.path if isinstance(p, str)])


# -- the pool of this process ------------------------------------------------------------

_SHARED: Pool | None = None
_LOCK = threading.Lock()
_FORGOTTEN: list[Pool] = []


def shared() -> Pool | None:
    """This process's pool, created on first use; ``None`` once it was given up."""
    global _SHARED
    with _LOCK:
        if _SHARED is not None and _SHARED.pid != os.getpid():
            _SHARED.forget()
            _SHARED = None
        if _SHARED is None:
            try:
                _SHARED = Pool()
            except OSError as exc:
                log.debug("no verification workers: %s", exc)
                return None
        return None if _SHARED.disabled else _SHARED


def shutdown() -> None:
    """End this process's pool (the next large batch starts a new one)."""
    global _SHARED
    with _LOCK:
        pool, _SHARED = _SHARED, None
    if pool is not None and pool.pid == os.getpid():
        pool.shutdown()


def _after_fork() -> None:
    global _SHARED, _LOCK
    _LOCK = threading.Lock()
    if _SHARED is not None:
        _SHARED.forget()
        _SHARED = None


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork)

__all__ = [
    "THRESHOLD",
    "Pool",
    "build_jobs",
    "local_jobs",
    "processes_for",
    "serve",
    "shared",
    "shutdown",
    "usable_cores",
]
