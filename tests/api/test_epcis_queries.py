"""``/epcis/queries`` over HTTP (EPCIS 2.0 REST bindings): named queries, their events,
webhook subscriptions delivered to a real receiver, and problem+json refusals carrying
the bindings' ``epcisException`` names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.webhook import receiver
from vntrace.client.epcis import profile_events_document
from vntrace.node.demo import season_events
from vntrace.node.epcis.gs1keys import lot_class_uri
from vntrace.node.epcis.subscriptions import SIGNATURE_HEADER, verify_signature
from vntrace.node.epcis.validate import epcis_schema_validator

from .conftest import Gateway, open_gateway
from .helpers import Producer, assert_problem, new_lot

TOKEN = "a-token-the-receiver-chose-0123456789"


@pytest.fixture(scope="module")
def qgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(
        Path(tmp_path_factory.mktemp("queries")), epcis_webhook_allow_private=True
    )


def _capture(gw: Gateway, producer: Producer, lot: str) -> None:
    doc = profile_events_document(
        gw.node.profile,
        gw.gtin,
        lot,
        season_events(datetime.now(UTC)),
        producer.account,
        chain_id=gw.info["chainId"],
        registry=gw.info["registry"],
    )
    r = gw.client.post("/epcis/capture", content=json.dumps(doc), headers=producer.headers)
    assert r.status_code == 202, r.text


def _name(lot: str) -> str:
    return "lot-" + lot.lower()


def _create(gw: Gateway, producer: Producer, lot: str) -> Any:
    body = {"name": _name(lot), "query": {"MATCH_anyEPCClass": [lot_class_uri(gw.gtin, lot)]}}
    return gw.client.post("/epcis/queries", json=body, headers=producer.headers)


def test_named_query_lifecycle(qgw: Gateway) -> None:
    p, other = qgw.producer("Coop A"), qgw.producer("Coop B")
    lot = new_lot()
    _capture(qgw, p, lot)
    r = _create(qgw, p, lot)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/epcis/queries/{_name(lot)}"
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert qgw.client.get(r.headers["Location"]).json()["query"] == {
        "MATCH_anyEPCClass": [lot_class_uri(qgw.gtin, lot)]
    }
    assert _name(lot) in [q["name"] for q in qgw.client.get("/epcis/queries").json()]
    page = qgw.client.get(f"/epcis/queries/{_name(lot)}/events", params={"perPage": 2})
    assert page.status_code == 200 and page.headers["content-type"] == "application/ld+json"
    doc = page.json()
    assert [e.message for e in epcis_schema_validator().iter_errors(doc)] == []
    assert len(doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    assert 'rel="next"' in page.headers["Link"]
    body = assert_problem(_create(qgw, p, lot), 409)
    assert body["epcisException"] == "ResourceAlreadyExistsException"
    body = assert_problem(
        qgw.client.delete(f"/epcis/queries/{_name(lot)}", headers=other.headers), 403
    )
    assert body["epcisException"] == "SecurityException"
    assert qgw.client.delete(f"/epcis/queries/{_name(lot)}", headers=p.headers).status_code == 204
    body = assert_problem(qgw.client.get(f"/epcis/queries/{_name(lot)}"), 404)
    assert body["epcisException"] == "NoSuchNameException"


def test_paging_of_queries(qgw: Gateway) -> None:
    p = qgw.producer()
    for _ in range(3):
        assert _create(qgw, p, new_lot()).status_code == 201
    seen, url = [], "/epcis/queries?perPage=1"
    while url:
        r = qgw.client.get(url)
        seen += [q["name"] for q in r.json()]
        link = r.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
    assert len(seen) == len(set(seen)) >= 3 and seen == sorted(seen)


def test_bad_requests_are_problems_with_epcis_exceptions(qgw: Gateway) -> None:
    p = qgw.producer()
    r = qgw.client.post(
        "/epcis/queries", json={"name": "x", "query": {"EQ_colour": ["red"]}}, headers=p.headers
    )
    assert assert_problem(r, 400)["epcisException"] == "QueryParameterException"
    r = qgw.client.post("/epcis/queries", json={"name": "x", "query": {}})
    assert_problem(r, 401)
    r = qgw.client.post(
        "/epcis/queries",
        content=b"{nope",
        headers={**p.headers, "Content-Type": "application/json"},
    )
    assert_problem(r, 400)
    lot = new_lot()
    assert _create(qgw, p, lot).status_code == 201
    subs = f"/epcis/queries/{_name(lot)}/subscriptions"
    for body in (
        {"dest": "http://127.0.0.1:9/", "stream": True},
        {"dest": "file:///etc/passwd", "signatureToken": TOKEN, "stream": True},
        {"dest": "http://127.0.0.1:9/", "signatureToken": TOKEN},
        {"dest": "http://127.0.0.1:9/", "signatureToken": TOKEN, "schedule": {"minute": "61"}},
    ):
        problem = assert_problem(qgw.client.post(subs, json=body, headers=p.headers), 400)
        assert problem["epcisException"] == "SubscriptionControlsException"
    r = qgw.client.post("/epcis/queries/nope/subscriptions", json={}, headers=p.headers)
    assert assert_problem(r, 404)["epcisException"] == "NoSuchNameException"
    r = qgw.client.get(f"/epcis/queries/{_name(lot)}/events", params={"EQ_bizStep": "shipping"})
    assert assert_problem(r, 400)["epcisException"] == "QueryParameterException"
    r = qgw.client.get(f"/epcis/queries/{_name(lot)}/events", params={"nextPageToken": "zz"})
    assert assert_problem(r, 400)["epcisException"] == "QueryParameterException"
    assert_problem(qgw.client.get("/epcis/queries", params={"nextPageToken": "%%"}), 400)


def test_private_addresses_are_refused_by_default(gw: Gateway) -> None:
    p = gw.producer()
    lot = new_lot()
    assert _create(gw, p, lot).status_code == 201
    body = {"dest": "http://127.0.0.1:9/hook", "signatureToken": TOKEN, "stream": True}
    r = gw.client.post(f"/epcis/queries/{_name(lot)}/subscriptions", json=body, headers=p.headers)
    problem = assert_problem(r, 400)
    assert problem["epcisException"] == "SubscriptionControlsException"
    assert "non-public" in problem["detail"]


def test_subscription_over_http_delivers_signed_documents(qgw: Gateway) -> None:
    p, other = qgw.producer("Coop S"), qgw.producer("Coop T")
    lot = new_lot()
    assert _create(qgw, p, lot).status_code == 201
    url = f"/epcis/queries/{_name(lot)}/subscriptions"
    with receiver() as rx:
        body = {"dest": rx.url, "signatureToken": TOKEN, "stream": True}
        r = qgw.client.post(url, json=body, headers=p.headers)
        assert r.status_code == 201, r.text
        sub = r.json()
        assert "signatureToken" not in sub and sub["stream"] is True and sub["dest"] == rx.url
        location = r.headers["Location"]
        assert location == f"{url}/{sub['subscriptionID']}"
        assert (
            qgw.client.get(location, headers=p.headers).json()["subscriptionID"]
            == sub["subscriptionID"]
        )
        assert_problem(qgw.client.get(location, headers=other.headers), 404)
        assert_problem(qgw.client.get(location), 401)
        assert [s["subscriptionID"] for s in qgw.client.get(url, headers=p.headers).json()] == [
            sub["subscriptionID"]
        ]
        assert qgw.client.get(url, headers=other.headers).json() == []

        _capture(qgw, p, lot)
        service = qgw.node.epcis_subscriptions
        service.settle_ms = 0
        queued, sent = service.run_once()
        assert (queued, sent) == (1, 1)
        (d,) = rx.accepted
        assert verify_signature(TOKEN, d.body, d.headers[SIGNATURE_HEADER])
        doc = json.loads(d.body)
        assert [e.message for e in epcis_schema_validator().iter_errors(doc)] == []
        assert doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert "lastNotifiedAt" in qgw.client.get(location, headers=p.headers).json()

        assert_problem(qgw.client.delete(location, headers=other.headers), 404)
        assert qgw.client.delete(location, headers=p.headers).status_code == 204
        assert (
            assert_problem(qgw.client.get(location, headers=p.headers), 404)["epcisException"]
            == "NoSuchNameException"
        )
        _capture(qgw, p, new_lot())
        assert service.run_once() == (0, 0)
        assert len(rx.got) == 1


def test_refusals_are_node_problems_with_the_epcis_headers(qgw: Gateway) -> None:
    """The service's errors reach the client through the gateway's node-error handler:
    field errors, ``epcisException`` and the EPCIS version headers, as any answer."""
    p = qgw.producer()
    r = qgw.client.get("/epcis/queries/no-such-query", headers=p.headers)
    body = assert_problem(r, 404, "not-found")
    assert body["title"] == "EPCIS NoSuchNameException"
    assert body["errors"] == [
        {
            "field": "queryName",
            "message": "no query named no-such-query",
            "code": "NoSuchNameException",
        }
    ]
    assert r.headers["GS1-EPCIS-Version"] == r.headers["GS1-CBV-Version"] == "2.0.0"
    r = qgw.client.post("/epcis/queries", json={"name": "-bad"}, headers=p.headers)
    body = assert_problem(r, 400, "malformed-request")
    assert body["epcisException"] == "QueryParameterException"
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0" and "Retry-After" not in r.headers
