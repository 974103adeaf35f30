"""A scripted chain JSON-RPC (an ``httpx.MockTransport``) for verdicts a live node
cannot easily produce: revoked roots, deactivated producers, missing contracts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import sha3
from eth_abi import decode, encode

from vntrace.node.merkle import hash_pair
from vntrace.node.profile import default_profile
from vntrace.node.records import prepare_record


def _selector(signature: str) -> str:
    return sha3.keccak_256(signature.encode()).hexdigest()[:8]


GET_ANCHOR = _selector("getAnchor(bytes32)")
GET_RECALL = _selector("getRecall(bytes32)")
GET_PRODUCER = _selector("getProducer(address)")

ANCHORER = "0x" + "a1" * 20


@dataclass
class FakeChain:
    chain_id: int
    registry: str
    anchors: dict[bytes, tuple[int, int, bool]] = field(default_factory=dict)
    """root -> (epoch, timestamp, revoked)"""
    recalled: set[bytes] = field(default_factory=set)
    producers: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    """lowercase address -> (registered, active)"""
    has_code: bool = True
    batches: bool = True
    calls: list[str] = field(default_factory=list)

    def _call(self, data: str) -> str:
        selector, args = data[2:10], bytes.fromhex(data[10:])
        if selector == GET_ANCHOR:
            (root,) = decode(["bytes32"], args)
            self.calls.append("getAnchor")
            epoch, ts, revoked = self.anchors.get(root, (0, 0, False))
            anchorer = ANCHORER if epoch else "0x" + "00" * 20
            out = encode(
                ["address", "uint64", "uint32", "uint64", "bool"], [anchorer, epoch, 2, ts, revoked]
            )
        elif selector == GET_RECALL:
            (key,) = decode(["bytes32"], args)
            self.calls.append("getRecall")
            hit = key in self.recalled
            out = encode(
                ["bool", "uint64", "address", "string"],
                [hit, 7 if hit else 0, ANCHORER if hit else "0x" + "00" * 20, "bad" if hit else ""],
            )
        elif selector == GET_PRODUCER:
            (address,) = decode(["address"], args)
            self.calls.append("getProducer")
            registered, active = self.producers.get(address.lower(), (False, False))
            out = encode(["bool", "bool", "uint64", "string"], [registered, active, 1, ""])
        else:
            raise AssertionError(f"unexpected call {selector}")
        return "0x" + out.hex()

    def _answer(self, req: dict[str, Any]) -> dict[str, Any]:
        method, params = req["method"], req.get("params", [])
        if method == "eth_chainId":
            result: Any = hex(self.chain_id)
        elif method == "eth_getCode":
            result = "0x6080" if self.has_code else "0x"
        elif method == "eth_call":
            result = self._call(params[0]["data"])
        else:  # receipts: this fake knows none; the verifier must not fail on that
            return {"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32601, "message": "no"}}
        return {"jsonrpc": "2.0", "id": req["id"], "result": result}

    def handle(self, request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        if isinstance(payload, list):
            if not self.batches:
                return httpx.Response(200, json={"jsonrpc": "2.0", "id": None, "error": {}})
            return httpx.Response(200, json=[self._answer(r) for r in payload])
        return httpx.Response(200, json=self._answer(payload))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def make_bundle(key: bytes, chain_id: int, registry: str, *, epoch: int = 1) -> dict[str, Any]:
    """A genuine bundle of a two-leaf tree (a made-up sibling), anchored at block 5."""
    from datetime import UTC, datetime

    from vntrace.node.demo import season_events

    profile = default_profile()
    gtin, lot = profile.gtins[0], "FAKE-1"
    event = season_events(datetime.now(UTC))[0]
    signed = prepare_record(profile, gtin, lot, event).sign(key, chain_id, registry)
    sibling = b"\x07" * 32
    root = hash_pair(signed.leaf, sibling)
    return {
        **signed.to_dict(),
        "version": 1,
        "recordId": "0x" + signed.leaf.hex(),
        "status": "anchored",
        "epoch": epoch,
        "proof": ["0x" + sibling.hex()],
        "root": "0x" + root.hex(),
        "anchor": {"chainId": chain_id, "contract": registry, "txHash": "0x" + "cc" * 32,
                   "blockNumber": 5, "blockTimestamp": 1000},
    }  # fmt: skip
