"""A gateway that lies is caught by local verification, each lie with its reason.

The SDK talks to a proxy that rewrites the real node's answers, and reads the chain
through the real node's ``/rpc``: the lie is in the gateway's JSON, the chain is the
truth. Every case runs through the sync and the async client, which must agree.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from vntrace.client import AsyncClient, Client, VerificationResult
from vntrace.node.merkle import hash_pair
from vntrace.node.records import canonicalize, digest_canonical, record_leaf

from .conftest import AnchoredLot, Node, Producer, anchored_lot, make_producer
from .lying import LyingGateway, lying_gateway


@pytest.fixture(scope="module")
def gateway(node: Node) -> Iterator[LyingGateway]:
    with lying_gateway(node.url) as gw:
        yield gw


@pytest.fixture(scope="module")
def lot(producer: Producer) -> AnchoredLot:
    return anchored_lot(producer, 4)


@dataclass
class Case:
    """A lie: what the proxy does, what we ask, and the reason we expect."""

    name: str
    make: Callable[[AnchoredLot, Client], Callable[[str, Any], Any]]
    ask: str  # "record" or "lot"
    reason: str
    status: str = "failed"


def _bundle_lie(change: Callable[[dict[str, Any]], None]) -> Callable[..., Any]:
    def make(lot: AnchoredLot, honest: Client) -> Callable[[str, Any], Any]:
        def lie(path: str, doc: Any) -> Any:
            if path.endswith("/bundle"):
                doc = copy.deepcopy(doc)
                change(doc)
            return doc

        return lie

    return make


def _provenance_lie(change: Callable[[dict[str, Any]], None]) -> Callable[..., Any]:
    def make(lot: AnchoredLot, honest: Client) -> Callable[[str, Any], Any]:
        def lie(path: str, doc: Any) -> Any:
            if path.endswith("/provenance"):
                doc = copy.deepcopy(doc)
                change(doc)
            return doc

        return lie

    return make


def _alter_event(doc: dict[str, Any]) -> None:
    doc["event"]["quantity"]["value"] += 100  # 100 kg more coffee than harvested


def _alter_event_rehash(doc: dict[str, Any]) -> None:
    """A careful liar: alters the event and recomputes digest, leaf and id to match."""
    _alter_event(doc)
    digest = digest_canonical(bytes.fromhex(doc["salt"][2:]), canonicalize(doc["event"]))
    leaf = record_leaf(bytes.fromhex(doc["lotKey"][2:]), digest)
    doc["digest"], doc["leaf"], doc["recordId"] = "0x" + digest.hex(), "0x" + leaf.hex(), None
    doc["recordId"] = doc["leaf"]


def _wrong_proof(doc: dict[str, Any]) -> None:
    node = bytearray.fromhex(doc["proof"][0][2:])
    node[0] ^= 1
    doc["proof"][0] = "0x" + node.hex()


def _unanchored_root(doc: dict[str, Any]) -> None:
    """A self-consistent tree the gateway made up: proof and root agree, chain does not."""
    sibling = b"\x42" * 32
    doc["proof"] = ["0x" + sibling.hex()]
    doc["root"] = "0x" + hash_pair(bytes.fromhex(doc["leaf"][2:]), sibling).hex()


def _anchor_time(doc: dict[str, Any]) -> None:
    doc["anchor"]["blockTimestamp"] -= 86_400  # "anchored a day earlier"


def _fake_tx(doc: dict[str, Any]) -> None:
    doc["anchor"]["txHash"] = "0x" + "ab" * 32


def _other_record(lot: AnchoredLot, honest: Client) -> Callable[[str, Any], Any]:
    other = honest.bundle(lot.record_ids[1])

    def lie(path: str, doc: Any) -> Any:
        return other if path.endswith(f"{lot.record_ids[0]}/bundle") else doc

    return lie


def _alter_provenance_event(doc: dict[str, Any]) -> None:
    doc["records"][0]["event"]["quantity"]["value"] += 100


def _withhold_record(doc: dict[str, Any]) -> None:
    del doc["records"][-1]  # e.g. a damning event, still proven by the multiproof


def _flip_flag(doc: dict[str, Any]) -> None:
    mp = doc["multiproofs"][0]
    mp["proofFlags"][0] = not mp["proofFlags"][0]


CASES = [
    Case("altered event", _bundle_lie(_alter_event), "record", "digest_mismatch"),
    Case("altered event, rehashed", _bundle_lie(_alter_event_rehash), "record", "bad_signature"),
    Case("wrong proof", _bundle_lie(_wrong_proof), "record", "proof_mismatch"),
    Case("unanchored root", _bundle_lie(_unanchored_root), "record", "root_not_anchored"),
    Case("anchor time", _bundle_lie(_anchor_time), "record", "anchor_mismatch"),
    Case("fake anchor tx", _bundle_lie(_fake_tx), "record", "anchor_mismatch"),
    Case("another record", _other_record, "record", "leaf_mismatch"),
    Case(
        "altered event in lot", _provenance_lie(_alter_provenance_event), "lot", "digest_mismatch"
    ),
    Case("withheld record", _provenance_lie(_withhold_record), "lot", "proof_mismatch"),
    Case("tampered multiproof", _provenance_lie(_flip_flag), "lot", "proof_mismatch"),
]


def _verify_sync(url: str, rpc: str, lot: AnchoredLot, ask: str) -> VerificationResult:
    with Client(url, rpc_url=rpc) as client:
        if ask == "record":
            return client.verify_record(lot.record_ids[0])
        return client.verify_lot(lot.gtin, lot.lot)


def _verify_async(url: str, rpc: str, lot: AnchoredLot, ask: str) -> VerificationResult:
    async def run() -> VerificationResult:
        async with AsyncClient(url, rpc_url=rpc) as client:
            if ask == "record":
                return await client.verify_record(lot.record_ids[0])
            return await client.verify_lot(lot.gtin, lot.lot)

    return asyncio.run(run())


def _both(gateway: LyingGateway, node: Node, lot: AnchoredLot, ask: str) -> VerificationResult:
    sync = _verify_sync(gateway.url, node.rpc_url, lot, ask)
    async_ = _verify_async(gateway.url, node.rpc_url, lot, ask)
    assert sync.to_dict() == async_.to_dict()
    return sync


def test_honest_gateway_verifies(gateway: LyingGateway, node: Node, lot: AnchoredLot) -> None:
    gateway.lie = None
    record = _both(gateway, node, lot, "record")
    assert record.status == "verified", record.details
    assert record.anchor is not None and record.anchor.tx_hash is not None
    whole = _both(gateway, node, lot, "lot")
    assert whole.status == "verified", whole.details
    assert [r.status for r in whole.records] == ["verified"] * len(lot.record_ids)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_lie_is_caught(
    case: Case, gateway: LyingGateway, node: Node, lot: AnchoredLot, producer: Producer
) -> None:
    gateway.lie = case.make(lot, producer.client)
    try:
        result = _both(gateway, node, lot, case.ask)
    finally:
        gateway.lie = None
    assert result.status == case.status
    assert case.reason in result.reasons, (result.reasons, result.details)


def test_hidden_recall_is_caught(gateway: LyingGateway, node: Node) -> None:
    """The node recalled the lot on chain; the gateway hides it everywhere, verdict included."""
    owner = make_producer(node, "Recalling coop")
    lot = anchored_lot(owner, 2)
    owner.client.recall(lot.gtin, lot.lot, "aflatoxin above the EU limit")

    def lie(path: str, doc: Any) -> Any:
        doc = copy.deepcopy(doc)
        if path.endswith("/provenance"):
            doc["recall"] = None
        if path == "/v1/verify":  # the gateway's own verdict, also a lie
            for item in doc["results"]:
                item.update(status="verified", reasons=[], details=[])
        return doc

    gateway.lie = lie
    try:
        with Client(gateway.url, rpc_url=node.rpc_url) as client:
            told = client.server_verify(record_ids=lot.record_ids)
            assert {v.status for v in told} == {"verified"}  # what the liar says
        record = _both(gateway, node, lot, "record")
        whole = _both(gateway, node, lot, "lot")
    finally:
        gateway.lie = None
        owner.client.close()
    assert record.status == "recalled" and record.reasons == ("lot_recalled",)
    assert whole.status == "recalled" and "lot_recalled" in whole.reasons
    assert whole.recall is not None and whole.recall.reason == "aflatoxin above the EU limit"


def test_foreign_registry_fails_against_a_pinned_one(
    gateway: LyingGateway, node: Node, lot: AnchoredLot, producer: Producer
) -> None:
    """A gateway naming another registry (in /v1/info and the bundle) fails the pin."""
    real = producer.client.info().registry
    fake = "0x" + "5e" * 20

    def lie(path: str, doc: Any) -> Any:
        if path == "/v1/info" or path.endswith("/bundle"):
            doc = dict(doc, registry=fake)
        return doc

    gateway.lie = lie
    try:
        with Client(gateway.url, rpc_url=node.rpc_url, expected_registry=real) as client:
            result = client.verify_record(lot.record_ids[0])
    finally:
        gateway.lie = None
    assert result.status == "failed"
    assert "chain_mismatch" in result.reasons


def test_rpc_of_another_chain_is_refused(lot: AnchoredLot, producer: Producer) -> None:
    """A bundle checked against a JSON-RPC serving some other chain id fails clearly."""
    import httpx

    from vntrace.client import verify_bundle

    def other_chain(request: httpx.Request) -> httpx.Response:
        import json

        calls = json.loads(request.content)
        reply = [
            {
                "jsonrpc": "2.0",
                "id": c["id"],
                "result": "0x1" if c["method"] == "eth_chainId" else "0x",
            }
            for c in calls
        ]
        return httpx.Response(200, json=reply)

    bundle = producer.client.bundle(lot.record_ids[0])
    result = verify_bundle(
        bundle, rpc_url="http://chain.invalid/", transport=httpx.MockTransport(other_chain)
    )
    assert result.status == "failed" and result.reasons == ("chain_mismatch",)
    assert "chain 1" in result.details[0]
