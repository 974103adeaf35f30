"""``/v1/eudr``: the demo season checks clean once anchored and exports a DDS whose
GeoJSON is RFC 7946 and EU-valid; bad plots are refused with plot, rule and where."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import geojson
import pytest

from vntrace.node.demo import season_events
from vntrace.node.eudr.geometry import check_geometry
from vntrace.node.records import prepare_record
from vntrace.node.records.errors import EventValidationError

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [108.061234, 12.691234],
            [108.063584, 12.693534],
            [108.063584, 12.691234],
            [108.061234, 12.693534],
            [108.061234, 12.691234],
        ]
    ],
}


def signed(gw: Gateway, producer: Producer, lot: str, events: list[dict]) -> list[dict]:
    out = []
    for event in events:
        prepared = prepare_record(gw.node.profile, gw.gtin, lot, event)
        s = prepared.sign(producer.account, gw.info["chainId"], gw.info["registry"])
        out.append(
            {"event": s.event, "salt": "0x" + s.salt.hex(), "signature": "0x" + s.signature.hex()}
        )
    return out


def post(gw: Gateway, producer: Producer, lot: str, events: list[dict]) -> Any:
    body = {"gtin": gw.gtin, "lot": lot, "events": signed(gw, producer, lot, events)}
    return gw.client.post("/v1/lots", json=body, headers=producer.headers)


@pytest.fixture
def season(gw: Gateway, producer: Producer) -> str:
    lot = new_lot()
    r = post(gw, producer, lot, season_events(datetime.now(UTC)))
    assert r.status_code == 201, r.text
    return lot


def check(gw: Gateway, lot: str) -> dict[str, Any]:
    r = gw.client.get(f"/v1/eudr/lots/{gw.gtin}/{lot}/check")
    assert r.status_code == 200, r.text
    return r.json()


def test_pending_records_are_questioned_then_clean_once_anchored(gw: Gateway, season: str) -> None:
    before = check(gw, season)
    assert not before["ok"] and before["plots"] == 2
    assert {i["rule"] for i in before["issues"]} == {"not_anchored"}
    assert len(before["issues"]) == 6
    gw.node.anchor_now()
    after = check(gw, season)
    assert after == {"gtin": gw.gtin, "lot": season, "ok": True, "plots": 2, "issues": []}


def test_demo_shipment_exports_a_valid_dds(gw: Gateway, producer: Producer) -> None:
    lots = [new_lot(), new_lot()]
    for lot in lots:
        assert post(gw, producer, lot, season_events(datetime.now(UTC))).status_code == 201
    gw.node.anchor_now()
    r = gw.client.get(
        "/v1/eudr/export",
        params={"gtin": gw.gtin, "lot": lots, "activityType": "IMPORT", "countryOfActivity": "DE"},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    statement = doc["statement"]["statement"]
    assert statement["activityType"] == "IMPORT" and statement["countryOfActivity"] == "DE"
    assert [c["hsHeading"] for c in statement["commodities"]] == ["0901", "0901"]
    assert [c["descriptors"]["goodsMeasure"]["netWeight"] for c in statement["commodities"]] == [
        3600,
        3600,
    ]
    # the plain GeoJSON: RFC 7946 by the geojson package, EU rules by ours
    plots = geojson.loads(json.dumps(doc["geojson"]))
    assert plots.is_valid, plots.errors()
    assert len(plots["features"]) == 4
    for feature in doc["geojson"]["features"]:
        props = feature["properties"]
        assert props["lot"] in lots and props["ProducerCountry"] == "VN"
        area = props["plotAreaHa"]
        assert check_geometry(feature["geometry"], plot="x", declared_area_ha=area) == []
    # each producer's plots travel base64-encoded, as geometryGeojson in the EU's API
    for commodity in statement["commodities"]:
        (producer_entry,) = commodity["producers"]
        inner = json.loads(base64.b64decode(producer_entry["geometryGeojson"]))
        assert geojson.loads(json.dumps(inner)).is_valid
        assert len(inner["features"]) == 2
    # every plot's record is anchored and verifies
    ids = [f["properties"]["recordId"] for f in doc["geojson"]["features"]]
    assert sorted(b["leaf"] for b in doc["bundles"]) == sorted(ids)
    verdicts = gw.node.verify_records(ids)
    assert all(v.ok for v in verdicts), verdicts


def test_bow_tie_is_refused_at_intake_with_the_crossing(gw: Gateway) -> None:
    harvest = dict(season_events(datetime.now(UTC))[1], geolocation=BOW_TIE)
    with pytest.raises(EventValidationError) as caught:
        prepare_record(gw.node.profile, gw.gtin, new_lot(), harvest)
    (err,) = caught.value.errors
    assert err.path == "geolocation.coordinates" and err.code == "geometry"
    assert "Self-intersection at [108.062409, 12.692384]" in err.message


def test_hole_is_reported_and_export_refused(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    events = season_events(datetime.now(UTC))
    hole = [
        [108.062001, 12.692001],
        [108.062501, 12.692001],
        [108.062501, 12.692501],
        [108.062001, 12.692001],
    ]
    events[1]["geolocation"]["coordinates"].append(hole)
    assert post(gw, producer, lot, events).status_code == 201  # intake keeps old rules
    gw.node.anchor_now()
    report = check(gw, lot)
    (issue,) = report["issues"]
    assert issue["rule"] == "hole" and issue["plot"].startswith("EA-TU-042")
    assert issue["where"] == [108.062001, 12.692001]
    r = gw.client.get("/v1/eudr/export", params={"gtin": gw.gtin, "lot": lot})
    body = assert_problem(r, 422)
    assert [e["rule"] for e in body["errors"]] == ["hole"]


def test_dds_reference_is_an_anchored_event_of_the_lot(gw: Gateway, season: str) -> None:
    producer = gw.producer()
    lot = new_lot()
    assert post(gw, producer, lot, season_events(datetime.now(UTC))).status_code == 201
    notice = {
        "kind": "regulatory_notification",
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "regulation": "EUDR",
        "ddsReferenceNumber": "25DEAB12CD34EF",
        "ddsVerificationNumber": "K7Q2M9XZ",
        "activityType": "IMPORT",
    }
    assert post(gw, producer, lot, [notice]).status_code == 201
    gw.node.anchor_now()
    facts = gw.client.get(f"/v1/eudr/lots/{gw.gtin}/{lot}/facts").json()
    assert facts["plots"] == 2 and facts["countries"] == ["VN"]
    assert facts["totalAreaHa"] == pytest.approx(1.8 + 6.4947, abs=1e-3)
    (ref,) = facts["ddsReferences"]
    assert ref["referenceNumber"] == "25DEAB12CD34EF" and ref["status"] == "anchored"
    assert geojson.loads(json.dumps(facts["geojson"])).is_valid
    assert check(gw, lot)["ok"]  # the notification is not a processing step


def test_lot_without_plots_and_bad_queries(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    assert post(gw, producer, lot, season_events(datetime.now(UTC))[2:4]).status_code == 201
    gw.node.anchor_now()
    rules = {i["rule"] for i in check(gw, lot)["issues"]}
    assert "no_plots" in rules
    assert_problem(gw.client.get("/v1/eudr/export", params={"gtin": gw.gtin, "lot": lot}), 422)
    assert_problem(gw.client.get(f"/v1/eudr/lots/{gw.gtin}/NOPE-{lot}/check"), 404)
    r = gw.client.get(
        "/v1/eudr/export", params={"gtin": gw.gtin, "lot": lot, "activityType": "SELL"}
    )
    assert_problem(r, 422)
