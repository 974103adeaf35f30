"""Soak: minutes of mixed intake and verification over HTTP against a real ``vntrace serve``.

    .venv/bin/python scripts/soak.py [--duration 180] [--writers 2] [--verifiers 2]
        [--batch 5] [--sample 5] [--warmup 20] [--epoch-seconds 2] [--out results/soak]

Starts ``vntrace serve`` on a fresh data folder (embedded chain, SQLite; loopback only;
rate limit off, since this is the machine's own load generator), registers producers,
then runs concurrent httpx clients for ``--duration`` seconds:

- **writers** register lots and append signed events (``--batch`` per request, signed
  on the fly exactly as the SDK signs them);
- **verifiers** verify recently written records, alternately by id
  (``POST /v1/verify {recordIds}``) and as proof bundles fetched and sent back
  (``GET …/bundle`` then ``POST /v1/verify {bundles}``), and read lots' provenance.

Every ``--sample`` seconds it records records written, records verified and requests
per second, errors, latency (p50/p95), the records the node still has pending, and the
server process's resident memory (``VmRSS``) and CPU. After a ``--warmup`` it compares
the first and last third of the run: throughput is **steady** when the last third's
rates are at least 80% of the first third's, memory is **flat** when the last third's
mean RSS is within 10% (or 16 MiB) of the first third's and the fitted slope is under
10 MiB per minute. At the end it waits for every acknowledged record to be anchored and
stops the server cleanly. Writes ``soak.json`` and ``soak.md`` to ``--out``; the exit
code is 0 only if throughput was steady, memory flat and no request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.demo import season_events
from vntrace.node.profile import load_profile
from vntrace.node.records import prepare_record

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``vntrace serve`` in its own session, logging to a file."""

    def __init__(self, data_dir: Path, epoch_seconds: float) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
        env |= {
            "VNTRACE_EPOCH_SECONDS": str(epoch_seconds),
            "VNTRACE_RATE_LIMIT_PER_SECOND": "0",
            "ETH_HASH_BACKEND": "pysha3",
        }
        self.log_path = data_dir.parent / "serve.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vntrace.node.cli",
                    "serve",
                    "--data-dir",
                    str(data_dir),
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"vntrace serve exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("vntrace serve did not come up")
            time.sleep(0.1)

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {(self.data_dir / 'admin-token').read_text().strip()}"}

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                return self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait()


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Counters shared by the client threads (under ``lock``)."""

    records_written: int = 0
    records_verified: int = 0
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    written: deque[str] = field(default_factory=lambda: deque(maxlen=2000))
    lots: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, r: httpx.Response | None, elapsed: float, what: str) -> bool:
        with self.lock:
            self.requests += 1
            self.latencies.append(elapsed)
            if r is None:
                self.errors[f"{what}: no answer"] += 1
                return False
            if not r.is_success:
                self.errors[f"{what}: {r.status_code}"] += 1
                return False
            return True


def timed(http: httpx.Client, method: str, url: str, stats: Stats, what: str, **kw: Any) -> Any:
    started = time.perf_counter()
    try:
        r: httpx.Response | None = http.request(method, url, **kw)
    except httpx.TransportError:
        r = None
    ok = stats.request(r, time.perf_counter() - started, what)
    return r.json() if ok and r is not None else None


def writer(
    url: str,
    token: str,
    account: LocalAccount,
    info: dict[str, Any],
    batch: int,
    stats: Stats,
    stop: threading.Event,
) -> None:
    profile = load_profile(info["profile"])
    gtin = info["gtins"][0]
    season = season_events(datetime.now(UTC))
    current: tuple[str, int] | None = None  # the lot being written, events so far
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as http:
        while not stop.is_set():
            lot, start = current or ("S-" + secrets.token_hex(6).upper(), 0)
            items = []
            for i in range(batch):
                event = dict(season[(start + i) % len(season)])
                signed = prepare_record(profile, gtin, lot, event).sign(
                    account, info["chainId"], info["registry"]
                )
                items.append(
                    {
                        "event": signed.event,
                        "salt": "0x" + signed.salt.hex(),
                        "signature": "0x" + signed.signature.hex(),
                    }
                )
            if start == 0:
                body = timed(
                    http,
                    "POST",
                    "/v1/lots",
                    stats,
                    "intake",
                    json={"gtin": gtin, "lot": lot, "events": items},
                )
            else:
                body = timed(
                    http,
                    "POST",
                    f"/v1/lots/{gtin}/{lot}/events",
                    stats,
                    "intake",
                    json={"events": items},
                )
            if body is None:
                current = None
                continue
            current = (lot, start + batch) if start + batch < 40 else None
            with stats.lock:
                stats.records_written += len(body["recordIds"])
                stats.written.extend(body["recordIds"])
                stats.lots.append(lot)


def verifier(url: str, gtin: str, stats: Stats, stop: threading.Event, seed: int) -> None:
    turn = seed
    with httpx.Client(base_url=url, timeout=60) as http:
        while not stop.is_set():
            with stats.lock:
                ids = list(stats.written)[-400:]
                lots = list(stats.lots)
            if len(ids) < 20:
                time.sleep(0.2)
                continue
            turn += 1
            pick = [ids[(turn * 7919 + i * 104729) % len(ids)] for i in range(20)]
            if turn % 3 == 0:
                body = timed(
                    http, "POST", "/v1/verify", stats, "verify ids", json={"recordIds": pick}
                )
            elif turn % 3 == 1:
                bundles = [
                    timed(http, "GET", f"/v1/records/{rid}/bundle", stats, "bundle")
                    for rid in pick[:5]
                ]
                bundles = [b for b in bundles if b is not None]
                body = (
                    timed(
                        http,
                        "POST",
                        "/v1/verify",
                        stats,
                        "verify bundles",
                        json={"bundles": bundles},
                    )
                    if bundles
                    else None
                )
            else:
                lot = lots[turn % len(lots)]
                timed(http, "GET", f"/v1/lots/{gtin}/{lot}/provenance", stats, "provenance")
                body = None
            if body is not None:
                with stats.lock:
                    stats.records_verified += len(body["results"])
                    stats.verdicts.update(r["status"] for r in body["results"])


# -- sampling and the verdict --------------------------------------------------------------------


@dataclass
class Sample:
    t: float
    records_per_s: float
    verified_per_s: float
    requests_per_s: float
    errors: int
    p50_ms: float
    p95_ms: float
    pending: int
    rss_mib: float
    cpu_percent: float


def pending(http: httpx.Client) -> int:
    try:
        for line in http.get("/metrics", timeout=10).text.splitlines():
            if line.startswith("vntrace_records_pending "):
                return int(float(line.split()[1]))
    except httpx.TransportError:
        pass
    return -1


def third_means(samples: list[Sample], attr: str) -> tuple[float, float]:
    n = max(1, len(samples) // 3)
    first = statistics.fmean(getattr(s, attr) for s in samples[:n])
    last = statistics.fmean(getattr(s, attr) for s in samples[-n:])
    return first, last


def slope_per_minute(samples: list[Sample], attr: str) -> float:
    if len(samples) < 2:
        return 0.0
    xs = [s.t for s in samples]
    ys = [getattr(s, attr) for s in samples]
    return statistics.linear_regression(xs, ys).slope * 60


def judge(samples: list[Sample], warmup: float) -> dict[str, Any]:
    steady = [s for s in samples if s.t > warmup] or samples
    w1, w3 = third_means(steady, "records_per_s")
    v1, v3 = third_means(steady, "verified_per_s")
    m1, m3 = third_means(steady, "rss_mib")
    slope = slope_per_minute(steady, "rss_mib")
    throughput_steady = w3 >= 0.8 * w1 and v3 >= 0.8 * v1
    memory_flat = (m3 - m1 <= max(0.10 * m1, 16.0)) and slope < 10.0
    return {
        "samples_judged": len(steady),
        "intake_records_per_s": {
            "first_third": round(w1, 1),
            "last_third": round(w3, 1),
            "ratio": round(w3 / w1, 3) if w1 else None,
        },
        "verified_records_per_s": {
            "first_third": round(v1, 1),
            "last_third": round(v3, 1),
            "ratio": round(v3 / v1, 3) if v1 else None,
        },
        "rss_mib": {
            "first_third": round(m1, 1),
            "last_third": round(m3, 1),
            "growth": round(m3 - m1, 1),
            "slope_mib_per_min": round(slope, 2),
        },
        "throughput_steady": throughput_steady,
        "memory_flat": memory_flat,
    }


def write_report(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    v, c, t = result["verdict"], result["config"], result["totals"]
    lines = [
        "# Soak: mixed intake and verification over HTTP",
        "",
        f"{result['started']}, {c['duration_s']:.0f} s against one `vntrace serve` "
        f"(embedded chain, SQLite, epochs of {c['epoch_seconds']} s) on loopback; "
        f"{c['writers']} writers ({c['batch']} signed events per request), {c['verifiers']} "
        f"verifiers; {os.cpu_count()} cores shared by server, clients and whatever else ran "
        f"(1-minute load average {t['load_average_1min']['start']} at the start, "
        f"{t['load_average_1min']['end']} at the end). "
        f"Command: `{c['command']}`.",
        "",
        "## Verdict",
        "",
        f"- throughput **{'steady' if v['throughput_steady'] else 'NOT steady'}**: intake "
        f"{v['intake_records_per_s']['first_third']} -> {v['intake_records_per_s']['last_third']}"
        f" records/s, verification {v['verified_records_per_s']['first_third']} -> "
        f"{v['verified_records_per_s']['last_third']} records/s (first vs last third after "
        f"a {c['warmup_s']} s warm-up)",
        f"- memory **{'flat' if v['memory_flat'] else 'NOT flat'}**: server RSS "
        f"{v['rss_mib']['first_third']} -> {v['rss_mib']['last_third']} MiB "
        f"(growth {v['rss_mib']['growth']} MiB, fitted slope "
        f"{v['rss_mib']['slope_mib_per_min']} MiB/min)",
        f"- errors: {t['errors'] or 'none'}; verdicts: {t['verdicts']}",
        f"- totals: {t['records_written']} records written, {t['records_verified']} verified, "
        f"{t['requests']} requests; all {t['records_written']} anchored at the end: "
        f"{t['all_anchored']}; clean stop: exit code {t['exit_code']}",
        "",
        "## Over time",
        "",
        "| t (s) | records/s written | records/s verified | requests/s | errors | p50 ms "
        "| p95 ms | pending | server RSS MiB | server CPU % |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["samples"]:
        lines.append(
            f"| {s['t']:.0f} | {s['records_per_s']:.1f} | {s['verified_per_s']:.1f} | "
            f"{s['requests_per_s']:.1f} | {s['errors']} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | "
            f"{s['pending']} | {s['rss_mib']:.1f} | {s['cpu_percent']:.0f} |"
        )
    (out / "soak.md").write_text("\n".join(lines) + "\n")


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=180.0, help="seconds of load (180)")
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--verifiers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=5, help="events per intake request")
    ap.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=20.0, help="seconds left out of the verdict")
    ap.add_argument("--epoch-seconds", type=float, default=2.0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "soak")
    ap.add_argument("--data-dir", type=Path, default=None, help="default: a temporary folder")
    args = ap.parse_args(argv)

    tmp = None if args.data_dir else tempfile.TemporaryDirectory(prefix="vntrace-soak-")
    base = args.data_dir or Path(tmp.name)  # type: ignore[union-attr]
    server = Server(base / "node", args.epoch_seconds)
    stats = Stats()
    stop = threading.Event()
    samples: list[Sample] = []
    exit_code: int | None = None
    all_anchored = False
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            info = http.get("/v1/info").json()
            producers = []
            for i in range(args.writers):
                account = Account.create()
                http.post(
                    "/v1/producers",
                    json={"address": account.address, "name": f"Soak {i}"},
                    headers=server.admin(),
                ).raise_for_status()
                r = http.post(
                    f"/v1/producers/{account.address}/keys", json={}, headers=server.admin()
                )
                r.raise_for_status()
                producers.append((account, r.json()["token"]))
            threads = [
                threading.Thread(
                    target=writer,
                    daemon=True,
                    args=(server.url, token, account, info, args.batch, stats, stop),
                )
                for account, token in producers
            ] + [
                threading.Thread(
                    target=verifier,
                    daemon=True,
                    args=(server.url, info["gtins"][0], stats, stop, i),
                )
                for i in range(args.verifiers)
            ]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            last = (0, 0, 0, 0, 0, server.cpu_seconds())
            last_t = t0
            while (now := time.monotonic()) - t0 < args.duration:
                time.sleep(max(0.0, min(args.sample, args.duration - (now - t0))))
                now = time.monotonic()
                with stats.lock:
                    cur = (
                        stats.records_written,
                        stats.records_verified,
                        stats.requests,
                        sum(stats.errors.values()),
                        len(stats.latencies),
                    )
                    window = sorted(stats.latencies[last[4] :])
                cpu = server.cpu_seconds()
                dt = now - last_t
                q = statistics.quantiles(window, n=20) if len(window) >= 20 else [0.0] * 19
                samples.append(
                    Sample(
                        t=round(now - t0, 1),
                        records_per_s=(cur[0] - last[0]) / dt,
                        verified_per_s=(cur[1] - last[1]) / dt,
                        requests_per_s=(cur[2] - last[2]) / dt,
                        errors=cur[3] - last[3],
                        p50_ms=statistics.median(window) * 1000 if window else 0.0,
                        p95_ms=q[18] * 1000,
                        pending=pending(http),
                        rss_mib=server.rss_bytes() / 2**20,
                        cpu_percent=100 * (cpu - last[5]) / dt,
                    )
                )
                s = samples[-1]
                print(
                    f"t={s.t:5.0f}s  written {s.records_per_s:6.1f}/s  verified "
                    f"{s.verified_per_s:6.1f}/s  p95 {s.p95_ms:5.0f} ms  pending {s.pending:5d}"
                    f"  RSS {s.rss_mib:6.1f} MiB  CPU {s.cpu_percent:3.0f}%  errors {s.errors}",
                    flush=True,
                )
                last, last_t = (*cur, cpu), now
            stop.set()
            for t in threads:
                t.join(timeout=120)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and pending(http) != 0:
                time.sleep(0.5)
            all_anchored = pending(http) == 0
    finally:
        stop.set()
        exit_code = server.stop()
        if tmp is not None:
            tmp.cleanup()
    verdict = judge(samples, args.warmup)
    result = {
        "started": started,
        "config": {
            **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "command": " ".join(
                ["python scripts/soak.py", *(sys.argv[1:] if argv is None else argv)]
            ),
            "cpu_count": os.cpu_count(),
        },
        "verdict": verdict,
        "totals": {
            "records_written": stats.records_written,
            "records_verified": stats.records_verified,
            "requests": stats.requests,
            "errors": dict(stats.errors),
            "verdicts": dict(stats.verdicts),
            "all_anchored": all_anchored,
            "exit_code": exit_code,
            "load_average_1min": {
                "start": round(load_before, 2),
                "end": round(os.getloadavg()[0], 2),
            },
        },
        "samples": [asdict(s) for s in samples],
    }
    write_report(args.out, result)
    print(json.dumps(verdict, indent=2))
    print(f"wrote {args.out / 'soak.json'} and {args.out / 'soak.md'}")
    ok = verdict["throughput_steady"] and verdict["memory_flat"] and not stats.errors
    return 0 if ok and all_anchored and exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
