"""Receipts, audits and confidential values through the SDK and the commands, against a
real node process: the node is held to its receipts (a node that drops an acknowledged
record is caught), and disclosed values are checked against the signed commitments
(a gateway that alters them is caught)."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vntrace.client import (
    AsyncClient,
    AuthError,
    Client,
    DisclosureError,
    SignedEvent,
    check_disclosures,
    load_receipts,
    save_receipts,
)
from vntrace.node.identity import b64url, b64url_decode
from vntrace.node.receipts import verify_receipt

from .conftest import (
    Node,
    Producer,
    clean_env,
    events,
    make_producer,
    new_lot,
    start_node,
    stop_node,
)
from .lying import LyingGateway, lying_gateway
from .test_cli import vntrace

LATER = datetime.now(UTC) + timedelta(days=1)
"""Past every deadline the node promises in these tests."""


@pytest.fixture(scope="module")
def gateway(node: Node) -> Iterator[LyingGateway]:
    with lying_gateway(node.url) as gw:
        yield gw


def _shipping(producer: Producer, lot: str) -> SignedEvent:
    event = next(e for e in events(6) if e["kind"] == "shipping")
    return producer.signer.sign(producer.client.info().gtins[0], lot, event)


# -- receipts and audits ------------------------------------------------------------------------


def test_receipts_come_back_signed_by_the_node(
    node: Node, producer: Producer, tmp_path: Path
) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    signed = producer.signer.sign_many(gtin, lot, events(5))
    first = client.register_lot(gtin, lot, signed[:2])
    more = client.upload_events(gtin, lot, signed[2:], batch_size=2)
    again = client.append_events(gtin, lot, signed[:1])  # a duplicate is receipted too
    identity = client.node_identity()
    key = b64url_decode(identity.ed25519)
    receipts = first.receipts + more.receipts
    assert [r["leaf"] for r in receipts] == [s.record_id for s in signed]
    for receipt in receipts + again.receipts:
        verify_receipt(receipt, key)
        assert receipt["nodeId"] == identity.node_id
        assert receipt["lotKey"] == signed[0].lot_key
    assert again.records[0].duplicate
    # The duplicate's receipt attests the same intake (batch receipts: another batch).
    fields = ("leaf", "lotKey", "receivedAt", "anchorDeadline", "chainId", "registry")
    assert [again.receipts[0][f] for f in fields] == [first.receipts[0][f] for f in fields]

    path = tmp_path / "receipts.jsonl"
    assert save_receipts(path, receipts) == 5
    assert save_receipts(path, receipts[:1]) == 1
    assert save_receipts(path, again.receipts) == 1
    # The exact duplicate line is dropped on load; the retry's receipt (another batch's
    # signature over the same facts) is kept: it is evidence of its own.
    assert load_receipts(path) == receipts + again.receipts


def test_audit_in_time_after_anchoring(node: Node, producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    written = client.register_lot(gtin, lot, producer.signer.sign_many(gtin, lot, events(3)))
    client.wait_anchored(written.record_ids, timeout=30)

    report = client.audit(written.receipts)
    assert [e.status for e in report.entries] == ["in_time"] * 3
    assert report.ok and report.node.confirmed and not report.node.problems
    assert all(e.anchored_at is not None for e in report.entries)
    assert report.counts["in_time"] == 3

    with Client(node.url) as anyone:  # no API key needed, and the chain given explicitly
        same = anyone.audit(written.receipts, rpc_url=node.rpc_url, now=LATER)
    assert [e.status for e in same.entries] == ["in_time"] * 3

    async def run() -> list[str]:
        async with AsyncClient(node.url) as c:
            return [e.status for e in (await c.audit(written.receipts)).entries]

    assert asyncio.run(run()) == ["in_time"] * 3

    forged = dict(written.receipts[0], anchorDeadline="2099-01-01T00:00:00.000Z")
    foreign = dict(written.receipts[1], chainId=1)
    bad = client.audit([forged, foreign, {"leaf": "nonsense"}])
    assert [e.status for e in bad.entries] == ["invalid_receipt"] * 3
    assert "issued for chain 1" in bad.entries[1].detail and not bad.ok


def test_a_node_that_drops_an_acknowledged_record_is_caught(tmp_path: Path) -> None:
    """Acknowledge three records, delete one from the database while the node is down,
    restart and anchor: the audit says ``never`` for it, and ``vntrace audit`` exits 1."""
    data = tmp_path / "node"
    data.mkdir()
    node, proc = start_node(data, epoch_seconds=3600)  # nothing anchors before the drop
    try:
        producer = make_producer(node)
        client = producer.client
        gtin, lot = client.info().gtins[0], new_lot()
        written = client.register_lot(gtin, lot, producer.signer.sign_many(gtin, lot, events(3)))
        receipts_file = tmp_path / "receipts.jsonl"
        save_receipts(receipts_file, written.receipts)
        client.close()
    finally:
        stop_node(proc)
    dropped = written.record_ids[1]
    with sqlite3.connect(data / "vntrace.db") as db:
        gone = db.execute("DELETE FROM records WHERE leaf = ?", (bytes.fromhex(dropped[2:]),))
        assert gone.rowcount == 1

    node, proc = start_node(data, epoch_seconds=0.2)
    try:
        with Client(node.url) as client:
            kept = [written.record_ids[0], written.record_ids[2]]
            client.wait_anchored(kept, timeout=30)
            receipts = load_receipts(receipts_file)

            early = client.audit(receipts)  # its deadline has not passed yet
            assert [e.status for e in early.entries] == ["in_time", "pending", "in_time"]
            assert early.ok

            later = client.audit(receipts, now=LATER)
            assert [e.status for e in later.entries] == ["in_time", "never", "in_time"]
            assert later.entries[1].record_id == dropped
            assert "no such record" in later.entries[1].detail
            assert not later.ok and later.counts["never"] == 1

        env = clean_env(VNTRACE_NODE_URL=node.url)
        r = vntrace("audit", str(receipts_file), "--now", LATER.isoformat(), env=env)
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"never      {dropped}" in r.stdout and "AUDIT FAILED" in r.stdout
        r = vntrace("audit", str(receipts_file), "--json", "--now", LATER.isoformat(), env=env)
        assert r.returncode == 1
        report = json.loads(r.stdout)
        assert report["summary"]["never"] == 1 and report["summary"]["in_time"] == 2
        assert report["node"]["confirmedOnChain"] is True
        r = vntrace("audit", str(receipts_file), env=env)
        assert r.returncode == 0, r.stdout + r.stderr  # pending is not (yet) a failure
    finally:
        stop_node(proc)


def test_audit_does_not_trust_the_node(
    producer: Producer, gateway: LyingGateway, tmp_path: Path
) -> None:
    """A node that serves another key than it registered is reported loudly; a made-up
    proof or root does not count as anchored."""
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    written = client.register_lot(gtin, lot, producer.signer.sign_many(gtin, lot, events(2)))
    client.wait_anchored(written.record_ids, timeout=30)
    path = tmp_path / "receipts.jsonl"
    save_receipts(path, written.receipts)
    other_key = b64url(bytes(range(32)))

    def other_identity(p: str, doc: Any) -> Any:
        if p == "/.well-known/vntrace-node.json":
            doc = dict(doc, ed25519=other_key)
        return doc

    gateway.lie = other_identity
    try:
        with Client(gateway.url) as c:
            report = c.audit(written.receipts)
        assert not report.ok and any("KEY MISMATCH" in p for p in report.node.problems)
        assert [e.status for e in report.entries] == ["in_time"] * 2  # the registered key
        r = vntrace("audit", str(path), "--node", gateway.url, env=clean_env())
        assert r.returncode == 1 and "WARNING: KEY MISMATCH" in r.stderr
        assert "!! WARNING" in r.stdout
    finally:
        gateway.lie = None

    def fake_root(p: str, doc: Any) -> Any:
        if p.endswith("/bundle"):
            doc = dict(doc, root="0x" + "ab" * 32, proof=[])
        return doc

    gateway.lie = fake_root
    try:
        with Client(gateway.url) as c:
            report = c.audit(written.receipts, now=LATER)
        assert [e.status for e in report.entries] == ["never"] * 2
        assert "proof does not lead" in report.entries[0].detail
    finally:
        gateway.lie = None


# -- confidential values ---------------------------------------------------------------------------


def test_confidential_values_reach_only_authorised_readers(node: Node, producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    shipping = _shipping(producer, lot)
    rid = client.register_lot(gtin, lot, [shipping]).record_ids[0]

    public = client.bundle(rid)  # what anyone sees: the commitment only
    assert public["event"]["price"] == shipping.event["price"]
    assert set(public["event"]["price"]) == {"commitment"}
    served = json.dumps([public, client.provenance(gtin, lot)])
    assert "16740" not in served and "Hamburg" not in served

    own = client.disclosures(rid)
    assert own.ok and own.values == {p: d["value"] for p, d in shipping.disclosures.items()}
    assert own.values["price"] == {"amount": "16740.00", "currency": "USD"}
    assert own.opened_event()["price"]["amount"] == "16740.00"
    assert own.producer == producer.address and not own.undisclosed

    with node.auditor() as auditor:
        checked = auditor.disclosures(rid)
    assert checked.ok and checked.disclosures == own.disclosures

    async def as_auditor() -> dict[str, Any]:
        with node.admin() as admin:
            token = admin.issue_auditor_key(label="async").token
        async with AsyncClient(node.url, api_key=token) as c:
            return (await c.disclosures(rid)).values

    assert asyncio.run(as_auditor()) == own.values

    stranger = make_producer(node, "Stranger")
    with pytest.raises(AuthError) as err:
        stranger.client.disclosures(rid)
    assert err.value.status == 403
    stranger.client.close()
    with Client(node.url) as anonymous, pytest.raises(AuthError) as err:
        anonymous.disclosures(rid)
    assert err.value.status == 401


def test_disclosures_can_be_withheld(producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    shipping = _shipping(producer, lot)
    rid = client.register_lot(gtin, lot, [shipping], disclose=False).record_ids[0]
    result = client.disclosures(rid)
    assert result.ok and result.values == {} and set(result.undisclosed) == {"buyer", "price"}
    # The producer's own copy still opens the public commitments.
    mine = check_disclosures(client.bundle(rid), shipping.disclosures, record_id=rid)
    assert mine.ok and mine.values["price"]["amount"] == "16740.00"


def _tamper_value(doc: dict[str, Any]) -> None:
    doc["disclosures"]["price"]["value"] = {"amount": "9000.00", "currency": "USD"}


def _tamper_salt(doc: dict[str, Any]) -> None:
    doc["disclosures"]["price"]["salt"] = "0x" + "00" * 32


@pytest.mark.parametrize("tamper", [_tamper_value, _tamper_salt], ids=["value", "salt"])
def test_a_tampered_disclosure_is_caught(
    node: Node, producer: Producer, gateway: LyingGateway, tamper: Any
) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    rid = client.register_lot(gtin, lot, [_shipping(producer, lot)]).record_ids[0]

    def lie(path: str, doc: Any) -> Any:
        if path.endswith("/disclosures"):
            doc = copy.deepcopy(doc)
            tamper(doc)
        return doc

    gateway.lie = lie
    try:
        with Client(gateway.url, api_key=producer.token) as c:
            with pytest.raises(DisclosureError) as err:
                c.disclosures(rid)
            assert [f.field for f in err.value.result.failures] == ["price"]
            assert err.value.result.failures[0].code == "disclosure_mismatch"
            lenient = c.disclosures(rid, strict=False)
            assert not lenient.ok and lenient.values == {}

        async def run() -> Any:
            async with AsyncClient(gateway.url, api_key=producer.token) as c:
                return await c.disclosures(rid, strict=False)

        assert not asyncio.run(run()).ok
        env = clean_env(VNTRACE_API_KEY=producer.token)
        r = vntrace("disclosures", rid, "--node", gateway.url, env=env)
        assert r.returncode == 1 and r.stdout.startswith("FAILED")
        assert "does NOT open its commitment" in r.stdout
    finally:
        gateway.lie = None


def test_a_rewritten_commitment_is_caught(
    node: Node, producer: Producer, gateway: LyingGateway
) -> None:
    """A gateway that changes the value *and* the event's commitment to match: the event
    is no longer the one the producer signed."""
    from vntrace.node.records import commitment_of

    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    rid = client.register_lot(gtin, lot, [_shipping(producer, lot)]).record_ids[0]
    fake, salt = {"amount": "9000.00", "currency": "USD"}, bytes(32)

    def lie(path: str, doc: Any) -> Any:
        doc = copy.deepcopy(doc)
        if path.endswith("/disclosures"):
            doc["disclosures"]["price"] = {"value": fake, "salt": "0x" + salt.hex()}
        elif path.endswith("/bundle"):
            doc["event"]["price"] = {"commitment": commitment_of(fake, salt)}
        return doc

    gateway.lie = lie
    try:
        with Client(gateway.url, api_key=producer.token) as c:
            result = c.disclosures(rid, strict=False)
        assert not result.ok
        assert {f.code for f in result.failures} >= {"digest_mismatch"}
    finally:
        gateway.lie = None


# -- the commands ----------------------------------------------------------------------------------


def test_commands_keep_receipts_upload_disclosures_and_audit(
    node: Node, producer: Producer, tmp_path: Path
) -> None:
    gtin, lot = producer.client.info().gtins[0], new_lot()
    env = clean_env(
        VNTRACE_NODE_URL=node.url, VNTRACE_API_KEY=producer.token, PRODUCER_KEY=producer.key
    )
    season = tmp_path / "season.json"
    season.write_text(json.dumps({"gtin": gtin, "lot": lot, "events": events(6)}))
    r = vntrace("events", "add", str(season), "--key-env", "PRODUCER_KEY", "--wait", "30",
                "--json", env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    ids = json.loads(r.stdout)["recordIds"]
    receipts = tmp_path / "receipts.jsonl"  # beside the events file
    assert f"6 signed receipt(s) appended to {receipts}" in r.stderr
    assert [x["leaf"] for x in load_receipts(receipts)] == ids
    mine = json.loads((tmp_path / "season.json.disclosures.json").read_text())
    shipping = next(iter(mine))  # the producer's own copy, and the node's sealed one

    admin_file = str(node.data_dir / "admin-token")
    r = vntrace("auditor", "add", "--label", "customs", "--api-key-file", admin_file, env=env)
    assert r.returncode == 0, r.stderr
    auditor_env = dict(env, VNTRACE_API_KEY=r.stdout.strip())
    r = vntrace("disclosures", shipping, env=auditor_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OPENED") and '"16740.00"' in r.stdout
    r = vntrace("disclosures", shipping, "--json", env=auditor_env)
    assert json.loads(r.stdout)["disclosures"] == mine[shipping]

    r = vntrace("audit", str(receipts), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "AUDIT OK  6 receipt(s): 6 in_time" in r.stdout

    withheld = tmp_path / "withheld.json"
    withheld.write_text(json.dumps([e for e in events(6) if e["kind"] == "shipping"]))
    own = tmp_path / "own-receipts.jsonl"
    r = vntrace("events", "add", str(withheld), "--gtin", gtin, "--lot", lot, "--key-env",
                "PRODUCER_KEY", "--no-disclose", "--receipts", str(own), "--json",
                env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    rid = json.loads(r.stdout)["recordIds"][0]
    assert len(load_receipts(own)) == 1
    r = vntrace("disclosures", rid, "--json", env=auditor_env)
    assert r.returncode == 0 and json.loads(r.stdout)["undisclosed"] == ["buyer", "price"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\nnot json\n")
    r = vntrace("audit", str(bad), env=env)
    assert r.returncode == 2 and "bad.jsonl:2" in r.stderr
