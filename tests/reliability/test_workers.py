"""``vntrace serve --workers 2`` on the embedded default: one node in several processes.

A real supervisor with two real worker processes on one data folder. Checked: every
worker takes requests, the embedded chain (held by the supervisor) answers every worker
and the public ``/rpc`` the same, one anchorer anchors every acknowledged record exactly
once, metrics count the requests of all workers, a worker killed with SIGKILL is
replaced without losing what it acknowledged, and a supervisor killed with SIGKILL takes
its workers with it (none is left serving a dead chain), after which the node restarts
on the same folder and drains; a worker that reaches a fault point dies and its
replacement does not inherit the point.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from eth_account import Account

from tests.support.anvil import ANVIL_KEYS, require_anvil, running_anvil

from .invariants import check_anchored_exactly_once
from .serve import EventSigner, ServeProcess, metric, register_producer

T = TypeVar("T")


def workers_of(pid: int) -> list[int]:
    """The uvicorn worker processes (multiprocessing spawn children) of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_anchored(http: httpx.Client, ids: list[str], timeout: float = 60) -> None:
    def done() -> bool:
        r = http.post("/v1/verify", json={"recordIds": ids})
        assert r.status_code == 200, r.text
        return all(v["status"] == "verified" for v in r.json()["results"])

    wait_for(done, timeout, "records anchored")


def _start_two_workers(node: ServeProcess) -> tuple[list[int], httpx.Client, dict]:
    """Start ``node`` and wait for its 2 workers: their pids, a client, ``/v1/info``."""
    node.start(timeout=120)
    workers = wait_for(
        lambda: len(workers_of(node.pid)) == 2 and workers_of(node.pid), 60, "2 workers"
    )
    http = httpx.Client(base_url=node.url, timeout=30)
    return workers, http, http.get("/v1/info").json()


def test_two_workers_are_one_node(tmp_path: Path) -> None:
    node = ServeProcess(
        tmp_path / "node", env={"VNTRACE_EPOCH_SECONDS": "0.3"}, args=("--workers", "2")
    )
    try:
        workers, http, info = _start_two_workers(node)
        assert info["chain"] == "embedded"
        # The public /rpc of every worker is the embedded chain's, answered by its holder.
        chain_ids = {
            httpx.post(
                node.url + "/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
            ).json()["result"]
            for _ in range(20)
        }
        assert chain_ids == {hex(info["chainId"])}
        refused = http.post(
            "/rpc",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "eth_sendRawTransaction",
                "params": ["0x00"],
            },
        ).json()
        assert refused["error"]["code"] == -32601

        producer = register_producer(http, node.admin_headers(), "Workers")
        signer = EventSigner(info)

        def write(i: int) -> list[str]:
            items, ids = signer.sign(producer.account, f"W-{i}", 5)
            with httpx.Client(base_url=node.url, timeout=30) as c:
                r = c.post(
                    f"/v1/lots/{signer.gtin}/W-{i}/events",
                    json={"events": items},
                    headers=producer.headers,
                )
            assert r.status_code == 201, r.text
            assert r.json()["recordIds"] == ids
            return ids

        with ThreadPoolExecutor(8) as pool:
            acked = [rid for ids in pool.map(write, range(40)) for rid in ids]
        assert len(set(acked)) == 200
        wait_anchored(http, acked)

        # Both workers served requests, and /metrics counts all of them, whichever answers.
        counters = {p.name for p in (node.data_dir / "metrics").glob("counter_*.db")}
        assert len(counters) >= 2, counters
        totals = {http_requests_total(http) for _ in range(6)}
        assert min(totals) >= 40, totals
        # Anchored counts are the node's (the store's), whichever worker answers the scrape.
        # A new connection each time: the kernel spreads them over both workers.
        anchored = {metric(fresh(node), "vntrace_records_anchored_total") for _ in range(10)}
        assert anchored == {200.0}, anchored
        leaders = [metric(fresh(node), "vntrace_anchoring_leader") for _ in range(20)]
        assert set(leaders) <= {0.0, 1.0} and 1.0 in leaders, leaders

        # A worker killed with SIGKILL is replaced; what it acknowledged stays.
        os.kill(workers[0], signal.SIGKILL)
        wait_for(
            lambda: len(now := workers_of(node.pid)) == 2 and workers[0] not in now,
            60,
            "a replacement worker",
        )
        more = write(100)
        wait_anchored(http, acked + more)

        # The supervisor killed with SIGKILL: no worker is left serving without the chain.
        current = workers_of(node.pid)
        node.kill()
        wait_for(lambda: not any(alive(p) for p in current), 30, "the workers to stop")
        node.start(timeout=120)
        http = httpx.Client(base_url=node.url, timeout=30)
        wait_anchored(http, acked + more)
        assert node.stop() == 0
        state = check_anchored_exactly_once(node.data_dir)
        assert set(acked + more) <= state.leaves
    finally:
        if node.alive():
            node.kill()


def test_a_crash_point_is_not_inherited_by_replacements(tmp_path: Path) -> None:
    """A worker that reaches a fault point dies, and its replacement starts without the
    plan (one that inherited it died at the same point again, in a loop, and the node
    never anchored: node/faults.py)."""
    node = ServeProcess(
        tmp_path / "node",
        env={"VNTRACE_EPOCH_SECONDS": "0.3", "VNTRACE_FAULT_POINTS": "seal:selected"},
        args=("--workers", "2"),
    )
    try:
        first, http, info = _start_two_workers(node)
        producer = register_producer(http, node.admin_headers(), "Faults")
        signer = EventSigner(info)
        items, ids = signer.sign(producer.account, "F-1", 3)
        r = http.post(
            f"/v1/lots/{signer.gtin}/F-1/events", json={"events": items}, headers=producer.headers
        )
        assert r.status_code == 201, r.text
        wait_anchored(http, ids, timeout=90)
        # Each worker of the start carries the plan (the leader dies, the next leader
        # too); no replacement does, so the node anchors after at most one death each.
        deaths = node.log_tail(100_000).count("fault injection: SIGKILL at seal:selected")
        assert deaths > 0, node.log_tail()  # the point was reached
        now = workers_of(node.pid)
        assert len(now) == 2, now
        # every death was an original worker's: no replacement died at the point again
        assert len(set(first) - set(now)) == deaths, (first, now, node.log_tail())
        assert node.stop() == 0
        assert set(ids) <= check_anchored_exactly_once(node.data_dir).leaves
    finally:
        if node.alive():
            node.kill()


def fresh(node: ServeProcess) -> httpx.Client:
    """A client on a connection of its own."""
    return httpx.Client(base_url=node.url, timeout=30)


def http_requests_total(http: httpx.Client) -> float:
    """All HTTP requests counted by /metrics (summed over labels and workers)."""
    total = 0.0
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("vntrace_http_requests_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.anvil
def test_workers_on_an_rpc_chain_share_one_registry(tmp_path: Path) -> None:
    """On anvil every worker opens the chain itself: the supervisor's registry, not one
    each (without it, every worker would deploy its own), and one anchorer."""
    require_anvil()
    with running_anvil() as anvil:
        node = ServeProcess(
            tmp_path / "node",
            env={
                "VNTRACE_EPOCH_SECONDS": "0.3",
                "VNTRACE_CHAIN": "rpc",
                "VNTRACE_RPC_URL": anvil.url,
                "VNTRACE_OPERATOR_KEY": ANVIL_KEYS[1],
                "VNTRACE_ADMIN_KEY": ANVIL_KEYS[0],
            },
            args=("--workers", "2"),
        )
        node.start(timeout=120)
        try:
            wait_for(lambda: len(workers_of(node.pid)) == 2, 60, "2 workers")
            http = httpx.Client(base_url=node.url, timeout=30)
            registries = {httpx.get(node.url + "/v1/info").json()["registry"] for _ in range(20)}
            assert len(registries) == 1, registries
            info = http.get("/v1/info").json()
            producer = register_producer(http, node.admin_headers(), "Rpc workers")
            signer = EventSigner(info)
            ids: list[str] = []
            for i in range(6):
                items, batch = signer.sign(producer.account, f"R-{i}", 4)
                r = httpx.post(
                    f"{node.url}/v1/lots/{signer.gtin}/R-{i}/events",
                    json={"events": items},
                    headers=producer.headers,
                )
                assert r.status_code == 201, r.text
                ids += batch
            wait_anchored(http, ids)
            # One registry was deployed on the chain: the admin's only contract creation.
            nonce = httpx.post(
                anvil.url,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_getTransactionCount",
                    "params": [Account.from_key(ANVIL_KEYS[0]).address, "latest"],
                },
            ).json()["result"]
            deployments = int(nonce, 16)
            assert deployments >= 1
            codes = [
                httpx.post(
                    anvil.url,
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "eth_getCode",
                        "params": [a, "latest"],
                    },
                ).json()["result"]
                for a in created_addresses(Account.from_key(ANVIL_KEYS[0]).address, deployments)
            ]
            assert sum(1 for c in codes if c not in ("0x", "0x0")) == 1, codes
            assert node.stop() == 0
        finally:
            if node.alive():
                node.kill()


def created_addresses(sender: str, count: int) -> list[str]:
    """Addresses of the contracts ``sender``'s first ``count`` transactions would create."""
    import rlp
    from eth_utils import keccak, to_canonical_address, to_checksum_address

    return [
        to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), n]))[12:])
        for n in range(count)
    ]
