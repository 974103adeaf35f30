"""Producers and API keys: administrator only."""

from __future__ import annotations

from eth_account import Account

from .conftest import Gateway
from .helpers import Producer, assert_problem


def test_register_producer_on_node_and_chain(gw: Gateway) -> None:
    account = Account.create()
    body = {"address": account.address, "name": "Ea Tu", "metadataUri": "https://e.org/ea"}
    r = gw.client.post("/v1/producers", json=body, headers=gw.admin)
    assert r.status_code == 201
    out = r.json()
    assert out["address"] == account.address
    assert out["registeredOnchain"] is True and out["onchainTxHash"].startswith("0x")
    assert gw.node.chain.is_active_producer(account.address)
    again = gw.client.post("/v1/producers", json=body, headers=gw.admin)
    assert again.status_code == 200 and again.json()["address"] == account.address
    got = gw.client.get(f"/v1/producers/{account.address}", headers=gw.admin)
    assert got.json()["metadataUri"] == "https://e.org/ea"
    listed = gw.client.get("/v1/producers", headers=gw.admin).json()["items"]
    assert account.address in [p["address"] for p in listed]


def test_register_producer_needs_admin(gw: Gateway, producer: Producer) -> None:
    body = {"address": Account.create().address, "name": "X"}
    assert_problem(gw.client.post("/v1/producers", json=body), 401, "unauthorized")
    r = gw.client.post("/v1/producers", json=body, headers=producer.headers)
    assert "administrator" in assert_problem(r, 403, "forbidden")["detail"]
    r = gw.client.get("/v1/producers", headers=producer.headers)
    assert_problem(r, 403)


def test_register_producer_bad_input(gw: Gateway) -> None:
    r = gw.client.post("/v1/producers", json={"address": "0x1234", "name": "X"}, headers=gw.admin)
    body = assert_problem(r, 422, "invalid-input")
    assert body["errors"][0]["field"] == "address"
    r = gw.client.post(
        "/v1/producers",
        json={"address": Account.create().address, "name": "", "extra": 1},
        headers=gw.admin,
    )
    fields = {e["field"] for e in assert_problem(r, 422)["errors"]}
    assert fields == {"name", "extra"}


def test_issue_list_and_revoke_keys(gw: Gateway, producer: Producer) -> None:
    url = f"/v1/producers/{producer.address}/keys"
    r = gw.client.post(url, json={"label": "scanner"}, headers=gw.admin)
    assert r.status_code == 201
    issued = r.json()
    assert issued["token"].startswith("vnt_") and issued["label"] == "scanner"
    headers = {"Authorization": f"Bearer {issued['token']}"}
    me = gw.client.get("/v1/me", headers=headers).json()
    assert me["role"] == "producer" and me["producer"]["address"] == producer.address
    keys = gw.client.get(url, headers=gw.admin).json()["items"]
    assert {k["keyId"] for k in keys} == {producer.key_id, issued["keyId"]}
    assert all("token" not in k for k in keys)
    r = gw.client.delete(f"{url}/{issued['keyId']}", headers=gw.admin)
    assert r.status_code == 200 and r.json()["revokedAt"]
    assert_problem(gw.client.get("/v1/me", headers=headers), 401)
    assert gw.client.get("/v1/me", headers=producer.headers).status_code == 200


def test_revoke_another_producers_key_is_not_found(gw: Gateway, producer: Producer) -> None:
    other = gw.producer("Other")
    r = gw.client.delete(f"/v1/producers/{producer.address}/keys/{other.key_id}", headers=gw.admin)
    assert_problem(r, 404, "not-found")
    assert gw.client.get("/v1/me", headers=other.headers).status_code == 200


def test_unknown_producer(gw: Gateway) -> None:
    address = Account.create().address
    assert_problem(gw.client.get(f"/v1/producers/{address}", headers=gw.admin), 404)
    r = gw.client.post(f"/v1/producers/{address}/keys", json={}, headers=gw.admin)
    assert_problem(r, 404)
