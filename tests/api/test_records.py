"""``GET /v1/records/{id}`` and its proof bundle."""

from __future__ import annotations

from vntrace.node.bundles import check_bundle_offline
from vntrace.node.merkle import verify_proof

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_pending_then_anchored(gw: Gateway, producer: Producer) -> None:
    rid = gw.lot_with_events(producer, new_lot(), 2)["recordIds"][0]
    status = gw.client.get(f"/v1/records/{rid}").json()
    assert status["status"] == "pending" and status["anchor"] is None and status["epoch"] is None
    pending = gw.client.get(f"/v1/records/{rid}/bundle").json()
    assert pending["proof"] is None and pending["root"] is None
    gw.node.anchor_now()
    status = gw.client.get(f"/v1/records/{rid}").json()
    assert status["status"] == "anchored" and status["anchor"]["txHash"].startswith("0x")
    bundle = gw.client.get(f"/v1/records/{rid}/bundle").json()
    assert bundle["recordId"] == rid and bundle["anchor"]["blockNumber"] >= 1
    leaf = bytes.fromhex(bundle["leaf"][2:])
    assert verify_proof(bundle["root"], leaf, bundle["proof"])
    assert check_bundle_offline(bundle).ok
    epoch = gw.client.get(f"/v1/epochs/{bundle['epoch']}").json()
    assert epoch["root"] == bundle["root"] and epoch["anchor"] == bundle["anchor"]


def test_unknown_and_malformed_ids(gw: Gateway) -> None:
    assert_problem(gw.client.get("/v1/records/0x" + "00" * 32), 404, "not-found")
    body = assert_problem(gw.client.get("/v1/records/0x1234/bundle"), 422)
    assert body["errors"][0]["field"] == "record_id"
