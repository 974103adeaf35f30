"""Tampering: any change to what a proof rests on is caught, by the node and by the SDK.

Bundles and provenance documents come from a real node after anchoring. Each
hypothesis example alters *every* part of a bundle once, each in a drawn way (the
event, the salt, a proof element, the root, the signature, the digest, leaf and lot
key, the GTIN and lot, the producer, chain id and registry, the epoch and each field
of the anchor), and sends the whole batch to the node's verification
(``POST /v1/verify``, which is ``TraceNode.verify_bundles``) and to the SDK's
independent verifier (``vntrace.client.verify_bundles``, which reads the chain through
``/rpc``). Not one altered bundle may come back ``verified``; the untouched ones must.

Provenance documents are altered the same way in their multiproofs (a flag, a proof
element, a leaf, the root, the anchor) and in their records, and checked by the SDK's
``verify_provenance`` and by the pure ``vntrace.node.bundles.check_lot_multiproof``.

Fields that carry no claim of their own (``recordId``, ``status``, ``version``,
``leafIndex``, ``digitalLink``) are not covered here; docs/security.md says why.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vntrace.client import verify_bundles, verify_provenance
from vntrace.node.bundles import check_lot_multiproof
from vntrace.node.records import canonicalize

from .conftest import Node

Draw = Callable[[st.SearchStrategy[Any]], Any]
Mutator = Callable[[dict[str, Any], Draw], None]


@dataclass
class Anchored:
    bundles: list[dict[str, Any]]
    provenances: list[dict[str, Any]]


@pytest.fixture(scope="module")
def anchored(node: Node) -> Anchored:
    """Two lots of one producer, anchored, some records sharing an epoch."""
    producer = node.producer("Tamper")
    ids: list[str] = []
    lots = []
    for lot, count in (("TAMPER-A", 5), ("TAMPER-B", 3)):
        lot = f"{lot}-{producer.key_id[:6].upper()}"
        items, got = node.signer.sign(producer.account, lot, count)
        body = {"gtin": node.gtin, "lot": lot, "events": items}
        assert node.http.post("/v1/lots", json=body, headers=producer.headers).status_code == 201
        ids += got
        lots.append(lot)
    items, got = node.signer.sign(producer.account, lots[1], 2, start=3)
    r = node.http.post(
        f"/v1/lots/{node.gtin}/{lots[1]}/events", json={"events": items}, headers=producer.headers
    )
    assert r.status_code == 201, r.text
    ids += got
    node.wait_anchored(ids)
    bundles = [node.http.get(f"/v1/records/{i}/bundle").json() for i in ids]
    provs = [node.http.get(f"/v1/lots/{node.gtin}/{lot}/provenance").json() for lot in lots]
    assert any(len(b["proof"]) > 0 for b in bundles)
    return Anchored(bundles, provs)


# -- mutations -----------------------------------------------------------------------------


def flip_hex(value: str, draw: Draw) -> str:
    """Flip one bit of a 0x-hex string (the bytes change, never just the letter case)."""
    raw = bytearray(bytes.fromhex(value[2:]))
    i = draw(st.integers(0, len(raw) - 1))
    raw[i] ^= 1 << draw(st.integers(0, 7))
    return "0x" + raw.hex()


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def mutate_event(b: dict[str, Any], draw: Draw) -> None:
    event = b["event"]
    before = canonicalize(event)
    how = draw(st.sampled_from(["replace", "add", "delete"]))
    paths = _paths(event)
    if how == "add":
        event[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in event))] = draw(
            json_scalars
        )
    else:
        path = draw(st.sampled_from(paths))
        parent = event
        for part in path[:-1]:
            parent = parent[part]
        if how == "delete":
            if isinstance(parent, list):
                parent.pop(path[-1])
            else:
                del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_scalars)
    if canonicalize(event) == before:  # e.g. 1.0 for 1: the same signed bytes
        event["tampered"] = True


def mutate_proof(b: dict[str, Any], draw: Draw) -> None:
    proof = b["proof"]
    how = draw(
        st.sampled_from(["flip", "drop", "append", "duplicate"]) if proof else st.just("append")
    )
    if how == "flip":
        i = draw(st.integers(0, len(proof) - 1))
        proof[i] = flip_hex(proof[i], draw)
    elif how == "drop":
        proof.pop(draw(st.integers(0, len(proof) - 1)))
    elif how == "duplicate":
        proof.append(proof[draw(st.integers(0, len(proof) - 1))])
    else:
        proof.append("0x" + draw(st.binary(min_size=32, max_size=32)).hex())


def field(name: str) -> Mutator:
    def mutate(b: dict[str, Any], draw: Draw) -> None:
        b[name] = flip_hex(b[name], draw)

    return mutate


def anchor_field(name: str) -> Mutator:
    def mutate(b: dict[str, Any], draw: Draw) -> None:
        anchor = b["anchor"]
        value = anchor[name]
        if isinstance(value, int):
            anchor[name] = value + draw(st.integers(1, 10**6)) * draw(st.sampled_from([1, -1]))
        else:
            anchor[name] = flip_hex(value, draw)

    return mutate


def other_producer(b: dict[str, Any], draw: Draw) -> None:
    b["producer"] = Account.create().address


def other_chain(b: dict[str, Any], draw: Draw) -> None:
    b["chainId"] = b["chainId"] + draw(st.integers(1, 2**31))


def other_epoch(b: dict[str, Any], draw: Draw) -> None:
    b["epoch"] = b["epoch"] + draw(st.sampled_from([1, 2, 7, -1]))


def other_lot(b: dict[str, Any], draw: Draw) -> None:
    b["lot"] = b["lot"] + draw(st.sampled_from(["X", "-1", "a"]))


def other_gtin(b: dict[str, Any], draw: Draw) -> None:
    b["gtin"] = draw(st.sampled_from(["08936099000022", "00000000000000", "04006381333931"]))


BUNDLE_MUTATIONS: dict[str, Mutator] = {
    "event": mutate_event,
    "salt": field("salt"),
    "proof element": mutate_proof,
    "root": field("root"),
    "signature": field("signature"),
    "digest": field("digest"),
    "leaf": field("leaf"),
    "lotKey": field("lotKey"),
    "gtin": other_gtin,
    "lot": other_lot,
    "producer": other_producer,
    "chainId": other_chain,
    "registry": field("registry"),
    "epoch": other_epoch,
    "anchor.blockTimestamp": anchor_field("blockTimestamp"),
    "anchor.blockNumber": anchor_field("blockNumber"),
    "anchor.txHash": anchor_field("txHash"),
    "anchor.chainId": anchor_field("chainId"),
    "anchor.contract": anchor_field("contract"),
}


# -- bundles -------------------------------------------------------------------------------

EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TALLY: dict[str, int] = {}


def test_untouched_bundles_verify(node: Node, anchored: Anchored) -> None:
    r = node.http.post("/v1/verify", json={"bundles": anchored.bundles}).json()
    assert [x["status"] for x in r["results"]] == ["verified"] * len(anchored.bundles), r
    sdk = verify_bundles(anchored.bundles, rpc_url=node.url + "/rpc")
    assert [x.status for x in sdk] == ["verified"] * len(anchored.bundles), sdk


@EXAMPLES
@given(data=st.data())
def test_every_altered_bundle_fails(node: Node, anchored: Anchored, data: st.DataObject) -> None:
    altered: list[tuple[str, dict[str, Any]]] = []
    for name, mutate in BUNDLE_MUTATIONS.items():
        original = data.draw(st.sampled_from(anchored.bundles), label="bundle")
        bundle = copy.deepcopy(original)
        mutate(bundle, data.draw)
        assert bundle != original
        altered.append((name, bundle))
        TALLY[name] = TALLY.get(name, 0) + 1
    docs = [b for _, b in altered]
    by_node = node.http.post("/v1/verify", json={"bundles": docs}).json()["results"]
    by_sdk = verify_bundles(docs, rpc_url=node.url + "/rpc")
    for (name, bundle), n, s in zip(altered, by_node, by_sdk, strict=True):
        assert n["status"] != "verified", ("node", name, bundle, n)
        assert s.status != "verified", ("sdk", name, bundle, s)


# -- provenance and multiproofs ------------------------------------------------------------


def _multiproof(doc: dict[str, Any], draw: Draw) -> dict[str, Any]:
    return draw(st.sampled_from(doc["multiproofs"]))


def flip_flag(doc: dict[str, Any], draw: Draw) -> None:
    mp = _multiproof(doc, draw)
    i = draw(st.integers(0, len(mp["proofFlags"]) - 1)) if mp["proofFlags"] else None
    if i is None:
        mp["proofFlags"].append(draw(st.booleans()))
    else:
        mp["proofFlags"][i] = not mp["proofFlags"][i]


def multiproof_proof(doc: dict[str, Any], draw: Draw) -> None:
    mutate_proof(_multiproof(doc, draw), draw)


def multiproof_leaf(doc: dict[str, Any], draw: Draw) -> None:
    mp = _multiproof(doc, draw)
    i = draw(st.integers(0, len(mp["leaves"]) - 1))
    mp["leaves"][i] = flip_hex(mp["leaves"][i], draw)


def multiproof_root(doc: dict[str, Any], draw: Draw) -> None:
    mp = _multiproof(doc, draw)
    mp["root"] = flip_hex(mp["root"], draw)


def multiproof_anchor(doc: dict[str, Any], draw: Draw) -> None:
    name = draw(st.sampled_from(["blockTimestamp", "blockNumber", "txHash", "contract"]))
    anchor_field(name)(_multiproof(doc, draw), draw)


def record_part(doc: dict[str, Any], draw: Draw) -> None:
    record = draw(st.sampled_from(doc["records"]))
    part = draw(st.sampled_from(["event", "salt", "signature", "digest"]))
    BUNDLE_MUTATIONS[part](record, draw)


def drop_record_keep_leaf(doc: dict[str, Any], draw: Draw) -> None:
    """A record withheld while its epoch's multiproof still lists its leaf."""
    doc["records"].pop(draw(st.integers(0, len(doc["records"]) - 1)))


PROVENANCE_MUTATIONS: dict[str, Callable[[dict[str, Any], Draw], None]] = {
    "multiproof flag": flip_flag,
    "multiproof proof element": multiproof_proof,
    "multiproof leaf": multiproof_leaf,
    "multiproof root": multiproof_root,
    "multiproof anchor": multiproof_anchor,
    "record event/salt/signature/digest": record_part,
    "record withheld": drop_record_keep_leaf,
}
PURE_MULTIPROOF = {
    "multiproof flag",
    "multiproof proof element",
    "multiproof leaf",
    "multiproof root",
}


def test_untouched_provenance_verifies(node: Node, anchored: Anchored) -> None:
    for doc in anchored.provenances:
        assert verify_provenance(doc, rpc_url=node.url + "/rpc").status == "verified"
        for mp in doc["multiproofs"]:
            assert check_lot_multiproof(mp["root"], mp["leaves"], mp["proof"], mp["proofFlags"])


@EXAMPLES
@given(data=st.data())
def test_every_altered_provenance_fails(
    node: Node, anchored: Anchored, data: st.DataObject
) -> None:
    for name, mutate in PROVENANCE_MUTATIONS.items():
        original = data.draw(st.sampled_from(anchored.provenances), label="lot")
        doc = copy.deepcopy(original)
        mutate(doc, data.draw)
        assert doc != original
        TALLY[name] = TALLY.get(name, 0) + 1
        result = verify_provenance(doc, rpc_url=node.url + "/rpc")
        assert result.status != "verified", (name, result.reasons, result.details)
        if name in PURE_MULTIPROOF:
            assert not any(
                check_lot_multiproof(mp["root"], mp["leaves"], mp["proof"], mp["proofFlags"])
                for mp, mp0 in zip(doc["multiproofs"], original["multiproofs"], strict=True)
                if mp != mp0
            ), name


def _wrong_block_without_transaction(anchored: Anchored) -> dict[str, Any]:
    bundle = copy.deepcopy(anchored.bundles[0])
    bundle["anchor"]["blockNumber"] += 1000
    del bundle["anchor"]["txHash"]
    return bundle


def test_node_catches_a_wrong_block_number_without_a_transaction(
    node: Node, anchored: Anchored
) -> None:
    bundle = _wrong_block_without_transaction(anchored)
    verdict = node.http.post("/v1/verify", json={"bundles": [bundle]}).json()["results"][0]
    assert verdict["status"] == "failed" and "anchor_mismatch" in verdict["reasons"], verdict


def test_sdk_catches_a_wrong_block_number_without_a_transaction(
    node: Node, anchored: Anchored
) -> None:
    bundle = _wrong_block_without_transaction(anchored)
    result = verify_bundles([bundle], rpc_url=node.url + "/rpc")[0]
    assert result.status != "verified" or (
        result.anchor is not None and result.anchor.block_number != bundle["anchor"]["blockNumber"]
    )


def test_print_tally() -> None:
    """Say how many alterations of each kind the runs above tried."""
    print(f"\naltered documents checked, per kind: {TALLY} (total {sum(TALLY.values())})")
