"""Intake throughput with 1, 2 and 3 node processes sharing one PostgreSQL.

    .venv/bin/python scripts/bench_multinode.py [--processes 1 2 3] [--records 3000]
        [--batch 50] [--concurrency 8] [--mode http service] [--repeat 2]
        [--out results/multinode]

For each process count, on a fresh database and a fresh anvil chain (the same registry
address every time, so records are signed once, before any clock starts):

- **http**: N gateway processes (``uvicorn --factory vntrace.api.main:create_app``, the
  same app ``vntrace serve`` runs) and one load generator spreading ``POST
  /v1/lots/{gtin}/{lot}/events`` batches round-robin over them, as a reverse proxy
  would, with a fixed number of requests in flight whatever N is;
- **service**: N processes calling ``TraceNode.submit`` directly, without HTTP, from
  as many threads in total as http mode has requests in flight.

Every process runs its anchoring loop: exactly one of them anchors (the advisory lock)
while all take intake, as in production. The figure is records acknowledged per second
of wall time after a warm-up. Everything (gateways, PostgreSQL with fsync on, anvil,
the load generator) shares this machine's cores, which is the point to report honestly:
see ``docs/deployment.md``. Writes ``throughput.json`` and ``throughput.md`` to
``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.support (PostgreSQL, anvil) and the cluster

import httpx  # noqa: E402
from eth_account import Account  # noqa: E402

from tests.multinode.cluster import PRODUCER_KEY, Cluster, bootstrap  # noqa: E402
from tests.support.anvil import ANVIL_CHAIN_ID, anvil_binary, free_port, running_anvil  # noqa: E402
from tests.support.postgres import PostgresServer, server_binaries  # noqa: E402
from vntrace.node.bench.machine import cpu_model, usable_cores  # noqa: E402

ADMIN_TOKEN = "bench-admin-token-" + "x" * 32
LOTS = 20
WARMUP_BATCHES = 6
GTIN = "08936099000015"


# -- records, signed once ---------------------------------------------------------------


def sign_batches(registry: str, records: int, batch: int) -> list[dict[str, Any]]:
    """``records`` packing events in batches of ``batch``, each batch for one lot."""
    from vntrace.node.demo import season_events
    from vntrace.node.profile import load_profile
    from vntrace.node.records import prepare_record

    profile = load_profile("robusta-vn")
    gtin = profile.gtins[0]
    account = Account.from_key(PRODUCER_KEY)
    packing = season_events(datetime.now(UTC))[4]
    out = []
    for b, start in enumerate(range(0, records, batch)):
        lot = f"BENCH-{b % LOTS:02d}"
        events = []
        for i in range(start, min(start + batch, records)):
            event = {**packing, "packageCount": 1 + i}
            signed = prepare_record(profile, gtin, lot, event).sign(
                account, ANVIL_CHAIN_ID, registry
            )
            events.append(
                {
                    "event": signed.event,
                    "salt": "0x" + signed.salt.hex(),
                    "signature": "0x" + signed.signature.hex(),
                }
            )
        out.append({"gtin": gtin, "lot": lot, "events": events})
    return out


# -- one deployment per run -------------------------------------------------------------


@contextmanager
def deployment(server: PostgresServer, work: Path) -> Iterator[tuple[Cluster, int | None]]:
    """A fresh database and a fresh chain with the registry deployed (and anvil's pid)."""
    url = server.create_database("bench")
    try:
        with running_anvil() as anvil:
            pid = anvil.proc.pid if anvil.proc is not None else None
            yield bootstrap(url, anvil.url, work / "bootstrap"), pid
    finally:
        server.drop_database(url.rsplit("/", 1)[1].split("?")[0])


# -- where the CPU goes -----------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds of a process (all its threads), plus its reaped children's if asked."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def _children(parent: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _machine_busy() -> float:
    """CPU seconds all cores spent not idle, machine-wide (/proc/stat)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / _TICK


def cpu_snapshot(
    gateways: list[int], postmaster: int | None, anvil: int | None
) -> dict[str, float]:
    pg = 0.0
    if postmaster is not None:
        pg = _proc_cpu(postmaster, children=True) + sum(map(_proc_cpu, _children(postmaster)))
    own = os.times()
    return {
        "gateways": sum(map(_proc_cpu, gateways)),
        "postgres": pg,
        "anvil": _proc_cpu(anvil) if anvil else 0.0,
        "load generator": own.user + own.system,
        "machine": _machine_busy(),
    }


def cores_used(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    """Average cores busy per role over the window; "others" is the rest of the machine
    (processes outside this benchmark: on a shared machine, other people's work)."""
    used = {k: (after[k] - before[k]) / seconds for k in before}
    ours = sum(v for k, v in used.items() if k != "machine")
    used["others"] = max(0.0, used["machine"] - ours)
    return {k: round(v, 2) for k, v in used.items()}


def bench_env(cluster: Cluster, data_dir: Path) -> dict[str, str]:
    return cluster.env(
        data_dir,
        VNTRACE_EPOCH_SECONDS="2",
        VNTRACE_EPOCH_MAX_RECORDS="10000",
        VNTRACE_ADMIN_TOKEN=ADMIN_TOKEN,
        VNTRACE_RATE_LIMIT_PER_SECOND="0",
    )


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def producer_token(cluster: Cluster) -> str:
    from vntrace.node.store import Store

    with Store.open(cluster.database_url) as store:
        producer = store.get_producer_by_address(
            bytes.fromhex(Account.from_key(PRODUCER_KEY).address[2:])
        )
        assert producer is not None
        return store.create_api_key("producer", producer.id, label="bench").token


def stored_records(cluster: Cluster) -> tuple[int, int]:
    """``(records stored, records anchored)``."""
    from sqlalchemy import func, select

    from vntrace.node.store import Store
    from vntrace.node.store.schema import records

    with Store.open(cluster.database_url) as store:
        with store.engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(records)) or 0
            anchored = (
                conn.scalar(
                    select(func.count()).select_from(records).where(records.c.status == "anchored")
                )
                or 0
            )
        return int(total), int(anchored)


def run_http(
    cluster: Cluster,
    batches: list[dict[str, Any]],
    n: int,
    concurrency: int,
    work: Path,
    pids: tuple[int | None, int | None] = (None, None),
) -> dict[str, Any]:
    """``pids``: PostgreSQL's postmaster and anvil, for the CPU split (None: not shown)."""
    token = producer_token(cluster)
    ports = [free_port() for _ in range(n)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, port in enumerate(ports):
            data_dir = work / f"gw{i}"
            data_dir.mkdir(parents=True, exist_ok=True)
            with open(data_dir / "gateway.log", "wb") as log:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "uvicorn",
                            "--factory",
                            "vntrace.api.main:create_app",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                            "--log-level",
                            "warning",
                            "--no-access-log",
                        ],
                        cwd=ROOT,
                        env=bench_env(cluster, data_dir),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for port in ports:
            _wait_http(f"http://127.0.0.1:{port}/healthz", procs)
        bodies = [
            (f"/v1/lots/{b['gtin']}/{b['lot']}/events", json.dumps({"events": b["events"]}))
            for b in batches
        ]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        local = threading.local()
        latencies: list[float] = []

        def post(k: int) -> int:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(timeout=120, headers=headers)
            path, body = bodies[k]
            began = time.perf_counter()
            r = client.post(f"http://127.0.0.1:{ports[k % n]}{path}", content=body)
            latencies.append(time.perf_counter() - began)
            if r.status_code != 201:
                raise RuntimeError(f"{path}: HTTP {r.status_code}: {r.text[:300]}")
            return len(batches[k]["events"])

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, range(WARMUP_BATCHES)))
            latencies.clear()
            timed = range(WARMUP_BATCHES, len(batches))
            gateways = [p.pid for p in procs]
            cpu_before = cpu_snapshot(gateways, *pids)
            began = time.perf_counter()
            done = sum(pool.map(post, timed))
            elapsed = time.perf_counter() - began
            cpu = cores_used(cpu_before, cpu_snapshot(gateways, *pids), elapsed)
        return {
            "records": done,
            "seconds": round(elapsed, 3),
            "records_per_s": round(done / elapsed, 1),
            "request_p50_ms": round(1000 * statistics.median(latencies), 1),
            "request_p95_ms": round(1000 * _quantile(latencies, 0.95), 1),
            "cores_used": cpu,
        }
    finally:
        _stop(procs)


def run_service(
    cluster: Cluster,
    batches: list[dict[str, Any]],
    n: int,
    concurrency: int,
    work: Path,
    pids: tuple[int | None, int | None] = (None, None),
) -> dict[str, Any]:
    batches_file = work / "batches.json"
    batches_file.write_text(json.dumps(batches))
    go = work / "go"
    procs: list[subprocess.Popen[bytes]] = []
    outs: list[Path] = []
    try:
        for i in range(n):
            data_dir = work / f"svc{i}"
            data_dir.mkdir(parents=True, exist_ok=True)
            outs.append(data_dir / "result.json")
            with open(data_dir / "worker.log", "wb") as log:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--worker",
                            str(batches_file),
                            str(i),
                            str(n),
                            str(max(1, concurrency // n + (i < concurrency % n))),
                            str(go),
                            str(outs[-1]),
                        ],
                        cwd=ROOT,
                        env=bench_env(cluster, data_dir),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 120
        while not all((work / f"svc{i}" / "ready").exists() for i in range(n)):
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError("a service worker did not get ready")
            time.sleep(0.05)
        workers = [p.pid for p in procs]
        cpu_before, t0 = cpu_snapshot(workers, *pids), time.perf_counter()
        go.with_suffix(".tmp").write_text(str(time.time() + 0.2))
        go.with_suffix(".tmp").rename(go)  # atomically: no worker reads half a number
        deadline = time.monotonic() + 600
        while not all(o.exists() for o in outs):  # then the workers idle until stopped
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError("a service worker failed (see its worker.log)")
            time.sleep(0.02)
        cpu = cores_used(cpu_before, cpu_snapshot(workers, *pids), time.perf_counter() - t0)
        results = [json.loads(o.read_text()) for o in outs]
    finally:
        _stop(procs)
    done = sum(r["records"] for r in results)
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {
        "records": done,
        "seconds": round(elapsed, 3),
        "records_per_s": round(done / elapsed, 1),
        "cores_used": cpu,
    }


def worker(
    batches_file: str, index: str, count: str, threads: str, go_file: str, out_file: str
) -> None:
    """``--worker``: one node process submitting its share of the batches on ``threads``
    threads (the requests in flight are spread over the processes, as in http mode)."""
    from vntrace.node.config import Settings
    from vntrace.node.service import Submission, TraceNode

    batches = json.loads(Path(batches_file).read_text())
    i, n = int(index), int(count)
    warm, mine = batches[:WARMUP_BATCHES], batches[WARMUP_BATCHES:][i::n]
    with TraceNode.open(Settings()) as node:
        node.start()
        producer = node.producer(Account.from_key(PRODUCER_KEY).address)

        def submit(b: dict[str, Any]) -> int:
            subs = [Submission(e["event"], e["salt"], e["signature"]) for e in b["events"]]
            return len(node.submit(producer, b["gtin"], b["lot"], subs))

        if i == 0:
            for b in warm:
                submit(b)
        else:
            submit(warm[0])  # warm this process's connections and caches too (a duplicate)
        Path(out_file).with_name("ready").write_text("1")
        while not Path(go_file).exists():
            time.sleep(0.01)
        start_at = float(Path(go_file).read_text() or 0)
        time.sleep(max(0.0, start_at - time.time()))
        start = time.time()
        with ThreadPoolExecutor(int(threads)) as pool:
            done = sum(pool.map(submit, mine))
        end = time.time()
        result = json.dumps({"records": done, "start": start, "end": end})
        Path(out_file).with_suffix(".tmp").write_text(result)
        Path(out_file).with_suffix(".tmp").rename(out_file)
        threading.Event().wait()  # stay up (CPU still counted) until the driver stops us


# -- helpers ----------------------------------------------------------------------------


def _wait_http(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a gateway exited at start (see its gateway.log)")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def efficiency(run: dict[str, Any]) -> float:
    """Records per second per core busy in the deployment (gateways, PostgreSQL, anvil,
    load generator): what the configuration costs, whatever else the machine runs."""
    used = run["cores_used"]
    ours = used["gateways"] + used["postgres"] + used["anvil"] + used["load generator"]
    return float(run["records_per_s"]) / ours if ours > 0 else 0.0


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Intake throughput, {report['records']} records in batches of {report['batch']} "
        f"(after {WARMUP_BATCHES} warm-up batches), one PostgreSQL "
        f"{report['postgres']} (fsync on), anvil; {m['cpu']}, {m['usable_cores']} cores "
        f"shared by everything; {report['date']}.",
        "",
        "| mode | processes | records/s (runs) | median | vs 1 process | p50 / p95 request |",
        "|---|---:|---|---:|---:|---|",
    ]
    for mode, rows in report["results"].items():
        base = None
        for row in rows:
            rates = [r["records_per_s"] for r in row["runs"]]
            med = statistics.median(rates)
            base = base or med
            lat = ""
            if "request_p50_ms" in row["runs"][0]:
                lat = " / ".join(
                    f"{statistics.median(r[k] for r in row['runs']):.0f} ms"
                    for k in ("request_p50_ms", "request_p95_ms")
                )
            lines.append(
                f"| {mode} | {row['processes']} | {', '.join(f'{x:.0f}' for x in rates)} "
                f"| {med:.0f} | {med / base:.2f}x | {lat} |"
            )
    roles = ["gateways", "postgres", "anvil", "load generator", "others", "machine"]
    lines += [
        "",
        "Where the CPU went during the timed runs (average cores busy, median of runs;"
        ' "gateways" = the node processes, "others" = processes outside the benchmark),'
        " and records per second per core the deployment used (its efficiency, which other"
        " load on the machine does not change much):",
        "",
        "| mode | processes | " + " | ".join(roles) + " | records per core-second |",
        "|---|---:|" + "---:|" * (len(roles) + 1),
    ]
    for mode, rows in report["results"].items():
        for row in rows:
            med = [statistics.median(r["cores_used"][k] for r in row["runs"]) for k in roles]
            eff = statistics.median(efficiency(r) for r in row["runs"])
            cells = " | ".join(f"{v:.2f}" for v in med)
            lines.append(f"| {mode} | {row['processes']} | {cells} | {eff:.0f} |")
    before, after = report["loadavg_before"], report["loadavg_after"]
    lines += ["", f"Load average (1, 5, 15 min) before / after: {before} / {after}."]
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:8])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--records", type=int, default=3000, help="timed records per run")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=8, help="batches in flight")
    ap.add_argument("--mode", nargs="+", choices=["http", "service"], default=["http", "service"])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "multinode")
    args = ap.parse_args()
    if anvil_binary() is None:
        print("anvil is not installed (npm ci)", file=sys.stderr)
        return 2
    external = os.environ.get("VNTRACE_TEST_POSTGRES_URL")
    binaries = server_binaries()
    if not external and binaries is None:
        print("no PostgreSQL server binaries (apt-get install postgresql)", file=sys.stderr)
        return 2
    server = PostgresServer(external) if external else PostgresServer.start_private(binaries)  # type: ignore[arg-type]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable_cores()},
        "records": args.records,
        "batch": args.batch,
        "concurrency": args.concurrency,
        "loadavg_before": _loadavg(),
        "results": {},
    }
    try:
        with server._admin.connect() as conn:
            from sqlalchemy import text

            report["postgres"] = conn.execute(text("SHOW server_version")).scalar_one()
        with tempfile.TemporaryDirectory(prefix="vntrace-bench-") as tmp:
            work = Path(tmp)
            with deployment(server, work / "probe") as (probe, _):
                registry = probe.registry
            total = args.records + WARMUP_BATCHES * args.batch
            print(f"signing {total} records once ...", flush=True)
            batches = sign_batches(registry, total, args.batch)
            # Interleaved (1, 2, 3, 1, 2, 3, ...): a change in the machine's other load
            # then weighs on every configuration alike instead of on one.
            runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
            for rep in range(args.repeat):
                for mode in args.mode:
                    for n in args.processes:
                        run_dir = work / f"{mode}-{n}-{rep}"
                        with deployment(server, run_dir) as (cluster, anvil_pid):
                            assert cluster.registry == registry, "registry address moved"
                            pids = (server.pid, anvil_pid)
                            if mode == "http":
                                r = run_http(cluster, batches, n, args.concurrency, run_dir, pids)
                            else:
                                r = run_service(
                                    cluster, batches, n, args.concurrency, run_dir, pids
                                )
                            r["stored"], r["anchored"] = stored_records(cluster)
                        r["loadavg"] = _loadavg()
                        print(f"{mode} x{n} run {rep + 1}: {r}", flush=True)
                        runs.setdefault((mode, n), []).append(r)
            for mode in args.mode:
                report["results"][mode] = [
                    {"processes": n, "runs": runs[(mode, n)]} for n in args.processes
                ]
    finally:
        server.stop()
    report["loadavg_after"] = _loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "throughput.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
