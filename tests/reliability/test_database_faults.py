"""A locked database and a full disk: intake says 503 (never 500), stores nothing half,
and the node recovers by itself.

- **Locked**: another process takes SQLite's write lock (``BEGIN IMMEDIATE``) and holds
  it. With the default settings (``busy_timeout`` 5 s, three attempts) a real
  ``vntrace serve`` absorbs a lock of a few seconds: intake waits and succeeds, reads go
  on (WAL). With a short busy timeout (an in-process node) the same lock is answered with
  a 503 problem (``Retry-After``), nothing is stored, and the same request with the same
  ``Idempotency-Key`` succeeds once the lock is gone.
- **Full disk**: the database of a real ``vntrace serve`` lives on a small tmpfs
  (``mount -t tmpfs -o size=…``, when this runs as root and ``mount`` works; the chain
  stays on the ordinary disk), which a filler file then fills to the last byte. Intake
  answers 503, the refused batch is not stored (not one of its records), reads still
  work, and after the filler is deleted the same request succeeds and every
  acknowledged record is anchored exactly once. Where ``mount`` is not possible the
  full disk is simulated by failing every database write with SQLite's own "database
  or disk is full" error in an in-process node (which runs everywhere anyway).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from vntrace.api import create_app
from vntrace.node.chain import open_backend
from vntrace.node.config import Settings
from vntrace.node.profile import load_profile
from vntrace.node.service import TraceNode
from vntrace.node.store import RetryPolicy, Store

from .invariants import check_anchored_exactly_once
from .serve import EventSigner, HttpProducer, ServeProcess, is_problem, register_producer

Poster = Callable[..., httpx.Response]


@dataclass
class Attempt:
    """One intake request: what was sent and what came back."""

    lot: str
    body: dict[str, Any]
    ids: list[str]
    key: str
    status: int = 0
    elapsed: float = 0.0
    response: httpx.Response | None = None


def db_records(db: Path) -> int:
    """Rows in ``records``, read by another connection (WAL: never blocked by a writer)."""
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])


@contextlib.contextmanager
def write_lock(db: Path, seconds: float) -> Iterator[None]:
    """Another process holds SQLite's write lock (``BEGIN IMMEDIATE``) for ``seconds``."""
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "c.execute('ROLLBACK')\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield
    finally:
        assert proc.wait(timeout=seconds + 60) == 0


def new_attempt(signer: EventSigner, producer: HttpProducer, count: int = 2) -> Attempt:
    lot = "F-" + uuid.uuid4().hex[:10].upper()
    items, ids = signer.sign(producer.account, lot, count)
    body = {"gtin": signer.gtin, "lot": lot, "events": items}
    return Attempt(lot, body, ids, str(uuid.uuid4()))


def send(post: Poster, producer: HttpProducer, attempt: Attempt) -> Attempt:
    """POST the attempt's lot (with its Idempotency-Key); records status and latency."""
    headers = {**producer.headers, "Idempotency-Key": attempt.key}
    started = time.monotonic()
    r = post("/v1/lots", json=attempt.body, headers=headers)
    attempt.elapsed = time.monotonic() - started
    attempt.status, attempt.response = r.status_code, r
    return attempt


def check_refusal(attempt: Attempt) -> None:
    """A refusal under a database fault: 503 (or 507) problem+json, with Retry-After."""
    r = attempt.response
    assert r is not None and attempt.status in (503, 507), (attempt.status, r.text[:300])
    assert is_problem(r), r.text[:300]
    assert "retry-after" in r.headers


def wait_anchored(get: Callable[[str], httpx.Response], ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    left = list(ids)
    while left:
        assert time.monotonic() < deadline, f"{len(left)} records not anchored in {timeout} s"
        left = [i for i in left if get(f"/v1/records/{i}").json().get("status") != "anchored"]
        if left:
            time.sleep(0.25)


def try_mount_tmpfs(path: Path, size: str) -> bool:
    """Mount a size-limited tmpfs at ``path``; False where that is not possible here."""
    if os.environ.get("VNTRACE_TEST_NO_MOUNT") or not hasattr(os, "geteuid"):
        return False
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return r.returncode == 0


def unmount(path: Path) -> None:
    r = subprocess.run(["umount", str(path)], capture_output=True, check=False)
    if r.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; returns the filler file."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 8, 1):
            block = b"\0" * chunk
            while True:
                try:
                    f.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    return filler


# -- a real server: a lock of a few seconds, then a full disk ---------------------------------


@pytest.mark.slow
def test_serve_rides_out_a_locked_database_and_a_full_disk(tmp_path: Path) -> None:
    dbfs = tmp_path / "dbfs"
    mounted = try_mount_tmpfs(dbfs, "8m")
    if not mounted:
        dbfs.mkdir(exist_ok=True)
    db = dbfs / "vntrace.db"
    url = f"sqlite:///{db}"
    server = ServeProcess(
        tmp_path / "node",
        env={
            "VNTRACE_DATABASE_URL": url,
            "VNTRACE_EPOCH_SECONDS": "0.3",
            "VNTRACE_RATE_LIMIT_PER_SECOND": "0",
        },
    )
    acked: list[str] = []
    report: list[str] = []
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=120) as http:
            producer = register_producer(http, server.admin_headers())
            signer = EventSigner(http.get("/v1/info").json())

            # 1. a write lock held for 3 s by another process
            before = db_records(db)
            attempts = [new_attempt(signer, producer) for _ in range(4)]
            reads: list[float] = []
            with write_lock(db, 3.0), ThreadPoolExecutor(4) as pool:
                futures = [pool.submit(send, http.post, producer, a) for a in attempts]
                time.sleep(0.5)
                for path in ("/v1/info", "/healthz", f"/v1/lots/{signer.gtin}/X/provenance"):
                    started = time.monotonic()
                    assert http.get(path).status_code in (200, 404)
                    reads.append(time.monotonic() - started)
                done = [f.result() for f in futures]
            statuses = Counter(a.status for a in done)
            for a in done:
                if a.status != 201:
                    check_refusal(a)
                    send(http.post, producer, a)  # the same request, the same key
                    assert a.status == 201, a.response.text if a.response else ""
                acked += a.ids
            assert db_records(db) == before + sum(len(a.ids) for a in done)
            assert max(reads) < 2.5, f"reads waited for the writer: {reads}"
            report.append(
                f"write lock held 3 s: {len(done)} intake requests -> {dict(statuses)}, "
                f"longest wait {max(a.elapsed for a in done):.1f} s; reads during the lock "
                f"answered in <= {max(reads):.2f} s"
            )
            wait_anchored(http.get, acked, 60)

            # 2. a full disk under the database (tmpfs only)
            if mounted:
                report.append(_full_disk_phase(http, producer, signer, db, acked))
            else:
                report.append("full disk on a real server: skipped (cannot mount tmpfs here)")
            wait_anchored(http.get, acked, 90)
        assert server.stop() == 0, server.log_tail()
        logged = server.access_statuses()
        assert not [st for st in logged if st >= 500 and st != 503], logged
        report.append(f"server access log: {dict(sorted(logged.items()))}")
        state = check_anchored_exactly_once(server.data_dir, url)
        assert set(acked) <= state.leaves
        report.append(
            f"afterwards: {state.records} records in {state.epochs} epochs, each anchored once"
        )
    finally:
        if server.alive():
            server.kill()
        if mounted:
            unmount(dbfs)
    print("\n" + "\n".join(report))


def _full_disk_phase(
    http: httpx.Client, producer: HttpProducer, signer: EventSigner, db: Path, acked: list[str]
) -> str:
    existing = send(http.post, producer, new_attempt(signer, producer, 1))
    assert existing.status == 201
    acked += existing.ids
    filler = fill(db.parent)
    refused: list[Attempt] = []
    fitted = 0
    try:
        for _ in range(40):  # a free page left in the WAL may take a few more batches
            before = db_records(db)
            a = send(http.post, producer, new_attempt(signer, producer, 3))
            if a.status == 201:
                acked += a.ids
                fitted += 1
                continue
            check_refusal(a)
            assert db_records(db) == before, "a refused batch was partly stored"
            refused.append(a)
            break
        assert refused, "the full disk never refused a write"
        # appending to a lot that exists: the records themselves cannot be written
        items, ids = signer.sign(producer.account, existing.lot, 4, start=1)
        append = Attempt(existing.lot, {"events": items}, ids, str(uuid.uuid4()))
        headers = {**producer.headers, "Idempotency-Key": append.key}
        r = http.post(
            f"/v1/lots/{signer.gtin}/{existing.lot}/events", json=append.body, headers=headers
        )
        append.status, append.response = r.status_code, r
        check_refusal(append)
        for a in [*refused, append]:
            for rid in a.ids:
                assert http.get(f"/v1/records/{rid}").status_code == 404, "half stored"
        assert http.get("/v1/info").status_code == 200, "reads must go on while full"
        assert http.get(f"/v1/records/{existing.ids[0]}").status_code == 200
    finally:
        filler.unlink()
    send(http.post, producer, refused[0])  # space is back: the same request, the same key
    assert refused[0].status == 201, refused[0].response.text if refused[0].response else ""
    r = http.post(
        f"/v1/lots/{signer.gtin}/{existing.lot}/events", json=append.body, headers=headers
    )
    assert r.status_code == 201 and r.json()["recordIds"] == append.ids, r.text
    acked += refused[0].ids + append.ids
    return (
        f"full disk (tmpfs 8 MiB, filled to the last byte): {fitted} batches still fitted, then "
        "a new lot and an append to an existing lot -> 503 problem+json, not one of their "
        "records stored, reads still served; after freeing space the same requests (same "
        "Idempotency-Keys) -> 201"
    )


# -- an in-process node with a short busy timeout: the 503 path, and injected write errors ----


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TraceNode]]:
    """A node whose store gives up on a locked database after ~0.5 s (2 x 200 ms)."""
    data = tmp_path_factory.mktemp("impatient")
    settings = Settings(data_dir=data, epoch_seconds=0.3, rate_limit_per_second=0)
    store = Store.open(
        settings.resolved_database_url,
        busy_timeout_ms=200,
        retry=RetryPolicy(attempts=2, base_delay=0.05),
    )
    chain = open_backend("embedded", data_dir=data)
    node = TraceNode(settings, store, chain, load_profile(settings.profile))
    try:
        with TestClient(create_app(node=node, start_anchoring=True)) as client:
            yield client, node
    finally:
        node.close()


def _impatient_producer(client: TestClient, node: TraceNode) -> tuple[HttpProducer, EventSigner]:
    token = (Path(node.settings.data_dir) / "admin-token").read_text().strip()
    producer = register_producer(client, {"Authorization": f"Bearer {token}"})
    return producer, EventSigner(client.get("/v1/info").json())


def test_locked_database_is_a_503_then_recovers(impatient: tuple[TestClient, TraceNode]) -> None:
    client, node = impatient
    producer, signer = _impatient_producer(client, node)
    db = Path(node.settings.data_dir) / "vntrace.db"
    before = db_records(db)
    attempts = [new_attempt(signer, producer) for _ in range(3)]
    with write_lock(db, 2.5):
        for a in attempts:
            send(client.post, producer, a)
            check_refusal(a)
            assert a.elapsed < 2.0
        assert client.get("/v1/info").status_code == 200
    assert db_records(db) == before, "a refused batch was stored"
    for a in attempts:
        assert client.get(f"/v1/records/{a.ids[0]}").status_code == 404
        send(client.post, producer, a)
        assert a.status == 201, a.response.text if a.response else ""
    wait_anchored(client.get, [i for a in attempts for i in a.ids], 60)
    print(
        f"\nwrite lock held 2.5 s, busy timeout 200 ms x 2: {len(attempts)} intake requests "
        "-> 503 problem+json (Retry-After), nothing stored; the same requests afterwards -> 201, "
        "anchored"
    )


def test_failing_writes_are_a_503_and_nothing_half_stored(
    impatient: tuple[TestClient, TraceNode],
) -> None:
    """Every write fails as SQLite fails on a full disk (the fallback of the tmpfs test)."""
    client, node = impatient
    producer, signer = _impatient_producer(client, node)
    db = Path(node.settings.data_dir) / "vntrace.db"
    full = threading.Event()
    failed_statements = Counter[str]()

    def disk_full(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if full.is_set() and verb in ("INSERT", "UPDATE", "DELETE"):
            failed_statements[verb] += 1
            raise sqlite3.OperationalError("database or disk is full")

    engine = node.store.engine
    event.listen(engine, "before_cursor_execute", disk_full)
    try:
        # a lot with one record already stored, then appends that fail midway
        first = send(client.post, producer, new_attempt(signer, producer, 1))
        assert first.status == 201
        before = db_records(db)
        full.set()
        refused = [send(client.post, producer, new_attempt(signer, producer, 3)) for _ in range(3)]
        items, ids = signer.sign(producer.account, first.lot, 4, start=1)
        append = client.post(
            f"/v1/lots/{signer.gtin}/{first.lot}/events",
            json={"events": items},
            headers=producer.headers,
        )
        for a in refused:
            check_refusal(a)
        assert append.status_code == 503 and is_problem(append), append.text
        assert client.get(f"/v1/records/{first.ids[0]}").status_code == 200
        assert db_records(db) == before, "a refused batch was partly stored"
        assert node.store.check_integrity() == []
        full.clear()
    finally:
        full.clear()
        event.remove(engine, "before_cursor_execute", disk_full)
    for a in refused:
        send(client.post, producer, a)
        assert a.status == 201
    r = client.post(
        f"/v1/lots/{signer.gtin}/{first.lot}/events",
        json={"events": items},
        headers=producer.headers,
    )
    assert r.status_code == 201 and r.json()["recordIds"] == ids
    wait_anchored(client.get, ids + [i for a in refused for i in a.ids], 60)
    assert node.store.check_integrity() == []
    print(
        f"\ninjected 'database or disk is full' on every write: {len(refused) + 1} intake "
        f"requests -> 503, failed statements {dict(failed_statements)}, nothing stored; "
        "after the fault the same requests -> 201, anchored"
    )
