"""Capture-document validation: size first, then JSON, GS1's schema, CBV vocabulary and
the profile, with every problem named by event index, eventID and rule."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from vntrace.node.demo import season_events
from vntrace.node.epcis.errors import DocumentTooLargeError, DocumentValidationError
from vntrace.node.epcis.hashid import event_hash_id
from vntrace.node.epcis.mapping import epcis_document, to_epcis
from vntrace.node.epcis.validate import schema_path, validate_document
from vntrace.node.profile import Profile, default_profile
from vntrace.node.records import RecordError

from .conftest import VECTORS, load, with_2_0_context

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def profile() -> Profile:
    return default_profile()


@pytest.fixture
def demo_doc(profile: Profile) -> dict[str, Any]:
    events = [to_epcis(profile, profile.gtins[0], "EA-1", e) for e in season_events(NOW)]
    return epcis_document(events, profile, creation_date=NOW)


def _problems(doc: Any, profile: Profile) -> list[dict[str, Any]]:
    with pytest.raises(DocumentValidationError) as info:
        validate_document(doc, profile, now=NOW)
    assert isinstance(info.value, RecordError)
    return info.value.to_dicts()


def test_packaged_schema_is_gs1s() -> None:
    assert schema_path().read_bytes() == (VECTORS / "gs1" / "EPCIS-JSON-Schema.json").read_bytes()


def test_demo_document_is_accepted(profile: Profile, demo_doc: dict[str, Any]) -> None:
    raw = json.dumps(demo_doc, ensure_ascii=False).encode()
    captured = validate_document(raw, profile, now=NOW)
    assert [c.kind for c in captured] == [
        "harvest",
        "harvest",
        "drying",
        "hulling",
        "packing",
        "shipping",
    ]
    assert all((c.gtin, c.lot) == (profile.gtins[0], "EA-1") for c in captured)
    for c, event in zip(captured, demo_doc["epcisBody"]["eventList"], strict=True):
        assert (
            c.hash_id
            == event["eventID"]
            == event_hash_id(event, {"vnt": "https://vntrace.org/ns/robusta-vn/1/"})
        )
        assert c.correction is None


def test_size_is_checked_before_parsing(profile: Profile) -> None:
    junk = b"{" * 2000  # not JSON at all: only the size check can speak first
    with pytest.raises(DocumentTooLargeError):
        validate_document(junk, profile, max_bytes=1000)


def test_bad_json_is_refused(profile: Profile) -> None:
    problems = _problems(b'{"type": "EPCISDocument", "type": "x"}', profile)
    assert problems[0]["rule"] == "json"
    assert _problems(b"[]", profile)[0]["rule"] == "document"


def test_schema_errors_name_the_event(profile: Profile, demo_doc: dict[str, Any]) -> None:
    del demo_doc["epcisBody"]["eventList"][3]["eventTimeZoneOffset"]
    demo_doc["epcisBody"]["eventList"][4]["eventTime"] = "yesterday"
    problems = _problems(demo_doc, profile)
    assert {(p["index"], p["rule"]) for p in problems} == {(3, "schema"), (4, "schema")}
    ids = {p["index"]: p["eventID"] for p in problems}
    assert ids[3] == demo_doc["epcisBody"]["eventList"][3]["eventID"]


def test_unknown_vocabulary_is_refused(profile: Profile, demo_doc: dict[str, Any]) -> None:
    events = demo_doc["epcisBody"]["eventList"]
    events[0]["bizStep"] = "https://example.com/bizstep/picking_cherries"  # schema-valid URI
    events[5]["disposition"] = "https://ref.gs1.org/cbv/Disp-teleported"
    problems = _problems(demo_doc, profile)
    vocab = [(p["index"], p["path"]) for p in problems if p["rule"] == "vocabulary"]
    assert vocab == [(0, "bizStep"), (5, "disposition")]


def test_cbv_forms_are_accepted(profile: Profile, demo_doc: dict[str, Any]) -> None:
    event = demo_doc["epcisBody"]["eventList"][5]
    event["bizStep"] = "https://ref.gs1.org/cbv/BizStep-shipping"
    event["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"
    validate_document(demo_doc, profile, now=NOW)
    # EPCIS 2.0 JSON forbids the 1.x URN forms of CBV values (schema, vocab-other-uri).
    event["disposition"] = "urn:epcglobal:cbv:disp:in_transit"
    assert [(p["index"], p["rule"]) for p in _problems(demo_doc, profile)] == [(5, "schema")]


def test_profile_rules_are_applied(profile: Profile, demo_doc: dict[str, Any]) -> None:
    events = demo_doc["epcisBody"]["eventList"]
    events[0]["vnt:plotAreaHa"] = -1
    del events[1]["vnt:geolocation"]
    events[2]["outputQuantityList"][0]["quantity"] = 99999  # more out than in
    events[3]["quantityList"] = events[3].pop("inputQuantityList")  # not this type's shape
    problems = _problems(demo_doc, profile)
    by_index = {p["index"] for p in problems if p["rule"] == "profile"}
    assert by_index == {0, 1, 2}
    assert {p["rule"] for p in problems if p["index"] == 3} == {"schema"}
    assert any(p["path"] == "geolocation" for p in problems if p["index"] == 1)


def test_foreign_gtin_is_refused(profile: Profile, demo_doc: dict[str, Any]) -> None:
    event = demo_doc["epcisBody"]["eventList"][4]
    event["childQuantityList"][0]["epcClass"] = "https://id.gs1.org/01/04012345123456/10/X1"
    problems = _problems(demo_doc, profile)
    assert [(p["index"], p["rule"]) for p in problems] == [(4, "identifier")]


def test_gs1_example_is_schema_valid_but_not_coffee(profile: Profile) -> None:
    doc = with_2_0_context(load(VECTORS / "gs1" / "Example_9.6.1-ObjectEvent.jsonld"))
    problems = _problems(copy.deepcopy(doc), profile)
    assert problems and all(p["rule"] in ("profile", "vocabulary") for p in problems)
    assert {p["index"] for p in problems} == {0, 1}
    assert problems[0]["eventID"] == doc["epcisBody"]["eventList"][0]["eventID"]
