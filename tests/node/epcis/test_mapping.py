"""Profile events -> EPCIS 2.0 events: schema-valid, deterministic, and reversible."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from vntrace.node.demo import season_events
from vntrace.node.epcis.errors import MappingError
from vntrace.node.epcis.mapping import (
    EPCIS_CONTEXT,
    epcis_context,
    epcis_document,
    from_epcis,
    profile_namespace,
    time_zone_offset,
    to_epcis,
    with_context,
)
from vntrace.node.epcis.validate import epcis_schema_validator
from vntrace.node.profile import Profile, default_profile
from vntrace.node.records import commit_private_fields, validate_event

from ..records.conftest import GTIN, LOT, NOW, sample_event

KINDS = ("harvest", "drying", "hulling", "roasting", "packing", "shipping", "receiving", "recall")


@pytest.fixture(scope="module")
def profile() -> Profile:
    return default_profile()


def _schema_errors(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in epcis_schema_validator().iter_errors(doc)]


def test_every_demo_event_validates_against_gs1_schema(profile: Profile) -> None:
    now = datetime.now(UTC)
    events = []
    for lot in ("EA-20260101-1", "EA/2026%x"):
        for event in season_events(now):
            validate_event(profile, event, now=now)
            events.append(to_epcis(profile, profile.gtins[0], lot, event))
    doc = epcis_document(events, profile)
    assert _schema_errors(doc) == []
    assert len(doc["epcisBody"]["eventList"]) == 12
    # Each standalone event (the signed form) is a valid EPCIS document on its own too.
    for event in events:
        assert _schema_errors(event) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_maps_validates_and_round_trips(profile: Profile, kind: str) -> None:
    event = sample_event(kind)
    validate_event(profile, event, now=NOW)
    mapped = to_epcis(profile, GTIN, LOT, event)
    assert _schema_errors(mapped) == []
    assert _schema_errors(epcis_document([mapped], profile)) == []
    spec = profile.kinds[kind]
    assert mapped["type"] == spec.event_type
    assert mapped["bizStep"] == spec.biz_step
    assert mapped.get("action") == spec.action
    assert mapped.get("disposition") == spec.disposition
    assert mapped["vnt:kind"] == kind
    back = from_epcis(profile, mapped)
    assert (back.gtin, back.lot) == (GTIN, LOT)
    assert back.event == event


def test_committed_private_fields_map_and_round_trip(profile: Profile) -> None:
    event = sample_event("shipping")
    committed, disclosures = commit_private_fields(event, profile.private_fields("shipping"))
    assert disclosures
    mapped = to_epcis(profile, GTIN, LOT, committed)
    assert mapped["vnt:price"] == committed["price"]
    assert "commitment" in mapped["vnt:price"]
    assert from_epcis(profile, mapped).event == committed


def test_mapping_details(profile: Profile) -> None:
    harvest = to_epcis(
        profile, GTIN, "EA-2024/11", {**sample_event("harvest"), "location": "8936099000008"}
    )
    assert harvest["@context"] == [EPCIS_CONTEXT, {"vnt": profile_namespace(profile)}]
    assert harvest["quantityList"] == [
        {
            "epcClass": f"https://id.gs1.org/01/{GTIN}/10/EA-2024%2F11",
            "quantity": 5200,
            "uom": "KGM",
        }
    ]
    assert harvest["eventTimeZoneOffset"] == "+07:00"
    assert harvest["bizLocation"] == {"id": "https://id.gs1.org/414/8936099000008"}
    assert harvest["vnt:geolocation"] == {"type": "Point", "coordinates": [108.051234, 12.681234]}
    assert harvest["eventID"].startswith("ni:///sha-256;")
    packing = to_epcis(profile, GTIN, LOT, sample_event("packing"))
    assert packing["parentID"] == "https://id.gs1.org/00/089360990000000015"
    assert packing["childQuantityList"][0]["quantity"] == 1200
    drying = to_epcis(profile, GTIN, LOT, sample_event("drying"))
    assert drying["inputQuantityList"][0]["uom"] == "TNE"
    assert drying["outputQuantityList"][0]["quantity"] == 2400
    assert "action" not in drying
    recall = to_epcis(profile, GTIN, LOT, sample_event("recall"))
    assert recall["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/EA-2024%2F11"}]
    with_uuid = to_epcis(
        profile,
        GTIN,
        LOT,
        {**sample_event("recall"), "eventId": "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"},
    )
    assert with_uuid["eventID"] == "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"


def test_deterministic(profile: Profile) -> None:
    event = sample_event("harvest")
    first = to_epcis(profile, GTIN, LOT, event)
    second = to_epcis(profile, GTIN, LOT, copy.deepcopy(event))
    assert json.dumps(first) == json.dumps(second)
    assert to_epcis(profile, GTIN, LOT, {**event, "plotAreaHa": 1.7})["eventID"] != first["eventID"]


def test_document_drops_and_restores_event_context(profile: Profile) -> None:
    event = to_epcis(profile, GTIN, LOT, sample_event("hulling"))
    doc = epcis_document([event], profile, creation_date=NOW)
    inner = doc["epcisBody"]["eventList"][0]
    assert "@context" not in inner
    assert doc["creationDate"] == "2024-11-20T03:00:00.000Z"
    assert with_context(inner, doc["@context"]) == event


def test_time_zone_offset() -> None:
    assert time_zone_offset("2024-01-01T00:00:00Z") == "+00:00"
    assert time_zone_offset("2024-01-01T00:00:00-05:30") == "-05:30"
    with pytest.raises(MappingError):
        time_zone_offset("2024-01-01T00:00:00")


def test_plain_epcis_event_without_kind_is_inferred(profile: Profile) -> None:
    mapped = to_epcis(profile, GTIN, LOT, sample_event("shipping"))
    del mapped["vnt:kind"]
    assert from_epcis(profile, mapped).event["kind"] == "shipping"
    drying = to_epcis(profile, GTIN, LOT, sample_event("drying"))
    del drying["vnt:kind"]  # drying, hulling and roasting share type, bizStep, disposition
    with pytest.raises(MappingError, match="vnt:kind"):
        from_epcis(profile, drying)


def test_lgtin_urn_epc_class_is_read(profile: Profile) -> None:
    mapped = to_epcis(profile, GTIN, "L1", sample_event("recall"))
    mapped["quantityList"] = [{"epcClass": "urn:epc:class:lgtin:8936099.000001.L1"}]
    assert (from_epcis(profile, mapped).gtin, from_epcis(profile, mapped).lot) == (GTIN, "L1")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update({"vnt:kind": "brewing"}),
        lambda e: e.update({"type": "AggregationEvent"}),
        lambda e: e.update({"quantityList": []}),
        lambda e: e.update({"quantityList": [{"epcClass": "https://id.gs1.org/01/" + GTIN}]}),
        lambda e: e.update({"bizLocation": {"id": "urn:epc:id:sgln:0614141.07346.1234"}}),
    ],
)
def test_from_epcis_refuses_what_does_not_fit(profile: Profile, mutate: Any) -> None:
    mapped = to_epcis(profile, GTIN, LOT, sample_event("shipping"))
    mutate(mapped)
    with pytest.raises(MappingError):
        from_epcis(profile, mapped)


def test_to_epcis_refuses_bad_input(profile: Profile) -> None:
    with pytest.raises(MappingError):
        to_epcis(profile, GTIN, LOT, {"kind": "brewing", "eventTime": "2024-01-01T00:00:00Z"})
    with pytest.raises(MappingError):
        to_epcis(profile, "123", LOT, sample_event("recall"))
    assert epcis_context(profile)[0] == EPCIS_CONTEXT
