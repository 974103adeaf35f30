"""Receipts, the node's identity document, and confidential disclosures over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from vntrace.node.demo import season_events
from vntrace.node.identity import b64url_decode
from vntrace.node.receipts import verify_receipt
from vntrace.node.records import check_disclosure, prepare_record

from .conftest import Gateway
from .helpers import Producer, assert_problem


def _shipping_with_disclosures(gw: Gateway, producer: Producer, lot: str) -> dict:
    event = next(e for e in season_events(datetime.now(UTC)) if e["kind"] == "shipping")
    rec = prepare_record(gw.node.profile, gw.gtin, lot, event).sign(
        producer.account, gw.info["chainId"], gw.info["registry"]
    )
    return {
        "event": rec.event,
        "salt": "0x" + rec.salt.hex(),
        "signature": "0x" + rec.signature.hex(),
        "disclosures": rec.disclosures,
    }


def test_identity_document_and_signed_receipts(gw: Gateway, producer: Producer) -> None:
    doc = gw.client.get("/.well-known/vntrace-node.json").json()
    key = b64url_decode(doc["ed25519"])
    assert doc["chainId"] == gw.info["chainId"] and doc["registry"] == gw.info["registry"]
    out = gw.lot_with_events(producer, "ACC-1", 2)
    for rec in out["records"]:
        verify_receipt(rec["receipt"], key)
        assert rec["receipt"]["leaf"] == rec["recordId"]


def test_disclosures_are_sealed_and_only_for_authorised_readers(
    gw: Gateway, producer: Producer
) -> None:
    item = _shipping_with_disclosures(gw, producer, "ACC-2")
    r = gw.client.post(
        "/v1/lots",
        json={"gtin": gw.gtin, "lot": "ACC-2", "events": [item]},
        headers=producer.headers,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["records"][0]["recordId"]
    public = gw.client.get(f"/v1/records/{rid}/bundle").json()
    assert "commitment" in public["event"]["price"] and "16740" not in r.text + str(public)

    assert_problem(gw.client.get(f"/v1/records/{rid}/disclosures"), 401)
    stranger = gw.producer("Stranger")
    assert_problem(gw.client.get(f"/v1/records/{rid}/disclosures", headers=stranger.headers), 403)
    own = gw.client.get(f"/v1/records/{rid}/disclosures", headers=producer.headers)
    assert own.status_code == 200, own.text
    r = gw.client.post("/v1/auditors/keys", json={"label": "customs"}, headers=gw.admin)
    assert r.status_code == 201, r.text
    auditor = {"Authorization": f"Bearer {r.json()['token']}"}
    opened = gw.client.get(f"/v1/records/{rid}/disclosures", headers=auditor).json()
    assert opened == own.json()
    for path, d in opened["disclosures"].items():
        assert check_disclosure(public["event"], path, d["value"], d["salt"])
    assert_problem(gw.client.post("/v1/auditors/keys", headers=auditor), 403)


def test_disclosure_that_does_not_open_the_commitment_is_refused(
    gw: Gateway, producer: Producer
) -> None:
    item = _shipping_with_disclosures(gw, producer, "ACC-3")
    item["disclosures"]["price"]["value"] = {"amount": "1.00", "currency": "USD"}
    r = gw.client.post(
        "/v1/lots",
        json={"gtin": gw.gtin, "lot": "ACC-3", "events": [item]},
        headers=producer.headers,
    )
    problem = assert_problem(r, 422)
    assert any(e.get("code") == "disclosure_mismatch" for e in problem["errors"]), problem
