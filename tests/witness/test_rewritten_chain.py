"""The issue's scenario with real processes: ``vntrace serve`` on the embedded chain
pushes to two ``vntrace witness serve`` processes; both cosign several epochs. The
operator then rolls its data folder (embedded chain and database) back and anchors a
different history: the witnesses refuse it, the SDK with a witness policy fails the
rewritten records with the reason, and the witness's evidence proves the fork."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import Node, events, make_producer, new_lot
from tests.support.serve import CLI, clean_env, free_port, spawn, stop, wait_ready
from tests.witness.test_witness_processes import WitnessProc
from vntrace.client import Client, WitnessPolicy
from vntrace.node.identity import NodeIdentity
from vntrace.node.tlog.note import ED25519, Signer
from vntrace.node.tlog.service import default_origin
from vntrace.node.tlog.verify import check_equivocation

pytestmark = pytest.mark.slow


class ServedNode:
    """``vntrace serve`` on one data folder, restartable, pushing to ``witnesses``."""

    def __init__(self, data: Path, witnesses: list[WitnessProc]) -> None:
        self.data, self.port = data, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = clean_env(
            VNTRACE_EPOCH_SECONDS="0.3",
            VNTRACE_RATE_LIMIT_PER_SECOND="0",
            VNTRACE_LOG_WITNESSES=json.dumps([f"{w.url} {w.vkey}" for w in witnesses]),
            VNTRACE_LOG_WITNESS_RETRY_SECONDS="0.5",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        self.proc = spawn(self.data, self.port, self.env)
        wait_ready(self.url, self.proc, self.data)
        return Node(self.url, self.data, (self.data / "admin-token").read_text().strip())

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


def _wait_cosigned(url: str, size: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(url + "/v1/log").json()
        if status["size"] >= size and all(w["cosignedSize"] >= size for w in status["witnesses"]):
            return status
        assert time.monotonic() < deadline, f"witnesses did not cosign size {size}: {status}"
        time.sleep(0.2)


def _wait_refused(url: str, size: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(url + "/v1/log").json()
        if status["size"] >= size and all(w["lastError"] for w in status["witnesses"]):
            return status
        assert time.monotonic() < deadline, f"witnesses did not refuse size {size}: {status}"
        time.sleep(0.2)


def _anchored_lot(node: Node, producer, count: int = 2) -> list[str]:  # type: ignore[no-untyped-def]
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    written = client.register_lot(gtin, lot, producer.signer.sign_many(gtin, lot, events(count)))
    client.wait_anchored(written.record_ids, timeout=30)
    return list(written.record_ids)


def _page(url: str, producer, record_id: str) -> str:  # type: ignore[no-untyped-def]
    """The consumer page (English) of the lot holding ``record_id``."""
    rec = producer.client.record(record_id)
    r = httpx.get(f"{url}/01/{rec.gtin}/10/{rec.lot}?lang=en", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    return r.text


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[tuple[list[WitnessProc], str, Path]]:
    data = tmp_path / "node"
    data.mkdir()
    identity = NodeIdentity.load_or_create(data)  # the node adopts it at first start
    origin = default_origin(None, identity.node_id)
    log_vkey = Signer(origin, identity.private_key, ED25519).verifier.vkey
    ws = [WitnessProc(tmp_path / f"w{i}", f"witness.test/w{i}", log_vkey) for i in (1, 2)]
    for w in ws:
        w.start()
    try:
        yield ws, log_vkey, data
    finally:
        for w in ws:
            w.stop()


def test_a_rewritten_embedded_chain_is_refused_and_fails_verification(
    witnesses: tuple[list[WitnessProc], str, Path], tmp_path: Path
) -> None:
    ws, log_vkey, data = witnesses
    policy = WitnessPolicy(log_vkey, tuple(w.vkey for w in ws), 2)
    served = ServedNode(data, ws)
    node = served.start()
    try:
        producer = make_producer(node)
        honest = [_anchored_lot(node, producer) for _ in range(3)]
        size = httpx.get(node.url + "/v1/log").json()["size"]
        assert size >= 3
        status = _wait_cosigned(node.url, size)
        assert {w["name"] for w in status["witnesses"]} == {"witness.test/w1", "witness.test/w2"}

        with Client(node.url, witness_policy=policy) as consumer:
            result = consumer.verify_record(honest[-1][0])
            assert result.status == "verified", result
            assert set(result.cosigners) == {"witness.test/w1", "witness.test/w2"}
            # the node's answer without the log section fails the policy
            bundle = consumer.bundle(honest[0][0])
            bundle.pop("log")
            stripped = consumer.verify_bundle(bundle)
            assert stripped.status == "failed" and stripped.reasons == ("log_unwitnessed",)
        # The consumer page names the witnesses and gives the command with the policy.
        page = _page(node.url, producer, honest[-1][0])
        assert "cosigned by 2 independent witness(es): witness.test/w1, witness.test/w2" in page
        assert f"--log-key &#39;{log_vkey}&#39;" in page and "--min-witnesses 2" in page
        producer.client.close()
        served.stop()

        # The operator keeps a copy of its folder, anchors one more (witnessed) epoch ...
        backup = tmp_path / "backup"
        shutil.copytree(data, backup)
        node = served.start()
        producer.client = Client(node.url, api_key=producer.token)
        erased = _anchored_lot(node, producer)
        _wait_cosigned(node.url, size + 1)
        producer.client.close()
        served.stop()

        # ... then rewrites history: the chain folder and database rolled back, and
        # another epoch anchored in the erased one's place.
        shutil.rmtree(data)
        shutil.copytree(backup, data)
        node = served.start()
        producer.client = Client(node.url, api_key=producer.token)
        forged = _anchored_lot(node, producer)
        status = _wait_refused(node.url, size + 1)
        assert all(w["cosignedSize"] == size for w in status["witnesses"]), status

        with Client(node.url, witness_policy=policy) as consumer:
            bad = consumer.verify_record(forged[0])
            assert bad.status == "failed" and "log_unwitnessed" in bad.reasons, bad
            assert "0 of the trusted witnesses cosigned" in " ".join(bad.details)
            # the history before the rewrite still verifies, still cosigned
            assert consumer.verify_record(honest[0][0]).status == "verified"
            # without a policy the rewritten chain is the operator's word, and it agrees
            with Client(node.url) as trusting:
                assert trusting.verify_record(forged[0]).status == "verified"
        assert erased[0] not in forged
        page = _page(node.url, producer, forged[0])
        assert "None of the 2 witness(es) has cosigned this lot" in page
        producer.client.close()
    finally:
        served.stop()

    # Each witness kept the two signed checkpoints of size n + 1 as evidence.
    for w in ws:
        out = subprocess.run(
            [*CLI, "witness", "evidence", "--data-dir", str(w.data)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = [e for e in json.loads(out.stdout)["evidence"] if e["kind"] == "equivocation"]
        assert found, out.stdout
        statement = check_equivocation(*found[0]["checkpoints"], log_vkey)
        assert f"two different trees of size {size + 1}" in statement
