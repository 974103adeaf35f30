"""``GET /v1/lots/{gtin}/{lot}/provenance``: events plus one multiproof per epoch."""

from __future__ import annotations

from vntrace.node.bundles import check_lot_multiproof

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_provenance_with_multiproofs(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 2)
    gw.node.anchor_now()
    url = f"/v1/lots/{gw.gtin}/{lot}/events"
    gw.client.post(url, json={"events": gw.events(producer, lot, 1)}, headers=producer.headers)
    gw.node.anchor_now()
    prov = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()
    assert prov["producer"]["address"] == producer.address and prov["recall"] is None
    assert len(prov["records"]) == 3 and len(prov["multiproofs"]) == 2
    for mp in prov["multiproofs"]:
        assert mp["anchor"]["txHash"]
        assert check_lot_multiproof(mp["root"], mp["leaves"], mp["proof"], mp["proofFlags"])
    assert {r["recordId"] for r in prov["records"]} == {
        leaf for mp in prov["multiproofs"] for leaf in mp["leaves"]
    }


def test_unknown_lot_and_bad_gtin(gw: Gateway) -> None:
    assert_problem(gw.client.get(f"/v1/lots/{gw.gtin}/{new_lot()}/provenance"), 404)
    body = assert_problem(gw.client.get(f"/v1/lots/12345/{new_lot()}/provenance"), 422)
    assert body["errors"][0] == {
        "field": "gtin",
        "in": "path",
        "message": body["errors"][0]["message"],
    }
