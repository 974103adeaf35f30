"""``/epcis``: a lot exported as EPCIS 2.0 validates against GS1's schema, names each
event's proof bundle, and the bundle verifies the very event (v1 records: derived)."""

from __future__ import annotations

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
    assert "TransformationEvent" in r.json()["@set"]


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
