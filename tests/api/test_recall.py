"""``POST /v1/lots/{gtin}/{lot}/recall``: the lot's producer or the administrator."""

from __future__ import annotations

from vntrace.node.records import lot_key

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_producer_recalls_own_lot(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 1)
    url = f"/v1/lots/{gw.gtin}/{lot}/recall"
    r = gw.client.post(url, json={"reason": "aflatoxin above limit"}, headers=producer.headers)
    assert r.status_code == 200
    out = r.json()
    assert out["reason"] == "aflatoxin above limit" and out["onchainTxHash"].startswith("0x")
    assert gw.node.chain.is_recalled(lot_key(gw.gtin, lot))
    again = gw.client.post(url, json={"reason": "second"}, headers=producer.headers)
    assert again.json()["reason"] == "aflatoxin above limit"
    prov = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()
    assert prov["recall"]["reason"] == "aflatoxin above limit"


def test_admin_recalls_any_lot(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 1)
    r = gw.client.post(
        f"/v1/lots/{gw.gtin}/{lot}/recall", json={"reason": "regulator order"}, headers=gw.admin
    )
    assert r.status_code == 200


def test_recall_refusals(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 1)
    url = f"/v1/lots/{gw.gtin}/{lot}/recall"
    other = gw.producer("Other")
    assert_problem(gw.client.post(url, json={"reason": "x"}, headers=other.headers), 403)
    assert_problem(gw.client.post(url, json={"reason": "x"}), 401)
    r = gw.client.post(url, json={"reason": ""}, headers=producer.headers)
    assert assert_problem(r, 422)["errors"][0]["field"] == "reason"
    missing = f"/v1/lots/{gw.gtin}/{new_lot()}/recall"
    assert_problem(gw.client.post(missing, json={"reason": "x"}, headers=producer.headers), 404)
