"""``POST /v1/lots/{gtin}/{lot}/events``: append batches, idempotently."""

from __future__ import annotations

from urllib.parse import quote

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_append_events(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    first = gw.lot_with_events(producer, lot, 1)
    url = f"/v1/lots/{gw.gtin}/{lot}/events"
    r = gw.client.post(url, json={"events": gw.events(producer, lot, 2)}, headers=producer.headers)
    assert r.status_code == 201
    out = r.json()
    assert out["created"] is False and len(out["recordIds"]) == 2
    assert out["lotKey"] == first["lotKey"]
    records = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()["records"]
    assert len(records) == 3


def test_resubmitted_records_are_duplicates_not_copies(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    events = gw.events(producer, lot, 2)
    url = f"/v1/lots/{gw.gtin}/{lot}/events"
    assert gw.client.post(url, json={"events": events}, headers=producer.headers).status_code == 201
    again = gw.client.post(url, json={"events": events}, headers=producer.headers)
    assert again.status_code == 200
    assert all(r["duplicate"] for r in again.json()["records"])
    assert len(gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()["records"]) == 2


def test_idempotency_key(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    url = f"/v1/lots/{gw.gtin}/{lot}/events"
    body = {"events": gw.events(producer, lot, 2)}
    headers = producer.headers | {"Idempotency-Key": "evt-" + lot}
    first = gw.client.post(url, json=body, headers=headers)
    retry = gw.client.post(url, json=body, headers=headers)
    assert retry.status_code == first.status_code == 201
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"
    r = gw.client.post(url, json={"events": gw.events(producer, lot, 1)}, headers=headers)
    assert_problem(r, 422, "idempotency-key-reused")
    other_lot = f"/v1/lots/{gw.gtin}/{new_lot()}/events"
    assert_problem(gw.client.post(other_lot, json=body, headers=headers), 422)
    bad = producer.headers | {"Idempotency-Key": "has spaces in it"}
    assert_problem(gw.client.post(url, json=body, headers=bad), 422)


def test_another_producers_lot_is_refused(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 1)
    other = gw.producer("Intruder")
    url = f"/v1/lots/{gw.gtin}/{lot}/events"
    r = gw.client.post(url, json={"events": gw.events(other, lot, 1)}, headers=other.headers)
    assert_problem(r, 403, "forbidden")
    # Signing with another's key under one's own API key is refused too.
    r = gw.client.post(url, json={"events": gw.events(other, lot, 1)}, headers=producer.headers)
    assert_problem(r, 422)


def test_lot_with_a_slash_in_its_number(gw: Gateway, producer: Producer) -> None:
    lot = "A/B-" + new_lot()[2:10]
    url = f"/v1/lots/{gw.gtin}/{quote(lot, safe='')}/events"
    r = gw.client.post(url, json={"events": gw.events(producer, lot, 1)}, headers=producer.headers)
    assert r.status_code == 201, r.text
    assert r.json()["lot"] == lot and r.json()["digitalLink"].endswith("/10/A%2FB-" + lot[4:])
    prov = gw.client.get(f"/v1/lots/{gw.gtin}/{quote(lot, safe='')}/provenance")
    assert prov.status_code == 200 and prov.json()["lot"] == lot


def test_empty_batch_and_bad_path(gw: Gateway, producer: Producer) -> None:
    url = f"/v1/lots/{gw.gtin}/{new_lot()}/events"
    r = gw.client.post(url, json={"events": []}, headers=producer.headers)
    assert assert_problem(r, 422)["errors"][0]["field"] == "events"
    r = gw.client.post(
        f"/v1/lots/123/{new_lot()}/events", json={"events": []}, headers=producer.headers
    )
    assert_problem(r, 422)


def test_failed_request_does_not_burn_its_idempotency_key(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    url = f"/v1/lots/{gw.gtin}/{lot}/events"
    headers = producer.headers | {"Idempotency-Key": "fix-" + lot}
    events = gw.events(producer, lot, 1)
    broken = [dict(events[0], signature="0x" + "33" * 64 + "1c")]
    assert_problem(gw.client.post(url, json={"events": broken}, headers=headers), 422)
    fixed = gw.client.post(url, json={"events": events}, headers=headers)
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers
