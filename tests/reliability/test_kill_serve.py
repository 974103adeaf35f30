"""kill -9 a real ``vntrace serve`` at random moments of HTTP intake; nothing is lost or doubled.

One data folder lives through ``ROUNDS`` runs of the server. In each, two HTTP clients
register lots and append signed events (and now and then resend a record already
acknowledged) while epochs of 0.3 s seal and anchor in the background; after a random
0.3-2.5 s the process gets SIGKILL. In some rounds a pipeline fault point is armed as
well (``VNTRACE_FAULT_POINTS``: inside the intake or sealing transaction, after
sealing, signing, sending, the receipt, inside or after the anchored marking), so the
process may die by itself at that step first. A last clean run drains what is pending
and stops with SIGINT. Then:

- every record whose HTTP request got a 2xx is stored, and is anchored exactly once,
  under an on-chain root equal to the root recomputed from the stored leaves
  (:func:`~tests.reliability.invariants.check_anchored_exactly_once`);
- nothing is stored that no client sent (the store holds acknowledged records plus, at
  most, those of requests cut off by the kill);
- no request ever got a 5xx.

``VNTRACE_KILL_ROUNDS`` (default 8) and ``VNTRACE_KILL_SEED`` (default random, printed)
make a run longer or reproducible.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from vntrace.node.store import Store

from .invariants import check_anchored_exactly_once
from .serve import EventSigner, HttpProducer, ServeProcess, metric, register_producer

ROUNDS = int(os.environ.get("VNTRACE_KILL_ROUNDS", "8"))
SEED = int(os.environ.get("VNTRACE_KILL_SEED", str(secrets.randbits(32))))
FAULT_POINTS = [
    "add_records:inserted",
    "seal:selected",
    "seal:epoch_inserted",
    "seal:records_updated",
    "after_seal",
    "after_sign",
    "after_send",
    "after_receipt",
    "anchor:epoch_updated",
    "after_anchored",
]


@dataclass
class Ledger:
    """What the clients sent and what the server acknowledged (thread-safe)."""

    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    cut_off: int = 0
    duplicates_resent: int = 0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Writer:
    """One producer's client state across rounds: its lots and a record to resend."""

    producer: HttpProducer
    lots: list[tuple[str, int]] = field(default_factory=list)
    first: tuple[str, list[dict[str, Any]], list[str]] | None = None


def _client_loop(
    url: str,
    writer: Writer,
    signer: EventSigner,
    ledger: Ledger,
    rng: random.Random,
    stop: threading.Event,
) -> None:
    account, lots = writer.producer.account, writer.lots
    with httpx.Client(base_url=url, timeout=60, headers=writer.producer.headers) as http:
        while not stop.is_set():
            choice = rng.random()
            resend = choice < 0.1 and writer.first is not None
            try:
                if resend and writer.first is not None:
                    # resend an acknowledged batch: it must come back as duplicates
                    lot, items, ids = writer.first
                    r = http.post(f"/v1/lots/{signer.gtin}/{lot}/events", json={"events": items})
                    with ledger.lock:
                        ledger.duplicates_resent += 1
                elif choice < 0.45 or not lots:
                    lot = "K-" + secrets.token_hex(6).upper()
                    count = rng.randint(1, 4)
                    items, ids = signer.sign(account, lot, count)
                    with ledger.lock:
                        ledger.sent.update(ids)
                    r = http.post(
                        "/v1/lots", json={"gtin": signer.gtin, "lot": lot, "events": items}
                    )
                    if r.status_code == 201:
                        lots.append((lot, count))
                        writer.first = writer.first or (lot, items, ids)
                else:
                    i = rng.randrange(len(lots))
                    lot, n = lots[i]
                    count = rng.randint(1, 5)
                    items, ids = signer.sign(account, lot, count, start=n)
                    with ledger.lock:
                        ledger.sent.update(ids)
                    r = http.post(f"/v1/lots/{signer.gtin}/{lot}/events", json={"events": items})
                    if r.status_code == 201:
                        lots[i] = (lot, n + count)
            except httpx.TransportError:
                with ledger.lock:
                    ledger.cut_off += 1
                return  # the server is gone
            with ledger.lock:
                ledger.statuses[r.status_code] += 1
                if r.is_success:
                    got = r.json()["recordIds"]
                    if sorted(got) != sorted(ids):
                        ledger.problems.append(f"records filed under other ids: {got} {ids}")
                    dup = [rec["duplicate"] for rec in r.json()["records"]]
                    if resend and (r.status_code != 200 or not all(dup)):
                        ledger.problems.append(f"a resend was stored again: {r.text[:300]}")
                    ledger.acked.update(got)
                elif r.status_code >= 500:
                    ledger.problems.append(f"{r.status_code}: {r.text[:300]}")


def _wait_drained(url: str, data_dir: Path, timeout: float = 120.0) -> None:
    """Until nothing is pending *and* no epoch is sealed but not yet anchored: a step
    seals an epoch, then anchors it, and in between no record is pending. The final
    check is on a stopped node, so the clean stop must come when nothing is in flight
    (one it interrupted stays sealed, and the next start anchors it)."""
    deadline = time.monotonic() + timeout
    store = Store.for_data_dir(data_dir)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < deadline:
                if metric(http, "vntrace_records_pending") == 0 and not store.unfinished_epochs():
                    return
                time.sleep(0.2)
    finally:
        store.close()
    raise AssertionError("records still pending or epochs unanchored after the final run")


@pytest.mark.slow
def test_acknowledged_http_records_survive_random_sigkills(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    server = ServeProcess(
        tmp_path / "node",
        env={"VNTRACE_EPOCH_SECONDS": "0.3", "VNTRACE_RATE_LIMIT_PER_SECOND": "0"},
    )
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        info = http.get("/v1/info").json()
        producers = [register_producer(http, server.admin_headers(), f"P{i}") for i in (1, 2)]
    signer = EventSigner(info)
    writers = [Writer(p) for p in producers]
    ledger = Ledger()
    kills: Counter[str] = Counter()
    armed: list[str] = []
    try:
        for round_no in range(ROUNDS):
            fault = ""
            if round_no % 2 == 1:
                fault = f"{rng.choice(FAULT_POINTS)}:{rng.randint(1, 3)}"
                armed.append(fault)
            if not server.alive():
                try:
                    server.start(VNTRACE_FAULT_POINTS=fault)
                except AssertionError:
                    # the armed point was reached while draining the previous backlog
                    assert server.proc is not None and server.proc.returncode == -9, (
                        server.log_tail()
                    )
                    kills[f"self-killed at {fault} while starting"] += 1
                    continue
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=_client_loop,
                    args=(server.url, w, signer, ledger, random.Random(rng.random()), stop),
                    daemon=True,
                )
                for w in writers
            ]
            for t in threads:
                t.start()
            delay = rng.uniform(0.3, 2.5)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and server.alive():
                time.sleep(0.02)
            if server.alive():
                code = server.kill()
                kills[f"SIGKILL after {delay:.1f} s"] += 1
            else:
                code = server.proc.returncode if server.proc else 0
                kills[f"self-killed at {fault}"] += 1
            assert code == -9, f"the server died of something else ({code}):\n{server.log_tail()}"
            stop.set()
            for t in threads:
                t.join(timeout=90)
        server.start()  # clean run: drain what is pending, then stop cleanly
        _wait_drained(server.url, server.data_dir)
        assert server.stop() == 0, server.log_tail()
    finally:
        if server.alive():
            server.kill()

    state = check_anchored_exactly_once(server.data_dir)
    print(
        f"\nkill -9 rounds: {ROUNDS} (seed {SEED}); fault points armed: {armed or 'none'}; "
        f"kills: {dict(kills)}; requests: {sum(ledger.statuses.values())} answered "
        f"{dict(sorted(ledger.statuses.items()))}, {ledger.cut_off} cut off by a kill, "
        f"{ledger.duplicates_resent} duplicate resends; records sent {len(ledger.sent)}, "
        f"acknowledged {len(ledger.acked)}, stored {state.records}, in {state.epochs} epochs"
    )
    assert not ledger.problems, ledger.problems[:5]
    logged = server.access_statuses()
    assert not [code for code in logged if code >= 500], logged
    assert all(status < 500 for status in ledger.statuses), ledger.statuses
    missing = ledger.acked - state.leaves
    assert not missing, f"{len(missing)} acknowledged records lost"
    phantom = state.leaves - ledger.sent
    assert not phantom, f"{len(phantom)} stored records nobody sent"
    # only requests cut off by a kill may have been stored without an acknowledgement
    assert len(state.leaves - ledger.acked) <= 5 * ledger.cut_off
    assert len(ledger.acked) > 0
