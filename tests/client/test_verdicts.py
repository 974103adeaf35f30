"""Every chain-side verdict, against a scripted JSON-RPC (no node needed)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import pytest
from eth_account import Account

from vntrace.client import (
    VerificationResult,
    verify_bundle,
    verify_bundles,
    verify_bundles_async,
    verify_provenance,
)

from .fake_chain import FakeChain, make_bundle

CHAIN_ID = 424242
REGISTRY = "0x" + "5A" * 20
KEY = Account.create().key


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain(CHAIN_ID, REGISTRY.lower())


@pytest.fixture
def bundle(chain: FakeChain) -> dict[str, Any]:
    b = make_bundle(KEY, CHAIN_ID, REGISTRY)
    chain.anchors[bytes.fromhex(b["root"][2:])] = (1, 1000, False)
    chain.producers[b["producer"].lower()] = (True, True)
    return b


def check(b: Any, chain: FakeChain, **kw: Any) -> VerificationResult:
    return verify_bundle(b, rpc_url="http://chain.test", transport=chain.transport, **kw)


def test_verified(bundle: dict[str, Any], chain: FakeChain) -> None:
    result = check(bundle, chain)
    assert result.status == "verified", result.details
    assert result.anchor is not None and result.anchor.epoch == 1
    assert result.anchor.tx_hash == "0x" + "cc" * 32  # a receipt the chain cannot give is no lie


@pytest.mark.parametrize(
    ("setup", "status", "reason", "detail"),
    [
        (lambda c, b: c.anchors.update({_root(b): (1, 1000, True)}), "failed", "root_revoked", ""),
        (lambda c, b: c.anchors.update({_root(b): (2, 1000, False)}), "failed", "epoch_mismatch",
         "epoch 2"),
        (lambda c, b: c.anchors.clear(), "failed", "root_not_anchored", ""),
        (lambda c, b: c.producers.update({b["producer"].lower(): (True, False)}), "failed",
         "producer_not_registered", "deactivated"),
        (lambda c, b: c.producers.clear(), "failed", "producer_not_registered", "never registered"),
        (lambda c, b: c.recalled.add(bytes.fromhex(b["lotKey"][2:])), "recalled", "lot_recalled",
         "bad"),
        (lambda c, b: setattr(c, "has_code", False), "failed", "chain_mismatch", "no contract"),
        (lambda c, b: setattr(c, "chain_id", 1), "failed", "chain_mismatch", "chain 1"),
        (lambda c, b: (c.anchors.clear(), b.update(anchor=None, status="sealed")), "pending",
         "pending", "sealed"),
    ],
    ids=["revoked", "epoch", "unanchored", "deactivated", "unregistered", "recalled", "no code",
         "other chain", "sealed"],
)  # fmt: skip
def test_chain_verdicts(
    bundle: dict[str, Any], chain: FakeChain, setup: Any, status: str, reason: str, detail: str
) -> None:
    setup(chain, bundle)
    result = check(bundle, chain)
    assert (result.status, result.reasons) == (status, (reason,)), result.details
    assert detail in result.details[0]


def _root(b: dict[str, Any]) -> bytes:
    return bytes.fromhex(b["root"][2:])


def test_no_chain_call_when_offline_already_decides(
    bundle: dict[str, Any], chain: FakeChain
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the chain must not be asked")

    never = httpx.MockTransport(refuse)
    pending = dict(bundle, root=None, proof=None, anchor=None, epoch=None)
    assert verify_bundle(pending, rpc_url="http://x", transport=never).reasons == ("pending",)
    assert verify_bundle("nope", rpc_url="http://x", transport=never).reasons == ("malformed",)
    assert verify_bundle({}, rpc_url="http://x", transport=never).status == "failed"
    pinned = verify_bundle(
        bundle, rpc_url="http://x", transport=never, expected_registry="0x" + "11" * 20
    )
    assert pinned.reasons == ("chain_mismatch",) and "trusted registry" in pinned.details[0]


def test_batches_share_reads_and_fall_back_to_single_calls(
    bundle: dict[str, Any], chain: FakeChain
) -> None:
    twin = copy.deepcopy(bundle)
    results = verify_bundles(
        [bundle, twin, bundle], rpc_url="http://chain.test", transport=chain.transport
    )
    assert [r.status for r in results] == ["verified"] * 3
    assert sorted(chain.calls) == ["getAnchor", "getProducer", "getRecall"]  # once each
    chain.calls.clear()
    chain.batches = False

    async def run() -> list[VerificationResult]:
        return await verify_bundles_async(
            [bundle], rpc_url="http://chain.test", transport=chain.transport
        )

    assert asyncio.run(run())[0].to_dict() == results[0].to_dict()


def test_provenance_pinned_elsewhere_checks_no_record(bundle: dict[str, Any]) -> None:
    doc = {
        "gtin": bundle["gtin"],
        "lot": bundle["lot"],
        "lotKey": bundle["lotKey"],
        "producer": {"address": bundle["producer"], "name": "x"},
        "chainId": CHAIN_ID,
        "registry": REGISTRY,
        "recall": None,
        "records": [
            {k: bundle[k] for k in ("recordId", "event", "salt", "digest", "signature")}
            | {"epoch": 1}
        ],
        "multiproofs": [
            {
                "epoch": 1,
                "root": bundle["root"],
                "leaves": [bundle["leaf"]],
                "proof": bundle["proof"],
                "proofFlags": [False],
                "anchor": bundle["anchor"],
            }
        ],
    }
    result = verify_provenance(doc, rpc_url="http://x", expected_chain_id=1)
    assert result.status == "failed"
    assert [r.reasons for r in result.records] == [("chain_mismatch",)]
    empty = dict(doc, records=[], multiproofs=[])
    assert verify_provenance(empty, rpc_url="http://x", expected_chain_id=1).reasons == (
        "chain_mismatch",
    )
