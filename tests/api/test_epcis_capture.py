"""``/epcis`` capture and query over HTTP (EPCIS 2.0 REST bindings): 202 and a capture
job, problem+json naming each refused event, EPCISQueryDocuments with the GS1 headers,
Link paging, proof bundles that verify the very events served."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tests.support.epcis import gs1_example
from vntrace.client.epcis import profile_events_document, sign_epcis_document
from vntrace.node.bundles import check_bundle_offline
from vntrace.node.demo import season_events
from vntrace.node.epcis.gs1keys import lot_class_uri
from vntrace.node.epcis.mapping import with_context
from vntrace.node.epcis.records import SIGNATURE_FIELD
from vntrace.node.epcis.validate import epcis_schema_validator
from vntrace.node.records import canonicalize

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot

LD = {"Content-Type": "application/ld+json"}


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _facts(gw: Gateway) -> dict[str, Any]:
    return {"chain_id": gw.info["chainId"], "registry": gw.info["registry"]}


def _capture(gw: Gateway, producer: Producer, doc: dict[str, Any]) -> Any:
    body = json.dumps(doc, ensure_ascii=False).encode()
    return gw.client.post("/epcis/capture", content=body, headers={**producer.headers, **LD})


def _demo(gw: Gateway, producer: Producer, lot: str) -> dict[str, Any]:
    events = season_events(datetime.now(UTC))
    return profile_events_document(
        gw.node.profile, gw.gtin, lot, events, producer.account, **_facts(gw)
    )


def test_gs1_example_captures_queries_and_verifies(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    example = gs1_example(gw.node.profile, gw.gtin, lot)
    doc = sign_epcis_document(
        example, gw.node.profile, producer.account, set_event_ids=True, **_facts(gw)
    )
    r = _capture(gw, producer, doc)
    assert r.status_code == 202, r.text
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0" and r.headers["GS1-CBV-Version"] == "2.0.0"
    location = r.headers["Location"]
    assert location == f"/epcis/capture/{r.json()['captureID']}"
    assert len(r.json()["records"]) == 2 and all(a["receipt"] for a in r.json()["records"])
    job = gw.client.get(location, headers=producer.headers)
    assert job.status_code == 200
    assert {k: job.json()[k] for k in ("running", "success", "captureErrorBehaviour")} == {
        "running": False,
        "success": True,
        "captureErrorBehaviour": "rollback",
    }
    gw.node.anchor_now()

    q = gw.client.get("/epcis/events", params={"MATCH_epcClass": lot_class_uri(gw.gtin, lot)})
    assert q.status_code == 200, q.text
    assert q.headers["content-type"].startswith("application/ld+json")
    assert q.headers["GS1-EPCIS-Version"] == "2.0.0"
    answer = q.json()
    assert answer["type"] == "EPCISQueryDocument"
    assert [e.message for e in epcis_schema_validator().iter_errors(answer)] == []
    events = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["shipping", "receiving"]
    assert [e["eventID"] for e in events] == r.json()["hashIDs"]
    for event, entry in zip(events, answer["vnt:records"], strict=True):
        assert entry["eventID"] == event["eventID"] and entry["status"] == "anchored"
        bundle = gw.client.get(entry["bundle"]).json()
        assert check_bundle_offline(bundle).ok
        # The bundle proves exactly the event the query served.
        assert canonicalize(bundle["event"]) == canonicalize(
            with_context(event, answer["@context"])
        )
    assert [
        v.status for v in gw.node.verify_records([e["recordId"] for e in answer["vnt:records"]])
    ] == ["verified", "verified"]

    one = gw.client.get("/epcis/events/" + quote(events[0]["eventID"], safe=""))
    assert one.status_code == 200
    raw = gw.client.get("/epcis/events/" + events[0]["eventID"])  # not percent-encoded
    assert raw.status_code == 200 and _events(raw.json()) == _events(one.json())
    assert one.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == events[:1]
    steps = gw.client.get(
        "/epcis/bizSteps/receiving/events", params={"MATCH_epcClass": lot_class_uri(gw.gtin, lot)}
    )
    assert [
        e["bizStep"] for e in steps.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    ] == ["receiving"]
    by_epc = gw.client.get("/epcis/epcs/" + quote(lot_class_uri(gw.gtin, lot), safe="") + "/events")
    assert len(by_epc.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2


def test_refused_documents_are_problems_naming_events(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    doc = _demo(gw, producer, lot)
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][4]["disposition"] = "https://ref.gs1.org/cbv/Disp-teleported"
    bad["epcisBody"]["eventList"][1][SIGNATURE_FIELD]["signature"] = "0x" + "00" * 65
    body = assert_problem(_capture(gw, producer, bad), 400)
    assert body["epcisException"] == "ValidationException"  # GS1's exception name
    rules = [(e["index"], e["eventID"], e["rule"]) for e in body["errors"]]
    ids = [e["eventID"] for e in doc["epcisBody"]["eventList"]]
    assert (4, ids[4], "vocabulary") in rules
    assert {i for i, _, _ in rules} == {4}  # signatures are checked once the rest is valid
    job = gw.client.get(f"/epcis/capture/{body['captureID']}", headers=producer.headers).json()
    assert job["running"] is False and job["success"] is False
    assert [e["index"] for e in job["errors"]] == [e["index"] for e in body["errors"]]
    sig = copy.deepcopy(doc)
    sig["epcisBody"]["eventList"][1][SIGNATURE_FIELD]["signature"] = "0x" + "00" * 65
    body = assert_problem(_capture(gw, producer, sig), 400)
    assert [(e["index"], e["rule"]) for e in body["errors"]] == [(1, "signature")]
    schema = copy.deepcopy(doc)
    schema["epcisBody"]["eventList"][0]["type"] = "PartyEvent"
    assert {e["rule"] for e in assert_problem(_capture(gw, producer, schema), 400)["errors"]} == {
        "schema"
    }
    # Nothing of it was stored.
    q = gw.client.get("/epcis/events", params={"MATCH_anyEPCClass": lot_class_uri(gw.gtin, lot)})
    assert q.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_capture_needs_a_producer_key_and_json(gw: Gateway, producer: Producer) -> None:
    doc = _demo(gw, producer, new_lot())
    assert_problem(gw.client.post("/epcis/capture", json=doc), 401)
    assert_problem(gw.client.post("/epcis/capture", json=doc, headers=gw.admin), 403)
    r = gw.client.post(
        "/epcis/capture",
        content=b"<epcis/>",
        headers={**producer.headers, "Content-Type": "application/xml"},
    )
    assert_problem(r, 415)
    big = b'{"x": "' + b"a" * (4 * 1024 * 1024) + b'"}'
    assert_problem(
        gw.client.post("/epcis/capture", content=big, headers={**producer.headers, **LD}), 413
    )
    proceed = {**producer.headers, **LD, "GS1-Capture-Error-Behaviour": "proceed"}
    assert_problem(gw.client.post("/epcis/capture", json=doc, headers=proceed), 400)
    assert_problem(gw.client.get("/epcis/capture/cap_nope", headers=producer.headers), 404)
    job = _capture(gw, producer, doc).headers["Location"]
    assert_problem(gw.client.get(job), 401)
    assert_problem(gw.client.get(job, headers=gw.producer("Other").headers), 404)


def test_paging_follows_link_and_sees_each_event_once(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    for _ in range(2):
        assert _capture(gw, producer, _demo(gw, producer, lot)).status_code == 202
    url = "/epcis/events"
    params: dict[str, str] | None = {
        "MATCH_anyEPCClass": lot_class_uri(gw.gtin, lot),
        "perPage": "5",
    }
    seen: list[str] = []
    pages = 0
    while url:
        r = gw.client.get(url, params=params)
        assert r.status_code == 200, r.text
        seen += [e["recordId"] for e in r.json()["vnt:records"]]
        pages += 1
        link = r.headers.get("Link")
        assert (link is None) == ("vnt:nextPageToken" not in r.json())
        url = link.split(">")[0].lstrip("<") if link else ""
        params = None
    assert pages == 3 and len(seen) == len(set(seen)) == 12


def test_bad_queries_are_400_problems(gw: Gateway) -> None:
    for params in (
        {"eventType": "PartyEvent"},
        {"LT_eventTime": "tomorrow"},
        {"perPage": "100000"},
        {"EQ_colour": "red"},
        {"nextPageToken": "garbage"},
    ):
        body = assert_problem(gw.client.get("/epcis/events", params=params), 400)
        assert body["errors"][0]["field"] == next(iter(params))
        assert body["epcisException"] == "QueryParameterException"
    assert_problem(gw.client.get("/epcis/events?EQ_bizStep=a&EQ_bizStep=b"), 400)
    assert_problem(gw.client.get("/epcis/eventTypes/ObjectEvent/events?eventType=ObjectEvent"), 400)
    assert_problem(
        gw.client.get("/epcis/events/urn:uuid:00000000-0000-4000-8000-000000000000"), 404
    )
