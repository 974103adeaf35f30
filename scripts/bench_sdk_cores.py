"""The SDK's independent verification on one core and on every usable core, side by side.

    .venv/bin/python scripts/bench_sdk_cores.py [--bundles 4000] [--rounds 7]
        [--out docs/benchmarks/sdk-cores]

Starts a fresh ``vntrace serve`` (embedded chain, SQLite) in a temporary folder, writes
``--bundles`` records of the bench's workload (pre-signed demo-season events, lots of
100) and reads their bundles back. Then, in this process:

1. the per-bundle costs that decide the break-even: building one ``BundleJob`` (the
   offline checks), pickling a bundle there and back, and a finished job (without its
   bundle, as the workers send it);
2. the offline checks alone (``build_jobs``) with ``workers=1`` and ``workers=2`` at
   growing batch sizes (the break-even of a warm pool);
3. the first large call of a fresh process (the pool starting) against a warm one;
4. ``verify_bundles`` end to end (offline checks, one round of chain reads through the
   node's ``/rpc``, verdicts) with ``workers=1`` and the default (automatic).

Every figure is the best of ``--rounds`` rounds, the variants alternating within each
round on the same bundles, so drift in the machine's load falls on all of them. Writes
``sdk-cores.json`` and ``sdk-cores.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from eth_account import Account

from vntrace.client import _pool, verify_bundles
from vntrace.client import verify as verify_module
from vntrace.client._facts import Pins
from vntrace.node.bench.machine import describe
from vntrace.node.bench.procs import ServeProcess
from vntrace.node.bench.signing import EventSigner
from vntrace.node.bench.timing import best_seconds as _best

PER_LOT = 100
OFFLINE_SIZES = (16, 32, 64, 128, 256, 512, 1000)
E2E_SIZES = (100, 256, 1000, 4000)


def _say(text: str) -> None:
    print(text, flush=True)


def _side_by_side(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best seconds of each variant, the variants alternating within every round."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, fn in variants.items():
            began = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - began)
    return best


def _workload(url: str, admin_token: str, count: int) -> list[dict[str, Any]]:
    """``count`` anchored bundles of one producer, in lots of :data:`PER_LOT`."""
    with httpx.Client(base_url=url, timeout=120.0) as http:
        info = http.get("/v1/info").json()
        admin = {"Authorization": f"Bearer {admin_token}"}
        account = Account.create()
        body = {"address": account.address, "name": "sdk cores bench"}
        http.post("/v1/producers", json=body, headers=admin).raise_for_status()
        issued = http.post(f"/v1/producers/{account.address}/keys", headers=admin)
        issued.raise_for_status()
        token = {"Authorization": f"Bearer {issued.json()['token']}"}
        signer = EventSigner(
            "0x" + bytes(account.key).hex(), int(info["chainId"]), info["registry"]
        )
        gtin = info["gtins"][0]
        ids: list[str] = []
        for k in range(-(-count // PER_LOT)):
            batch = signer.batch(gtin, f"CORES-{k}", min(PER_LOT, count - len(ids)))
            response = http.post(
                f"/v1/lots/{gtin}/{quote(batch.lot, safe='')}/events",
                content=batch.body,
                headers={
                    **token,
                    "Content-Type": "application/json",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
            )
            response.raise_for_status()
            ids += batch.record_ids
        deadline = time.monotonic() + 300
        while http.get(f"/v1/records/{ids[-1]}").json()["status"] != "anchored":
            if time.monotonic() > deadline:
                raise SystemExit("the records were not anchored within 300 s")
            time.sleep(0.2)
        bundles = [http.get(f"/v1/records/{rid}/bundle").json() for rid in ids]
    if any(b.get("status") != "anchored" for b in bundles):
        raise SystemExit("a bundle is not anchored")
    return bundles


def _unit_costs(bundles: list[dict[str, Any]], rounds: int) -> dict[str, float]:
    """µs per bundle of each step a worker's chunk costs, on 1,000 bundles, pickled as
    the pool does it (bundles without the memo, jobs with their dataclasses as fields)."""
    sample = bundles[:1000]
    n, pins, ids = len(sample), Pins(), [None] * len(sample)
    jobs = _pool.local_jobs(sample, pins, ids)
    for job in jobs:
        job.bundle = {}
    sent, answered = _pool._request((pins, sample, ids)), _pool._reply(jobs)

    def us(fn: Callable[[], object]) -> float:
        return _best(fn, rounds) / n * 1e6

    return {
        "bundle_job": us(lambda: _pool.local_jobs(sample, pins, ids)),
        "dumps_bundle_memo": us(lambda: pickle.dumps(sample, 5)),
        "dumps_bundle": us(lambda: _pool._request((pins, sample, ids))),
        "loads_bundle": us(lambda: pickle.loads(sent)),
        "dumps_job": us(lambda: _pool._reply(jobs)),
        "loads_job": us(lambda: pickle.loads(answered)),
        "bundle_bytes": len(sent) / n,
        "job_bytes": len(answered) / n,
    }


def _cold_and_warm(bundles: list[dict[str, Any]], rpc_url: str, rounds: int) -> dict[str, Any]:
    """1,000 bundles: the first call of a fresh pool (its worker starting meanwhile), one
    process, and a warm pool; best of ``rounds`` each, alternating."""
    sample = bundles[:1000]
    verify_bundles(sample[:10], rpc_url=rpc_url, workers=1)  # imports, the first connection
    cold = alone = float("inf")
    for _ in range(rounds):
        _pool.shutdown()
        cold = min(cold, _best(lambda: verify_bundles(sample, rpc_url=rpc_url), 1))
        alone = min(alone, _best(lambda: verify_bundles(sample, rpc_url=rpc_url, workers=1), 1))
    pool = _pool.shared()
    ready = pool is not None and pool.start(_pool.usable_cores() - 1, timeout=60)
    warm = _best(lambda: verify_bundles(sample, rpc_url=rpc_url), rounds)
    return {"cold_ms": cold * 1e3, "warm_ms": warm * 1e3, "alone_ms": alone * 1e3, "ready": ready}


def _offline(bundles: list[dict[str, Any]], rounds: int) -> list[dict[str, Any]]:
    rows = []
    for size in OFFLINE_SIZES:
        sample = bundles[:size]
        best = _side_by_side(
            {
                "1": lambda s=sample: _pool.build_jobs(s, Pins(), workers=1),
                "2": lambda s=sample: _pool.build_jobs(s, Pins(), workers=2),
            },
            rounds * 2,
        )
        rows.append({"bundles": size, **{k: v / size * 1e6 for k, v in best.items()}})
        _say(f"offline {size}: {rows[-1]['1']:.1f} vs {rows[-1]['2']:.1f} µs per bundle")
    return rows


def _end_to_end(bundles: list[dict[str, Any]], rpc_url: str, rounds: int) -> list[dict[str, Any]]:
    rows = []
    for size in (s for s in E2E_SIZES if s <= len(bundles)):
        sample = bundles[:size]
        expected = verify_bundles(sample, rpc_url=rpc_url, workers=1)
        if any(r.status != "verified" for r in expected):
            raise SystemExit("a bundle of the workload does not verify")
        if verify_bundles(sample, rpc_url=rpc_url) != expected:
            raise SystemExit("the pool reached another verdict than one process")
        pool = _pool.shared()
        chunks = dict(pool.chunks) if pool else {}
        best = _side_by_side(
            {
                "1": lambda s=sample: verify_bundles(s, rpc_url=rpc_url, workers=1),
                "auto": lambda s=sample: verify_bundles(s, rpc_url=rpc_url),
                "auto_after": lambda s=sample: _reading_after(s, rpc_url),
            },
            rounds,
        )
        done = dict(pool.chunks) if pool else {}
        share = {k: done.get(k, 0) - chunks.get(k, 0) for k in ("worker", "caller")}
        rows.append(
            {
                "bundles": size,
                "processes": _pool.processes_for(size, None),
                "records_per_s_1": size / best["1"],
                "records_per_s_auto": size / best["auto"],
                "records_per_s_auto_after": size / best["auto_after"],
                "chunks": share,
            }
        )
        _say(
            f"verify_bundles {size}: {rows[-1]['records_per_s_1']:,.0f} vs "
            f"{rows[-1]['records_per_s_auto']:,.0f} records/s"
        )
    return rows


def _reading_after(bundles: list[dict[str, Any]], rpc_url: str) -> object:
    """The default, but the chain read only after the offline checks (no read ahead)."""
    saved = verify_module.PREFETCH_FROM
    verify_module.PREFETCH_FROM = 10**9
    try:
        return verify_bundles(bundles, rpc_url=rpc_url)
    finally:
        verify_module.PREFETCH_FROM = saved


def _report(result: dict[str, Any]) -> str:
    u = result["unit_us"]
    caller = u["dumps_bundle"] + u["loads_job"]
    worker = u["loads_bundle"] + u["bundle_job"] + u["dumps_job"]
    p = result["machine"]["usable_cores"]
    # the caller checks a share x itself and hands the rest over: x*job + (1-x)*caller
    # equals (1-x)*worker/(p-1) when both finish together
    x = (worker / max(1, p - 1) - caller) / (u["bundle_job"] - caller + worker / max(1, p - 1))
    bound = x * u["bundle_job"] + (1 - x) * caller
    cold = result["cold"]
    lines = [
        "# The SDK's independent verification on every core",
        "",
        f"Generated by `scripts/bench_sdk_cores.py` on {result['date']}: {result['bundles']:,} "
        f"anchored bundles of the bench's workload (lots of {PER_LOT}) from a fresh "
        "`vntrace serve` (embedded chain, SQLite), verified in this process against the "
        "node's `/rpc`. Best of "
        f"{result['rounds']} alternating rounds. {result['machine']['usable_cores']} usable "
        f"cores ({result['machine']['cpu']}); load average {result['load'][0]:.2f} at the "
        f"start, {result['load'][1]:.2f} at the end (the machine is shared: other processes "
        "take cores too, so the ratios are the figures to read).",
        "",
        "## What a bundle costs, and the break-even",
        "",
        "| step (µs per bundle, 1,000 bundles) | |",
        "|---|---|",
        f"| `BundleJob` (JCS, digest, leaf, proof, EIP-712 recovery) | {u['bundle_job']:.1f} |",
        f"| pickle a bundle without the memo, as sent / unpickle it ({u['bundle_bytes']:,.0f} "
        f"bytes) | {u['dumps_bundle']:.1f} / {u['loads_bundle']:.1f} |",
        f"| (pickle a bundle with the memo, for comparison) | {u['dumps_bundle_memo']:.1f} |",
        f"| pickle a finished job without its bundle / unpickle it ({u['job_bytes']:,.0f} "
        f"bytes) | {u['dumps_job']:.1f} / {u['loads_job']:.1f} |",
        "",
        f"A bundle handed to a worker costs the caller {caller:.1f} µs (pickle the bundle, "
        f"unpickle the job) instead of {u['bundle_job']:.1f}, and the worker "
        f"{worker:.1f} µs. With the caller checking its own share ({x:.0%}) and "
        f"{p - 1} worker(s) the rest, both finish together at about **{bound:.1f} µs per "
        f"bundle** ({u['bundle_job'] / bound:.2f}x): the bound of the offline checks on "
        f"this machine. The fixed cost is a chunk's round trip to a warm worker (well "
        "under a millisecond), so a warm pool pays from a few dozen bundles on; the "
        f"default threshold ({_pool.THRESHOLD} bundles, about "
        f"{_pool.THRESHOLD * u['bundle_job'] / 1e3:.0f} ms of checks) leaves small batches "
        "alone, so a process that verifies a few bundles never starts a worker.",
        "",
        "## The offline checks alone (`build_jobs`, warm pool)",
        "",
        "| bundles | 1 process (µs/bundle) | 2 processes (µs/bundle) | ratio |",
        "|---|---|---|---|",
    ]
    for row in result["offline"]:
        lines.append(
            f"| {row['bundles']:,} | {row['1']:.1f} | {row['2']:.1f} | {row['1'] / row['2']:.2f}x |"
        )
    lines += [
        "",
        "## `verify_bundles` end to end (`workers=1` against the default)",
        "",
        "| bundles | processes (default) | `workers=1` (records/s) | default, chain read "
        "after the checks (records/s) | default (records/s) | ratio to `workers=1` | "
        "chunks of all default calls: workers / caller |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["end_to_end"]:
        c = row["chunks"]
        after = row.get("records_per_s_auto_after")
        lines.append(
            f"| {row['bundles']:,} | {row['processes']} | {row['records_per_s_1']:,.0f} | "
            + (f"{after:,.0f}" if after else "—")
            + f" | {row['records_per_s_auto']:,.0f} | "
            f"{row['records_per_s_auto'] / row['records_per_s_1']:.2f}x | "
            f"{c.get('worker', 0)} / {c.get('caller', 0)} |"
        )
    lines += [
        "",
        "The chain reads (one JSON-RPC batch per registry, answered by the node's embedded "
        "chain on the same cores) stay in the calling process. From "
        f"{verify_module.PREFETCH_FROM} bundles (every variant but the third column) the "
        "facts the bundles claim to need are read *while* they are checked, in a thread "
        "beside the checks; what the checked bundles need beyond that is read after.",
        "",
        "## The first large call of a process",
        "",
        f"1,000 bundles: {cold['cold_ms']:.0f} ms for the first call of a fresh process (the "
        f"worker starts in the background; the caller checks what it has not taken), "
        f"{cold['warm_ms']:.0f} ms once the worker is warm, {cold['alone_ms']:.0f} ms with "
        "`workers=1`. A worker takes about a third of a second of CPU to import the SDK; "
        "when no core is idle (other processes on this machine), that start takes CPU from "
        "the caller, so the first large call can be slower than one process, once.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundles", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/sdk-cores"))
    args = parser.parse_args(argv)
    began = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="vntrace-sdk-cores-"))
    try:
        with ServeProcess(tmp / "node", {"VNTRACE_EPOCH_SECONDS": "1"}) as node:
            _say(f"node at {node.url}; writing {args.bundles:,} records")
            bundles = _workload(node.url, node.admin_token(), args.bundles)
            rpc_url = node.url + "/rpc"
            _say("per-bundle costs")
            unit = _unit_costs(bundles, args.rounds)
            _say("first call of a fresh pool")
            cold = _cold_and_warm(bundles, rpc_url, args.rounds)
            offline = _offline(bundles, args.rounds)
            end_to_end = _end_to_end(bundles, rpc_url, args.rounds)
    finally:
        _pool.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "date": began.isoformat(timespec="seconds"),
        "bundles": len(bundles),
        "rounds": args.rounds,
        "threshold": _pool.THRESHOLD,
        "machine": describe(None),
        "load": [load_start, os.getloadavg()[0]],
        "unit_us": unit,
        "cold": cold,
        "offline": offline,
        "end_to_end": end_to_end,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sdk-cores.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "sdk-cores.md").write_text(_report(result))
    _say(f"wrote {args.out / 'sdk-cores.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
