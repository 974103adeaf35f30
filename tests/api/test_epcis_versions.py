"""Version negotiation and ``OPTIONS`` discovery of the EPCIS 2.0 REST bindings (GS1's
OpenAPI): ``GS1-EPCIS-Min/Max`` and ``GS1-CBV-Min/Max`` ranges that exclude 2.0.0 get
406 ``NotAcceptableException``; ``OPTIONS`` on every ``/epcis`` path answers 204 with
exactly the headers the OpenAPI's discovery response for that path defines, each valid
against its schema, and an ``Allow`` naming the methods the node really serves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from vntrace.api.routes import epcis, epcis_queries
from vntrace.node.epcis.gs1keys import lot_class_uri

from .conftest import Gateway, open_gateway
from .helpers import Producer, assert_problem, new_lot

SPEC = json.loads((Path(__file__).parents[1] / "vectors/epcis/gs1/openapi.json").read_text())
_REGISTRY = Registry().with_resource(
    "urn:gs1:epcis:openapi", Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


@pytest.fixture(scope="module")
def vgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Webhooks to loopback allowed: a subscription to discover."""
    yield from open_gateway(
        Path(tmp_path_factory.mktemp("versions")), epcis_webhook_allow_private=True
    )


def _ref(ref: str) -> dict[str, Any]:
    node: Any = SPEC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    text = json.dumps(schema).replace('"#/', '"urn:gs1:epcis:openapi#/')
    return Draft202012Validator(
        json.loads(text), registry=_REGISTRY, format_checker=FormatChecker()
    )


def _shape(path: str) -> str:
    """``/epcs/{epc}/events`` and ``/epcis/epcs/{value:path}/events`` alike: ``/epcs/{}/events``."""
    return re.sub(r"{[^}]*}", "{}", path.removeprefix("/epcis").rstrip("/") or "/")


OPENAPI_OPTIONS = {
    _shape(path): _ref(ops["options"]["responses"]["204"]["$ref"])
    for path, ops in SPEC["paths"].items()
    if "options" in ops
}
"""Bindings path (shape) -> its OPTIONS 204 response (``204DefaultDiscoveryResponse``...)."""


def _epcis_routes() -> dict[str, set[str]]:
    """Every path of the two EPCIS routers and the methods served on it (OPTIONS aside)."""
    out: dict[str, set[str]] = {}
    for router in (epcis.router, epcis_queries.router):
        for route in router.routes:
            if isinstance(route, APIRoute) and route.methods != {"OPTIONS"}:
                out.setdefault(route.path, set()).update(route.methods)
    return out


def _url(path: str) -> str:
    return re.sub(r"{[^}]*}", "x1", path)


# -- negotiation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "culprit"),
    [
        ({"GS1-EPCIS-Max": "1.2"}, "GS1-EPCIS-Max"),
        ({"GS1-EPCIS-Max": "1.2.0", "GS1-EPCIS-Min": "1.0"}, "GS1-EPCIS-Max"),
        ({"GS1-EPCIS-Min": "2.1"}, "GS1-EPCIS-Min"),
        ({"GS1-EPCIS-Min": "3"}, "GS1-EPCIS-Min"),
        ({"GS1-CBV-Max": "1.2.0"}, "GS1-CBV-Max"),
        ({"GS1-CBV-Min": "2.0.1"}, "GS1-CBV-Min"),
        ({"GS1-EPCIS-Min": "2.0.0", "GS1-EPCIS-Max": "1.0"}, "GS1-EPCIS-Min"),
        ({"GS1-EPCIS-Min": "two"}, "GS1-EPCIS-Min"),
        ({"GS1-CBV-Max": "2.0-beta"}, "GS1-CBV-Max"),
    ],
)
def test_ranges_excluding_2_0_are_not_acceptable(
    gw: Gateway, headers: dict[str, str], culprit: str
) -> None:
    for method, path in (
        ("GET", "/epcis/events"),
        ("GET", "/epcis/bizSteps/shipping/events"),
        ("GET", "/epcis/queries"),
        ("GET", "/epcis/"),
        ("OPTIONS", "/epcis/events"),
    ):
        r = gw.client.request(method, path, headers=headers)
        body = assert_problem(r, 406, "not-acceptable")
        assert body["epcisException"] == "NotAcceptableException"
        assert body["errors"][0]["field"] == culprit and culprit in body["detail"]
        # The answer says what this node does support.
        for name in ("GS1-EPCIS-Min", "GS1-EPCIS-Max", "GS1-CBV-Min", "GS1-CBV-Max"):
            assert r.headers[name] == "2.0.0"


def test_capture_is_negotiated_before_its_body_is_read(gw: Gateway, producer: Producer) -> None:
    r = gw.client.post(
        "/epcis/capture",
        content=b"{not even json",
        headers={**producer.headers, "GS1-EPCIS-Max": "1.2", "Content-Type": "application/json"},
    )
    assert assert_problem(r, 406)["epcisException"] == "NotAcceptableException"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"GS1-EPCIS-Min": "2.0", "GS1-EPCIS-Max": "2.0"},
        {"GS1-EPCIS-Min": "1.0.0", "GS1-EPCIS-Max": "2.0.0"},
        {"GS1-EPCIS-Min": "2", "GS1-CBV-Max": "2.0.0", "GS1-CBV-Min": "1.2.0"},
        {"GS1-EPCIS-Max": "2.1", "GS1-CBV-Max": "3.0"},
        {"GS1-CBV-Min": " 2.0.0 "},
    ],
)
def test_ranges_holding_2_0_are_served(gw: Gateway, headers: dict[str, str]) -> None:
    for path in ("/epcis/events", "/epcis/eventTypes", "/epcis/queries"):
        r = gw.client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["GS1-EPCIS-Version"] == r.headers["GS1-CBV-Version"] == "2.0.0"


# -- discovery -------------------------------------------------------------------------


def test_options_on_every_path_answer_the_bindings_discovery_headers(vgw: Gateway) -> None:
    routes = _epcis_routes()
    assert len(routes) >= 25
    checked = 0
    for path, methods in routes.items():
        if path.endswith("/subscriptions/{subscription_id}"):
            continue  # needs its owner: the next test
        r = vgw.client.options(_url(path))
        assert r.status_code == 204, (path, r.text)
        assert r.content == b""
        allow = [m.strip() for m in r.headers["Allow"].split(",")]
        assert allow[0] == "OPTIONS" and set(allow) == methods | {"OPTIONS"}, path
        response = OPENAPI_OPTIONS.get(
            _shape(path), _ref("#/components/responses/204DefaultDiscoveryResponse")
        )
        defined = set(response["headers"])
        sent = {h for h in r.headers if h.lower().startswith("gs1-") or h.lower() == "allow"}
        assert {h.lower() for h in defined} == sent, path
        for name, header in response["headers"].items():
            schema = header["schema"] if "schema" in header else _ref(header["$ref"])["schema"]
            kind = (_ref(schema["$ref"]) if "$ref" in schema else schema).get("type")
            value: Any = r.headers[name]
            if kind == "integer":
                value = int(value)
            elif kind == "object":  # OpenAPI style simple, explode: key=value,key=value
                value = dict(pair.split("=", 1) for pair in value.split(","))
            errors = [e.message for e in _schema_validator(schema).iter_errors(value)]
            assert errors == [], (path, name, value, errors)
        checked += 1
    assert checked == len(routes) - 1
    extensions = vgw.client.options("/epcis/events").headers["GS1-Extensions"]
    assert extensions == "vnt=https://vntrace.org/ns/robusta-vn/1/"
    capture = vgw.client.options("/epcis/capture").headers
    assert (capture["GS1-EPCIS-Capture-Limit"], capture["GS1-Capture-Error-Behaviour"]) == (
        "10000",
        "rollback",
    )
    assert capture["GS1-EPCIS-Capture-File-Size-Limit"] == str(4 * 1024 * 1024)
    assert vgw.client.options("/epcis/queries/x1").headers["Allow"] == "OPTIONS, GET, DELETE"
    assert vgw.client.options("/epcis/queries").headers["Allow"] == "OPTIONS, GET, POST"


def test_options_on_a_subscription_is_for_its_owner(vgw: Gateway) -> None:
    owner, other = vgw.producer("Owner"), vgw.producer("Other")
    lot = new_lot()
    query = {
        "name": f"q-{lot.lower()}",
        "query": {"MATCH_anyEPCClass": [lot_class_uri(vgw.gtin, lot)]},
    }
    assert vgw.client.post("/epcis/queries", json=query, headers=owner.headers).status_code == 201
    body = {
        "dest": "http://127.0.0.1:9/hook",
        "signatureToken": "s" * 32,
        "stream": True,
        "initialRecordTime": "2026-01-02T03:04:05.678Z",
    }
    url = f"/epcis/queries/{query['name']}/subscriptions"
    r = vgw.client.post(url, json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    assert_problem(vgw.client.options(location), 401)
    assert_problem(vgw.client.options(location, headers=other.headers), 404)
    assert_problem(vgw.client.options(f"{url}/sub_nope", headers=owner.headers), 404)
    r = vgw.client.options(location, headers=owner.headers)
    assert r.status_code == 204, r.text
    response = _ref("#/components/responses/204SubscriptionEndpointDiscovery")
    sent = {h for h in r.headers if h.lower().startswith("gs1-") or h.lower() == "allow"}
    assert sent == {h.lower() for h in response["headers"]}
    assert r.headers["Allow"] == "OPTIONS, GET, DELETE"
    assert r.headers["GS1-Query-Min-Record-Time"] == "2026-01-02T03:04:05.678Z"
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0"
    r = vgw.client.options(location, headers={**owner.headers, "GS1-EPCIS-Max": "1.2"})
    assert_problem(r, 406)


def test_options_are_in_the_nodes_openapi(gw: Gateway) -> None:
    spec = gw.client.get("/openapi.json").json()
    paths = [p for p in spec["paths"] if p.startswith("/epcis")]
    assert paths and all("options" in spec["paths"][p] for p in paths)
    params = {p["name"] for p in spec["paths"]["/epcis/events"]["get"]["parameters"]}
    assert {"GS1-EPCIS-Min", "GS1-EPCIS-Max", "GS1-CBV-Min", "GS1-CBV-Max"} <= params
    assert {"orderBy", "orderDirection", "eventCountLimit", "maxEventCount"} <= params
    assert "406" in spec["paths"]["/epcis/events"]["get"]["responses"]
