"""``GET /v1/epochs`` and ``GET /v1/epochs/{number}``."""

from __future__ import annotations

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_list_and_get(gw: Gateway, producer: Producer) -> None:
    gw.lot_with_events(producer, new_lot(), 1)
    gw.node.anchor_now()
    items = gw.client.get("/v1/epochs", params={"limit": 1000}).json()["items"]
    assert items and [e["number"] for e in items] == sorted(e["number"] for e in items)
    last = items[-1]
    assert last["status"] == "anchored" and last["recordCount"] >= 1
    assert last["anchor"]["contract"] == gw.info["registry"]
    assert gw.client.get(f"/v1/epochs/{last['number']}").json() == last
    page = gw.client.get("/v1/epochs", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["nextAfter"] == page["items"][0]["number"]


def test_unknown_epoch_and_bad_query(gw: Gateway) -> None:
    assert_problem(gw.client.get("/v1/epochs/999999"), 404)
    assert_problem(gw.client.get("/v1/epochs/abc"), 422)
    # Past a 64-bit integer: refused with a problem, never a database overflow (a 500).
    assert_problem(gw.client.get("/v1/epochs", params={"after": 2**63}), 422)
    assert_problem(gw.client.get(f"/v1/epochs/{2**63}"), 422)
    body = assert_problem(gw.client.get("/v1/epochs", params={"limit": 0}), 422)
    assert body["errors"][0] == {
        "field": "limit",
        "in": "query",
        "message": body["errors"][0]["message"],
        "code": "greater_than_equal",
    }
