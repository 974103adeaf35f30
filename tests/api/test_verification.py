"""``POST /v1/verify``: a verdict per bundle or record id, with reasons."""

from __future__ import annotations

import copy

from vntrace.api.schemas.verification import VerifyResponse

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def _verify(gw: Gateway, **body: object) -> dict:
    r = gw.client.post("/v1/verify", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_verdicts(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    ids = gw.lot_with_events(producer, lot, 2)["recordIds"]
    pending = _verify(gw, recordIds=[ids[0]])["results"][0]
    assert pending["status"] == "pending" and pending["reasons"] == ["pending"]
    gw.node.anchor_now()
    bundle = gw.client.get(f"/v1/records/{ids[0]}/bundle").json()

    tampered = copy.deepcopy(bundle)
    tampered["event"]["eventTime"] = "2020-01-01T00:00:00Z"
    wrong_proof = copy.deepcopy(bundle)
    wrong_proof["proof"] = ["0x" + "11" * 32, *wrong_proof["proof"][1:]]
    bad_sig = copy.deepcopy(bundle)
    bad_sig["signature"] = "0x" + "22" * 64 + "1b"
    unknown = "0x" + "ab" * 32
    out = _verify(gw, bundles=[bundle, tampered, wrong_proof, bad_sig], recordIds=[ids[1], unknown])
    results = out["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["source"] for r in results] == ["bundle"] * 4 + ["recordId"] * 2
    assert results[0]["status"] == "verified" and results[0]["anchor"]["txHash"]
    assert results[1]["status"] == "failed" and "digest_mismatch" in results[1]["reasons"]
    assert results[2]["status"] == "failed" and results[2]["reasons"] == ["proof_mismatch"]
    assert "bad_signature" in results[3]["reasons"]
    assert results[4]["status"] == "verified" and results[4]["recordId"] == ids[1]
    assert results[5]["reasons"] == ["unknown_record"] and results[5]["recordId"] == unknown
    assert out["summary"] == {"verified": 2, "pending": 0, "recalled": 0, "failed": 4}
    # The answer is built without the response model: it must be exactly its wire form.
    for body in (out, pending_out := _verify(gw, recordIds=[unknown], bundles=[{"x": 1}])):
        assert VerifyResponse.model_validate(body).model_dump(mode="json", by_alias=True) == body
    assert pending_out["results"][0]["anchor"] is None


def test_recalled_lot(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    ids = gw.lot_with_events(producer, lot, 1)["recordIds"]
    gw.node.anchor_now()
    r = gw.client.post(
        f"/v1/lots/{gw.gtin}/{lot}/recall", json={"reason": "mould"}, headers=producer.headers
    )
    assert r.status_code == 200
    result = _verify(gw, recordIds=ids)["results"][0]
    assert result["status"] == "recalled" and result["reasons"] == ["lot_recalled"]


def test_malformed_bundle_is_a_verdict_not_an_error(gw: Gateway) -> None:
    result = _verify(gw, bundles=[{"hello": "world"}])["results"][0]
    assert result["status"] == "failed" and result["reasons"] == ["malformed"]


def test_empty_and_wrong_shapes(gw: Gateway) -> None:
    assert_problem(gw.client.post("/v1/verify", json={}), 422)
    body = assert_problem(gw.client.post("/v1/verify", json={"bundles": "x"}), 422)
    assert body["errors"][0]["field"] == "bundles"
    assert_problem(gw.client.post("/v1/verify", json={"recordIds": [1]}), 422)


def test_item_limit(small: Gateway) -> None:
    body = {"recordIds": ["0x" + "00" * 32] * 4}
    problem = assert_problem(small.client.post("/v1/verify", json=body), 422, "too-many-items")
    assert "limit is 3" in problem["detail"]
