"""``/epcis``: a lot exported as EPCIS 2.0 validates against GS1's schema, names each
event's proof bundle, and the bundle verifies the very event (v1 records: derived)."""

from __future__ import annotations

from typing import Any

from referencing.jsonschema import DRAFT202012 as DRAFT

from vntrace.node.bundles import check_bundle_offline
from vntrace.node.epcis.mapping import from_epcis
from vntrace.node.epcis.validate import epcis_schema_validator

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def test_event_types(gw: Gateway) -> None:
    r = gw.client.get("/epcis/eventTypes")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert r.json()["type"] == "Collection" and "TransformationEvent" in r.json()["member"]


def test_lot_export_is_valid_epcis_with_bundles(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 3)
    gw.node.anchor_now()
    r = gw.client.get(f"/epcis/lots/{gw.gtin}/{lot}/events")
    assert r.status_code == 200 and r.headers["GS1-CBV-Version"] == "2.0.0"
    doc = r.json()
    assert [e.message for e in epcis_schema_validator().iter_errors(doc)] == []
    events = doc["epcisBody"]["eventList"]
    index = doc["vnt:records"]
    assert len(events) == len(index) == 3
    for event, entry in zip(events, index, strict=True):
        assert entry["eventID"] == event["eventID"] and entry["version"] == 1
        bundle = gw.client.get(entry["bundle"]).json()
        assert check_bundle_offline(bundle).ok
        # A v1 record signed the profile event: the export is its faithful mapping.
        assert from_epcis(gw.node.profile, event).event == bundle["event"]


def test_unknown_lot(gw: Gateway) -> None:
    assert_problem(gw.client.get(f"/epcis/lots/{gw.gtin}/{new_lot()}/events"), 404)


def _bindings_validator(schema_name: str) -> Any:
    """A validator for one component schema of GS1's OpenAPI of the REST bindings."""
    import json
    from pathlib import Path

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    spec = json.loads(
        (Path(__file__).parents[1] / "vectors/epcis/gs1/openapi.json").read_text("utf-8")
    )
    resource = Resource.from_contents(spec, default_specification=DRAFT)
    registry = Registry().with_resource("urn:gs1:epcis:openapi", resource)
    return Draft202012Validator(
        {"$ref": f"urn:gs1:epcis:openapi#/components/schemas/{schema_name}"}, registry=registry
    )


def test_top_level_resources_are_the_bindings_collections(gw: Gateway, producer: Producer) -> None:
    import json
    from datetime import UTC, datetime

    from vntrace.client.epcis import profile_events_document
    from vntrace.node.demo import season_events

    lot = new_lot()
    doc = profile_events_document(
        gw.node.profile,
        gw.gtin,
        lot,
        season_events(datetime.now(UTC)),
        producer.account,
        chain_id=gw.info["chainId"],
        registry=gw.info["registry"],
    )
    headers = {**producer.headers, "Content-Type": "application/ld+json"}
    r = gw.client.post("/epcis/capture", content=json.dumps(doc).encode(), headers=headers)
    assert r.status_code == 202, r.text

    types = gw.client.get("/epcis/eventTypes").json()
    assert [e.message for e in _bindings_validator("EventTypeCollection").iter_errors(types)] == []
    top = gw.client.get("/epcis/").json()
    top_level = _bindings_validator("TopLevelResourceCollection")
    assert [e.message for e in top_level.iter_errors(top)] == []
    assert {"eventTypes", "epcs", "bizSteps", "events"} <= set(top["member"])

    steps = gw.client.get("/epcis/bizSteps")
    assert steps.headers["GS1-EPCIS-Version"] == "2.0.0"
    body = steps.json()
    assert [e.message for e in _bindings_validator("BizStepCollection").iter_errors(body)] == []
    assert {"commissioning", "shipping"} <= set(body["member"])
    assert body["member"] == sorted(body["member"])

    # Paged like the event query: Link rel="next", every member once.
    seen, url = [], "/epcis/epcs?perPage=1"
    while url:
        r = gw.client.get(url)
        assert r.status_code == 200
        seen += r.json()["member"]
        link = r.headers.get("Link")
        url = (
            link.split(">", 1)[0].removeprefix("<").replace("http://testserver", "") if link else ""
        )
    assert len(seen) == len(set(seen)) and f"https://id.gs1.org/01/{gw.gtin}/10/{lot}" in seen

    sub = gw.client.get(f"/epcis/epcs/https://id.gs1.org/01/{gw.gtin}/10/{lot}").json()
    assert [e.message for e in _bindings_validator("ResourceCollection").iter_errors(sub)] == []
    assert sub["member"] == ["events"]
    events = gw.client.get(f"/epcis/epcs/https://id.gs1.org/01/{gw.gtin}/10/{lot}/events")
    assert len(events.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 6

    assert_problem(gw.client.get("/epcis/bizSteps?nextPageToken=nope"), 400)
    assert_problem(gw.client.get("/epcis/bizSteps?perPage=0"), 400)
    assert_problem(gw.client.get("/epcis/bizSteps?EQ_bizStep=shipping"), 400)
    token_of_epcs = gw.client.get("/epcis/epcs?perPage=1").headers["Link"]
    other = token_of_epcs.split("nextPageToken=", 1)[1].split(">", 1)[0]
    assert_problem(gw.client.get(f"/epcis/bizSteps?nextPageToken={other}"), 400)
