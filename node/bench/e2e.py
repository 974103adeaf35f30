"""End to end over HTTP: a real ``vntrace serve`` process, driven by concurrent clients.

For each chain (the embedded default; anvil through ``VNTRACE_CHAIN=rpc``) the suite
starts a fresh node (SQLite in a temporary folder, rate limit off, default epochs of
2 s / 10k records) and measures, in this order:

1. **ingestion**: pre-signed events (signed before the clock starts) through
   ``POST /v1/lots/{gtin}/{lot}/events``, one producer per client, each request with an
   ``Idempotency-Key`` as the SDK sends it, at several batch sizes;
2. **bundle reads**: ``GET /v1/records/{id}/bundle`` of anchored records;
3. **batch verification**: ``POST /v1/verify`` with bundles, and with record ids;
4. **independent verification**: the SDK's ``verify_bundles`` in this process against
   the chain's JSON-RPC (the node's ``/rpc``, or anvil itself);
5. **latency** of one bundle's verification at 1, 8 and 32 concurrent clients;
6. **acknowledgement to anchored** at a steady load, polling record status.

The benchmark client runs on the same machine (two cores shared with the node), as a
producer's uploader would on a small gateway; its own CPU time is part of the result.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from eth_account import Account

from vntrace.node.config import usable_cores

from .procs import (
    ANVIL_ADMIN_KEY,
    ANVIL_OPERATOR_KEY,
    AnvilProcess,
    ProcessError,
    ServeProcess,
    anvil_binary,
)
from .signing import EventSigner, SignedBatch
from .timing import summarize

Say = Callable[[str], None]
Note = Callable[[str], None]
T = TypeVar("T")

CHAINS = ("embedded", "anvil")


class BenchError(RuntimeError):
    """The node answered something the benchmark cannot count (a bug, not a figure)."""


@dataclass(frozen=True, slots=True)
class E2EConfig:
    """How much each phase does; :meth:`scaled` shrinks the timed phases to a budget."""

    clients: int = 4
    batch_sizes: tuple[int, ...] = (1, 10, 100, 1000)
    ingest_seconds: float = 8.0
    ingest_records: int = 16_000  # most records pre-signed per batch size (all clients)
    bundles: int = 1000
    verify_batch: int = 1000
    verify_ids_batch: int = 250
    # Two per worker of `vntrace serve`'s default on 2 cores: each connection stays with
    # the worker the kernel hashed it to (SO_REUSEPORT), so with 2 clients both landed on
    # one worker in about half the runs and the figure halved (6k vs 12k records/s).
    verify_clients: int = 4
    verify_seconds: float = 6.0
    latency_clients: tuple[int, ...] = (1, 8, 32)
    latency_seconds: float = 5.0
    anchor_seconds: float = 20.0
    anchor_batch: int = 10
    anchor_share: float = 0.25  # of the best ingestion rate
    anchor_rate_bounds: tuple[float, float] = (40.0, 1000.0)
    poll_interval: float = 0.1
    epoch_seconds: float | None = None  # None: the node's default (2 s)
    workers: int | None = None  # vntrace serve --workers; None: its default (one per core)

    def scaled(self, factor: float) -> E2EConfig:
        """The same run with timed phases ``factor`` times as long (at least 1 s)."""
        return replace(
            self,
            ingest_seconds=max(1.0, self.ingest_seconds * factor),
            verify_seconds=max(1.0, self.verify_seconds * factor),
            latency_seconds=max(1.0, self.latency_seconds * factor),
            anchor_seconds=max(3.0, self.anchor_seconds * factor),
        )


FULL = E2EConfig()
ANVIL_FULL = replace(
    FULL,
    batch_sizes=(10, 100, 1000),
    ingest_seconds=6.0,
    verify_seconds=4.0,
    latency_seconds=3.0,
    anchor_seconds=15.0,
)
QUICK = E2EConfig(
    clients=2,
    batch_sizes=(1, 50),
    ingest_seconds=1.0,
    ingest_records=200,
    bundles=40,
    verify_batch=20,
    verify_ids_batch=10,
    verify_clients=1,
    verify_seconds=0.5,
    latency_clients=(1, 4),
    latency_seconds=0.5,
    anchor_seconds=2.0,
    anchor_batch=5,
    anchor_rate_bounds=(20.0, 100.0),
    epoch_seconds=0.3,
)


def config_for(chain: str, quick: bool) -> E2EConfig:
    if quick:
        return QUICK
    return ANVIL_FULL if chain == "anvil" else FULL


@dataclass
class Producer:
    """One benchmark client's identity: its key, API token and signer."""

    address: str
    token: str
    signer: EventSigner


@dataclass
class ChainRun:
    """Everything measured against one node."""

    chain: str
    config: dict[str, Any]
    node: dict[str, Any] = field(default_factory=dict)
    ingest: list[dict[str, Any]] = field(default_factory=list)
    bundle_reads: dict[str, Any] = field(default_factory=dict)
    verify_api_bundles: dict[str, Any] = field(default_factory=dict)
    verify_api_ids: dict[str, Any] = field(default_factory=dict)
    verify_sdk: dict[str, Any] = field(default_factory=dict)
    latency: list[dict[str, Any]] = field(default_factory=list)
    anchoring: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """Why the run stopped (the node did not start, or no record was ingested)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Phases that failed, by name; the others still ran."""

    def phase(self, name: str, say: Say, fn: Callable[[], T]) -> T | None:
        """Run one phase; a failure is recorded under ``name`` and the run goes on."""
        try:
            return fn()
        except (BenchError, httpx.HTTPError) as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}"[:600]
            say(f"e2e {self.chain}: {name} FAILED: {self.errors[name][:300]}")
            return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the node --------------------------------------------------------------------------


def _node_env(chain: str, cfg: E2EConfig, anvil: AnvilProcess | None) -> dict[str, str]:
    env: dict[str, str] = {}
    if cfg.epoch_seconds is not None:
        env["VNTRACE_EPOCH_SECONDS"] = str(cfg.epoch_seconds)
    if cfg.workers is not None:
        env["VNTRACE_WORKERS"] = str(cfg.workers)
    if chain == "anvil":
        assert anvil is not None
        env.update(
            VNTRACE_CHAIN="rpc",
            VNTRACE_RPC_URL=anvil.url,
            VNTRACE_OPERATOR_KEY=ANVIL_OPERATOR_KEY,
            VNTRACE_ADMIN_KEY=ANVIL_ADMIN_KEY,
        )
    return env


def _check(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:400]}"
        )
    return response


def _make_producers(
    http: httpx.Client, admin_token: str, info: dict[str, Any], count: int
) -> list[Producer]:
    admin = {"Authorization": f"Bearer {admin_token}"}
    out = []
    for i in range(count):
        account = Account.create()
        key = "0x" + bytes(account.key).hex()
        body = {"address": account.address, "name": f"bench producer {i}"}
        _check(http.post("/v1/producers", json=body, headers=admin), 200, 201)
        issued = _check(http.post(f"/v1/producers/{account.address}/keys", headers=admin), 201)
        signer = EventSigner(key, int(info["chainId"]), str(info["registry"]), info["profile"])
        out.append(Producer(account.address, issued.json()["token"], signer))
    return out


def _events_path(batch: SignedBatch) -> str:
    return f"/v1/lots/{batch.gtin}/{quote(batch.lot, safe='')}/events"


def _client(url: str, token: str | None = None, limit: int = 64) -> httpx.AsyncClient:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=url,
        headers=headers,
        timeout=120.0,
        limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
    )


# -- ingestion -------------------------------------------------------------------------


async def _send_batches(
    url: str, producer: Producer, batches: list[SignedBatch], deadline: float, lat: list[float]
) -> tuple[int, list[str]]:
    done, ids = 0, []
    async with _client(url, producer.token, 1) as http:
        for batch in batches:
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            response = await http.post(
                _events_path(batch),
                content=batch.body,
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            _check(response, 201)
            lat.append(time.perf_counter() - began)
            done += batch.size
            ids.extend(batch.record_ids)
    return done, ids


def measure_ingest(
    url: str,
    producers: list[Producer],
    gtin: str,
    batch_size: int,
    cfg: E2EConfig,
    tag: str,
) -> tuple[dict[str, Any], list[str], list[list[str]]]:
    """Records/s through the batch endpoint, all clients at once, for one batch size;
    also every acknowledged id and each client's last batch of ids."""
    per_client = max(1, cfg.ingest_records // len(producers) // batch_size)
    work = [
        [p.signer.batch(gtin, f"{tag}-B{batch_size}-C{c}", batch_size) for _ in range(per_client)]
        for c, p in enumerate(producers)
    ]
    lat: list[float] = []

    async def run() -> list[tuple[int, list[str]]]:
        deadline = time.perf_counter() + cfg.ingest_seconds
        return await asyncio.gather(
            *(_send_batches(url, p, w, deadline, lat) for p, w in zip(producers, work, strict=True))
        )

    began = time.perf_counter()
    results = asyncio.run(run())
    seconds = time.perf_counter() - began
    records = sum(n for n, _ in results)
    ids = [i for _, got in results for i in got]
    last = [got[-batch_size:] for _, got in results if got]
    return (
        {
            "batch_size": batch_size,
            "clients": len(producers),
            "records": records,
            "requests": len(lat),
            "seconds": seconds,
            "records_per_s": records / seconds,
            "request_latency": summarize(lat),
        },
        ids,
        last,
    )


# -- reading and verifying -------------------------------------------------------------


def wait_anchored(http: httpx.Client, record_ids: list[str], timeout: float) -> float:
    """Wait until every record in ``record_ids`` is anchored; returns the seconds waited.

    Epochs seal the oldest pending records first and are anchored in order, so waiting
    for the newest records (each client's last) waits for all of them."""
    began = time.monotonic()
    pending = list(record_ids)
    while pending:
        status = _check(http.get(f"/v1/records/{pending[-1]}"), 200).json()["status"]
        if status == "anchored":
            pending.pop()
            continue
        if time.monotonic() - began > timeout:
            raise BenchError(f"records not anchored within {timeout:.0f}s")
        time.sleep(0.2)
    return time.monotonic() - began


async def _fetch_bundles(url: str, ids: list[str], clients: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any] | None] = [None] * len(ids)
    queue = list(enumerate(ids))

    async def worker(http: httpx.AsyncClient) -> None:
        while queue:
            i, rid = queue.pop()
            out[i] = _check(await http.get(f"/v1/records/{rid}/bundle"), 200).json()

    async with _client(url, limit=clients) as http:
        await asyncio.gather(*(worker(http) for _ in range(clients)))
    return [b for b in out if b is not None]


def measure_bundle_reads(
    url: str, ids: list[str], clients: int = 4
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Bundles/s of ``GET /v1/records/{id}/bundle`` with ``clients`` at once, and the bundles."""
    began = time.perf_counter()
    bundles = asyncio.run(_fetch_bundles(url, ids, clients))
    seconds = time.perf_counter() - began
    if any(b.get("status") != "anchored" for b in bundles):
        raise BenchError("a bundle asked for is not anchored")
    proofs = [len(b.get("proof") or []) for b in bundles]
    return {
        "records": len(bundles),
        "clients": clients,
        "seconds": seconds,
        "records_per_s": len(bundles) / seconds,
        "mean_proof_length": sum(proofs) / len(proofs) if proofs else None,
    }, bundles


async def _verify_loop(
    url: str, bodies: list[tuple[bytes, int]], clients: int, seconds: float
) -> tuple[int, list[float]]:
    lat: list[float] = []
    verified = 0

    async def worker(http: httpx.AsyncClient, offset: int) -> None:
        nonlocal verified
        deadline = time.perf_counter() + seconds
        i = offset
        while True:
            body, count = bodies[i % len(bodies)]
            began = time.perf_counter()
            response = _check(await http.post("/v1/verify", content=body), 200)
            lat.append(time.perf_counter() - began)
            summary = response.json()["summary"]
            if summary.get("verified") != count:
                raise BenchError(f"verification did not verify everything: {summary}")
            verified += count
            i += clients
            if time.perf_counter() >= deadline:
                return

    async with _client(url, limit=clients) as http:
        await asyncio.gather(*(worker(http, k) for k in range(clients)))
    return verified, lat


def measure_verify_api(
    url: str, items: list[Any], key: str, per_request: int, clients: int, seconds: float
) -> dict[str, Any]:
    """Records/s through ``POST /v1/verify`` with ``key`` (``bundles`` or ``recordIds``)."""
    chunks = [items[i : i + per_request] for i in range(0, len(items), per_request)]
    bodies = [(json.dumps({key: c}, separators=(",", ":")).encode(), len(c)) for c in chunks]
    began = time.perf_counter()
    verified, lat = asyncio.run(_verify_loop(url, bodies, clients, seconds))
    elapsed = time.perf_counter() - began
    return {
        "records": verified,
        "per_request": per_request,
        "clients": clients,
        "seconds": elapsed,
        "records_per_s": verified / elapsed,
        "request_latency": summarize(lat),
    }


def measure_verify_sdk(
    rpc_url: str, bundles: list[dict[str, Any]], seconds: float
) -> dict[str, Any]:
    """Records/s of the SDK's independent ``verify_bundles`` (this process + JSON-RPC)."""
    from vntrace.client import verify_bundles

    verify_bundles(bundles[:1], rpc_url=rpc_url)  # lazy imports, untimed (as the baseline's)
    verified, calls = 0, 0
    began = time.perf_counter()
    while True:
        results = verify_bundles(bundles, rpc_url=rpc_url)
        bad = [r for r in results if r.status != "verified"]
        if bad:
            raise BenchError(f"the SDK did not verify a bundle: {bad[0].status} {bad[0].reasons}")
        verified += len(results)
        calls += 1
        if time.perf_counter() - began >= seconds:
            break
    elapsed = time.perf_counter() - began
    return {
        "records": verified,
        "per_call": len(bundles),
        "calls": calls,
        "seconds": elapsed,
        "records_per_s": verified / elapsed,
        "rpc": "node /rpc" if rpc_url.endswith("/rpc") else "anvil",
    }


async def _latency(url: str, bodies: list[bytes], clients: int, seconds: float) -> list[float]:
    lat: list[float] = []

    async def worker(k: int) -> None:
        async with _client(url, limit=1) as http:
            for w in range(3):  # connection set up and warm, outside the figures
                _check(await http.post("/v1/verify", content=bodies[(k + w) % len(bodies)]), 200)
            await start.wait()
            i = k
            while not stop.is_set():
                began = time.perf_counter()
                _check(await http.post("/v1/verify", content=bodies[i % len(bodies)]), 200)
                lat.append(time.perf_counter() - began)
                i += clients

    start, stop = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(worker(k)) for k in range(clients)]
    await asyncio.sleep(0.2)
    start.set()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return lat


def measure_latency(
    url: str, bundles: list[dict[str, Any]], clients: int, seconds: float
) -> dict[str, Any]:
    """Latency of single-bundle ``POST /v1/verify`` with ``clients`` concurrent clients."""
    bodies = [json.dumps({"bundles": [b]}, separators=(",", ":")).encode() for b in bundles]
    lat = asyncio.run(_latency(url, bodies, clients, seconds))
    return {"clients": clients, "requests_per_s": len(lat) / seconds, **summarize(lat)}


# -- acknowledgement to anchored ---------------------------------------------------------


async def _steady(
    url: str,
    producer: Producer,
    batches: list[SignedBatch],
    interval: float,
    poll: float,
    drain_timeout: float,
) -> tuple[list[float], int, float]:
    """Send ``batches`` every ``interval`` s; poll status; ack-to-anchored per batch."""
    acked: list[tuple[str, float]] = []  # (first record id, acknowledged at), in ack order
    anchored: dict[int, float] = {}
    sent = 0
    sending_done = asyncio.Event()

    async def sender(http: httpx.AsyncClient) -> None:
        nonlocal sent
        began = time.perf_counter()
        for k, batch in enumerate(batches):
            delay = began + k * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            response = await http.post(
                _events_path(batch),
                content=batch.body,
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            _check(response, 201)
            acked.append((batch.record_ids[0], time.perf_counter()))
            sent += batch.size
        sending_done.set()

    async def poller(http: httpx.AsyncClient) -> None:
        # Epochs seal oldest records first: check the oldest unanchored batch, and move
        # on as long as batches are anchored (those of one epoch all are at once).
        nxt = 0
        deadline: float | None = None
        while True:
            while nxt < len(acked):
                rid, _ = acked[nxt]
                status = _check(await http.get(f"/v1/records/{rid}"), 200).json()["status"]
                if status != "anchored":
                    break
                anchored[nxt] = time.perf_counter()
                nxt += 1
            if sending_done.is_set():
                if nxt >= len(acked):
                    return
                deadline = deadline or time.perf_counter() + drain_timeout
                if time.perf_counter() > deadline:
                    raise BenchError(f"records not anchored within {drain_timeout:.0f}s")
            await asyncio.sleep(poll)

    async with _client(url, producer.token, 2) as http, _client(url, limit=2) as reader:
        began = time.perf_counter()
        await asyncio.gather(sender(http), poller(reader))
        elapsed = time.perf_counter() - began
    waits = [anchored[i] - t for i, (_, t) in enumerate(acked)]
    return waits, sent, elapsed


def measure_ack_to_anchored(
    url: str, producer: Producer, gtin: str, rate: float, cfg: E2EConfig, epoch_seconds: float
) -> dict[str, Any]:
    """Acknowledgement-to-anchored times at ``rate`` records/s (batches of anchor_batch)."""
    requests = max(3, int(rate * cfg.anchor_seconds / cfg.anchor_batch))
    interval = cfg.anchor_batch / rate
    batches = [producer.signer.batch(gtin, "STEADY", cfg.anchor_batch) for _ in range(requests)]
    drain = epoch_seconds * 3 + 30
    waits, sent, elapsed = asyncio.run(
        _steady(url, producer, batches, interval, cfg.poll_interval, drain)
    )
    stats = summarize(waits)
    return {
        "offered_records_per_s": rate,
        "batch_size": cfg.anchor_batch,
        "records": sent,
        "batches": len(waits),
        "seconds": elapsed,
        "poll_interval_s": cfg.poll_interval,
        "epoch_seconds": epoch_seconds,
        "p50_s": stats.get("p50_ms", 0) / 1000,
        "p95_s": stats.get("p95_ms", 0) / 1000,
        "max_s": stats.get("max_ms", 0) / 1000,
        "mean_s": stats.get("mean_ms", 0) / 1000,
    }


# -- one chain ---------------------------------------------------------------------------


def _sample(ids: list[str], count: int, seed: int = 7) -> list[str]:
    return random.Random(seed).sample(ids, min(count, len(ids)))


def run_chain(
    chain: str,
    cfg: E2EConfig,
    say: Say,
    note: Note | None = None,
    work_dir: Path | None = None,
) -> ChainRun:
    """Start a node on ``chain`` (and anvil for it), measure every phase, stop it."""
    run = ChainRun(chain, asdict(cfg))
    note = note or (lambda _m: None)
    tmp = Path(tempfile.mkdtemp(prefix=f"vntrace-bench-{chain}-", dir=work_dir))
    anvil: AnvilProcess | None = None
    server: ServeProcess | None = None
    try:
        if chain == "anvil":
            anvil = AnvilProcess().start()
            run.node["anvil"] = anvil.version()
        say(f"e2e {chain}: starting vntrace serve")
        began = time.perf_counter()
        server = ServeProcess(tmp / "node", _node_env(chain, cfg, anvil)).start()
        run.node["startup_s"] = time.perf_counter() - began
        run.node["workers"] = cfg.workers or usable_cores()
        _measure(run, server, anvil, cfg, say, note)
    except (BenchError, ProcessError, httpx.HTTPError) as exc:
        run.error = f"{type(exc).__name__}: {exc}"
        say(f"e2e {chain}: FAILED: {run.error[:300]}")
    finally:
        if server is not None:
            run.node["exit_code"] = server.stop()
        if anvil is not None:
            anvil.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return run


SdkMeasure = Callable[[str, list[dict[str, Any]], float], dict[str, Any]]
"""``(rpc_url, bundles, seconds)`` to the SDK phase's figures."""


@dataclass(frozen=True)
class PhasePlan:
    """Which node the phases measure, and the phases that differ between runs.

    The current node's run and the previous release's (``baseline.py``) go through the
    same sequence (:func:`measure_phases`), so their figures stay comparable."""

    label: str
    """Progress prefix: ``e2e embedded``, ``baseline ce9720f``."""
    tag: str
    """Lot-name prefix of the ingested batches."""
    sdk: SdkMeasure
    rpc_url: str | None = None
    """Where the SDK reads the chain (default: the node's ``/rpc``)."""
    record_ids: bool = True
    """Also measure ``POST /v1/verify`` with record ids."""
    ack_to_anchored: bool = True


def _measure(
    run: ChainRun,
    server: ServeProcess,
    anvil: AnvilProcess | None,
    cfg: E2EConfig,
    say: Say,
    note: Note,
) -> None:
    plan = PhasePlan(
        label=f"e2e {run.chain}",
        tag=run.chain[:3].upper(),
        sdk=measure_verify_sdk,
        rpc_url=anvil.url if anvil is not None else None,
    )
    measure_phases(run, server, cfg, plan, say, note)


def measure_phases(
    run: ChainRun,
    server: ServeProcess,
    cfg: E2EConfig,
    plan: PhasePlan,
    say: Say,
    note: Note | None = None,
) -> None:
    """Every timed phase against a running node, in order: ingestion per batch size,
    the drain, bundle reads, ``POST /v1/verify``, the SDK, latency, then (if planned)
    acknowledgement to anchored. A phase that fails is recorded and the next runs."""
    note = note or (lambda _m: None)
    label, url = plan.label, server.url
    with httpx.Client(base_url=url, timeout=120.0) as http:
        info = _check(http.get("/v1/info"), 200).json()
        epoch_seconds = float(info.get("epochSeconds") or cfg.epoch_seconds or 2.0)
        run.node.update(chain_id=info["chainId"], epoch_seconds=epoch_seconds)
        if "limits" in info:
            run.node["limits"] = info["limits"]
        gtin = info["gtins"][0]
        producers = _make_producers(http, server.admin_token(), info, cfg.clients)

        all_ids: list[str] = []
        last_batches: list[list[str]] = []
        for bs in cfg.batch_sizes:
            say(f"{label}: ingestion, batches of {bs}, {cfg.clients} clients")
            got = run.phase(
                f"ingest {bs}",
                say,
                lambda bs=bs: measure_ingest(url, producers, gtin, bs, cfg, tag=plan.tag),
            )
            if got is not None:
                run.ingest.append(got[0])
                all_ids += got[1]
                last_batches = got[2]
                note(f"{got[0]['records_per_s']:,.0f} records/s")
        if not all_ids:
            raise BenchError(f"{label}: no record was ingested")

        say(f"{label}: waiting for {len(all_ids):,} records to be anchored")
        newest = [batch[-1] for batch in last_batches]
        run.node["drain_s"] = wait_anchored(http, newest, timeout=epoch_seconds * 5 + 120)

        say(f"{label}: reading {min(cfg.bundles, len(all_ids))} bundles")
        ids = _sample(all_ids, cfg.bundles)
        read = run.phase("bundle reads", say, lambda: measure_bundle_reads(url, ids))
        if read is None:
            raise BenchError(f"{label}: no bundle could be read")
        run.bundle_reads, bundles = read

        say(f"{label}: POST /v1/verify, {cfg.verify_batch} bundles per request")
        run.verify_api_bundles = (
            run.phase(
                "verify bundles",
                say,
                lambda: measure_verify_api(
                    url,
                    bundles,
                    "bundles",
                    cfg.verify_batch,
                    cfg.verify_clients,
                    cfg.verify_seconds,
                ),
            )
            or {}
        )
        if plan.record_ids:
            say(f"{label}: POST /v1/verify, {cfg.verify_ids_batch} record ids per request")
            run.verify_api_ids = (
                run.phase(
                    "verify record ids",
                    say,
                    lambda: measure_verify_api(
                        url,
                        ids,
                        "recordIds",
                        cfg.verify_ids_batch,
                        cfg.verify_clients,
                        cfg.verify_seconds,
                    ),
                )
                or {}
            )
        rpc_url = plan.rpc_url or url + "/rpc"
        say(f"{label}: SDK verify_bundles against {plan.rpc_url or 'the node /rpc'}")
        run.verify_sdk = (
            run.phase(
                "SDK verify",
                say,
                lambda: plan.sdk(rpc_url, bundles[: cfg.verify_batch], cfg.verify_seconds),
            )
            or {}
        )
        for clients in cfg.latency_clients:
            who = "1 client" if clients == 1 else f"{clients} clients"
            say(f"{label}: single-bundle verification latency, {who}")
            row = run.phase(
                f"latency {clients}",
                say,
                lambda c=clients: measure_latency(url, bundles, c, cfg.latency_seconds),
            )
            if row is not None:
                run.latency.append(row)

        if not plan.ack_to_anchored:
            return
        best = max((r["records_per_s"] for r in run.ingest), default=100.0)
        low, high = cfg.anchor_rate_bounds
        rate = round(min(high, max(low, best * cfg.anchor_share)))
        say(f"{label}: acknowledgement to anchored at {rate} records/s")
        run.anchoring = (
            run.phase(
                "ack to anchored",
                say,
                lambda: measure_ack_to_anchored(url, producers[0], gtin, rate, cfg, epoch_seconds),
            )
            or {}
        )


def run_e2e(
    chains: tuple[str, ...] = CHAINS,
    quick: bool = False,
    say: Say | None = None,
    note: Note | None = None,
    scale: float = 1.0,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the end-to-end benchmark on each chain; anvil is skipped (with the reason)
    when its binary is not installed."""
    say = say or (lambda _m: None)
    out: dict[str, Any] = {"schema": "vntrace.bench.e2e/1", "chains": {}}
    for chain in chains:
        if chain == "anvil" and anvil_binary() is None:
            out["chains"][chain] = {"chain": chain, "skipped": "anvil is not installed (npm ci)"}
            say("e2e anvil: skipped, anvil is not installed (npm ci)")
            continue
        cfg = config_for(chain, quick)
        if scale != 1.0:
            cfg = cfg.scaled(scale)
        out["chains"][chain] = run_chain(chain, cfg, say, note, work_dir).to_json()
    return out
