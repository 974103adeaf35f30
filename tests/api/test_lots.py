"""``POST /v1/lots``: register a lot with its first events."""

from __future__ import annotations

from vntrace.node.records import lot_key

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_register_lot_with_events(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    out = gw.lot_with_events(producer, lot, count=3)
    assert out["created"] is True
    assert out["gtin"] == gw.gtin and out["lot"] == lot
    assert out["lotKey"] == "0x" + lot_key(gw.gtin, lot).hex()
    assert out["digitalLink"].endswith(f"/01/{gw.gtin}/10/{lot}")
    assert out["producer"] == producer.address
    assert len(out["recordIds"]) == 3
    assert [r["recordId"] for r in out["records"]] == out["recordIds"]
    assert all(r["status"] == "pending" and not r["duplicate"] for r in out["records"])


def test_register_lot_without_events_then_again(gw: Gateway, producer: Producer) -> None:
    body = {"gtin": gw.gtin[1:], "lot": new_lot()}  # GTIN-13 is normalised to GTIN-14
    r = gw.client.post("/v1/lots", json=body, headers=producer.headers)
    assert r.status_code == 201 and r.json()["recordIds"] == []
    assert r.json()["gtin"] == gw.gtin
    again = gw.client.post("/v1/lots", json=body, headers=producer.headers)
    assert again.status_code == 200 and again.json()["created"] is False


def test_lot_of_another_producer_is_forbidden(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, count=1)
    other = gw.producer("Other")
    body = {"gtin": gw.gtin, "lot": lot, "events": gw.events(other, lot, 1)}
    r = gw.client.post("/v1/lots", json=body, headers=other.headers)
    assert "another producer" in assert_problem(r, 403, "forbidden")["detail"]


def test_bad_gtin_and_lot(gw: Gateway, producer: Producer) -> None:
    r = gw.client.post(
        "/v1/lots", json={"gtin": "08936099000016", "lot": "L1"}, headers=producer.headers
    )
    body = assert_problem(r, 422, "invalid-input")
    assert body["errors"][0]["field"] == "gtin" and "check digit" in body["detail"]
    r = gw.client.post(
        "/v1/lots", json={"gtin": "00012345600012", "lot": "L1"}, headers=producer.headers
    )
    assert "not a product" in assert_problem(r, 422)["detail"]
    r = gw.client.post("/v1/lots", json={"gtin": gw.gtin, "lot": "Lô 1"}, headers=producer.headers)
    body = assert_problem(r, 422)
    assert body["errors"][0]["field"] == "lot" and "CSET 82" in body["detail"]
    r = gw.client.post(
        "/v1/lots", json={"gtin": gw.gtin, "lot": "X" * 21}, headers=producer.headers
    )
    assert assert_problem(r, 422)["errors"][0]["field"] == "lot"


def test_wrong_types_name_the_field(gw: Gateway, producer: Producer) -> None:
    r = gw.client.post(
        "/v1/lots",
        json={"gtin": gw.gtin, "lot": "L1", "events": [{"event": [], "salt": 5}]},
        headers=producer.headers,
    )
    errors = assert_problem(r, 422)["errors"]
    fields = {e["field"] for e in errors}
    assert {"events[0].event", "events[0].salt", "events[0].signature"} <= fields


def test_bad_signature_and_wrong_chain_id(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    events = gw.events(producer, lot, 2)
    events[1]["signature"] = events[0]["signature"]
    r = gw.client.post(
        "/v1/lots", json={"gtin": gw.gtin, "lot": lot, "events": events}, headers=producer.headers
    )
    body = assert_problem(r, 422, "invalid-input")
    assert "nothing was stored" in body["detail"]
    assert [e["index"] for e in body["errors"]] == [1]
    assert body["errors"][0]["field"] == "events[1]"
    wrong_chain = gw.events(producer, lot, 1, chain_id=1)
    r = gw.client.post(
        "/v1/lots",
        json={"gtin": gw.gtin, "lot": lot, "events": wrong_chain},
        headers=producer.headers,
    )
    assert assert_problem(r, 422)["errors"][0]["index"] == 0
    assert gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()["records"] == []


def test_invalid_event_field_is_named(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    events = gw.events(producer, lot, 1)
    events[0]["event"] = dict(events[0]["event"], plotAreaHa="big")
    r = gw.client.post(
        "/v1/lots", json={"gtin": gw.gtin, "lot": lot, "events": events}, headers=producer.headers
    )
    errors = assert_problem(r, 422)["errors"]
    assert "events[0].event.plotAreaHa" in {e["field"] for e in errors}


def test_idempotent_retry_and_key_reuse(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    body = {"gtin": gw.gtin, "lot": lot, "events": gw.events(producer, lot, 2)}
    headers = producer.headers | {"Idempotency-Key": "lot-" + lot}
    first = gw.client.post("/v1/lots", json=body, headers=headers)
    assert first.status_code == 201
    retry = gw.client.post("/v1/lots", json=body, headers=headers)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    other = dict(body, events=gw.events(producer, lot, 1))
    r = gw.client.post("/v1/lots", json=other, headers=headers)
    assert_problem(r, 422, "idempotency-key-reused")
    r = gw.client.post("/v1/lots", json=body, headers=producer.headers | {"Idempotency-Key": ""})
    assert_problem(r, 422)
