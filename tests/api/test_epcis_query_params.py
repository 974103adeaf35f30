"""The rest of the simple event query over HTTP (EPCIS 2.0 §8.2.7.1, GS1's OpenAPI):
``GE_/LT_recordTime``, ``EQ_action``, ``EQ_errorReason``, ``EQ_correctiveEventID``,
``orderBy``/``orderDirection`` with keyset paging, ``eventCountLimit``, ``maxEventCount``.

A node of its own (so "every event exactly once" is about every event it holds), real
captures of the demo season and of GS1's Example 9.6.1 with an error declaration, all
signed by the SDK; answers validated against GS1's schema and the OpenAPI's
``epcisQueryDocument``."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import delete, select, update

from tests.support.epcis import gs1_example
from tests.support.webhook import receiver
from vntrace.client.epcis import profile_events_document, sign_epcis_document
from vntrace.node.demo import season_events
from vntrace.node.epcis.gs1keys import lot_class_uri
from vntrace.node.epcis.index import INDEX_VERSION, parse_query
from vntrace.node.epcis.records import SIGNATURE_FIELD
from vntrace.node.epcis.validate import epcis_schema_validator
from vntrace.node.records import parse_rfc3339
from vntrace.node.store.schema import epcis_corrective_ids, epcis_events

from .conftest import Gateway, open_gateway
from .helpers import Producer, assert_problem, new_lot

NOW = datetime.now(UTC).replace(microsecond=0)
OPENAPI = Path(__file__).parents[1] / "vectors/epcis/gs1/openapi.json"


def _bindings_validator(schema_name: str) -> Draft202012Validator:
    spec = json.loads(OPENAPI.read_text("utf-8"))
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:gs1:epcis:openapi", resource)
    return Draft202012Validator(
        {"$ref": f"urn:gs1:epcis:openapi#/components/schemas/{schema_name}"}, registry=registry
    )


QUERY_DOCUMENT = _bindings_validator("epcisQueryDocument")


@dataclass
class World:
    gw: Gateway
    producer: Producer
    lots: dict[str, str]
    """``a``, ``b``, ``c``: demo seasons; ``gs1``: GS1's Example 9.6.1 and its correction."""
    declaration: dict[str, Any]
    """The error declaration as captured (reason as a CBV Web URI)."""
    corrective_id: str
    total: int


def _capture(gw: Gateway, p: Producer, doc: dict[str, Any]) -> list[str]:
    r = gw.client.post("/epcis/capture", content=json.dumps(doc), headers=p.headers)
    assert r.status_code == 202, r.text
    time.sleep(0.005)  # the next capture gets a later record time
    return [a["recordId"] for a in r.json()["records"]]


def _season(gw: Gateway, p: Producer, lot: str, when: datetime) -> dict[str, Any]:
    return profile_events_document(
        gw.node.profile,
        gw.gtin,
        lot,
        season_events(when),
        p.account,
        chain_id=gw.info["chainId"],
        registry=gw.info["registry"],
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for gw in open_gateway(
        Path(tmp_path_factory.mktemp("query-params")), epcis_webhook_allow_private=True
    ):
        p = gw.producer("HTX Krông Pắc")
        facts = {"chain_id": gw.info["chainId"], "registry": gw.info["registry"]}
        lots = {k: new_lot() for k in ("a", "b", "c", "gs1")}
        _capture(gw, p, _season(gw, p, lots["a"], NOW))
        _capture(gw, p, _season(gw, p, lots["b"], NOW - timedelta(days=3)))
        _capture(gw, p, _season(gw, p, lots["c"], NOW))  # the same eventTimes as lot a
        example = gs1_example(gw.node.profile, gw.gtin, lots["gs1"])
        first = sign_epcis_document(
            example, gw.node.profile, p.account, set_event_ids=True, **facts
        )
        _capture(gw, p, first)
        shipping, receiving = first["epcisBody"]["eventList"]
        wrong = {k: v for k, v in copy.deepcopy(shipping).items() if k != SIGNATURE_FIELD}
        wrong["errorDeclaration"] = {
            "declarationTime": "2005-04-05T10:00:00.000Z",
            "reason": "https://ref.gs1.org/cbv/ER-incorrect_data",
            "correctiveEventIDs": [receiving["eventID"]],
        }
        fix = {**first, "epcisBody": {"eventList": [wrong]}}
        _capture(gw, p, sign_epcis_document(fix, gw.node.profile, p.account, **facts))
        yield World(gw, p, lots, wrong, receiving["eventID"], total=3 * 6 + 3)


def _get(w: World, params: dict[str, Any], path: str = "/epcis/events") -> Any:
    return w.gw.client.get(path, params=params)


def _doc(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [e.message for e in epcis_schema_validator().iter_errors(doc)] == []
    # The OpenAPI's envelope; its event items are a oneOf that GS1's own events match
    # twice (Extended-Event and ObjectEvent), so events are checked by GS1's schema above.
    results = doc["epcisBody"]["queryResults"]
    envelope = {**doc, "epcisBody": {"queryResults": {**results, "resultsBody": {"eventList": []}}}}
    assert [e.message for e in QUERY_DOCUMENT.iter_errors(envelope)] == []
    return doc


def _events(r: Any) -> list[dict[str, Any]]:
    return _doc(r)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _all_pages(w: World, params: dict[str, Any]) -> tuple[list[dict], list[dict], int]:
    """Every page of a query, following ``Link: rel="next"``: (events, records, pages)."""
    events: list[dict] = []
    records: list[dict] = []
    pages = 0
    r = _get(w, params)
    while True:
        doc = _doc(r)
        pages += 1
        events += doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        records += doc["vnt:records"]
        link = r.headers.get("Link")
        if not link:
            assert "vnt:nextPageToken" not in doc
            return events, records, pages
        assert link.endswith('>; rel="next"')
        r = w.gw.client.get(link[1 : link.index(">")].replace("http://testserver", ""))


def _lot(w: World, name: str) -> dict[str, str]:
    return {"MATCH_anyEPCClass": lot_class_uri(w.gw.gtin, w.lots[name])}


def _refused(r: Any, parameter: str, status: int = 400) -> dict[str, Any]:
    body = assert_problem(r, status)
    assert body["errors"][0]["field"] == parameter, body
    assert parameter in body["detail"]
    return body


# -- filters ---------------------------------------------------------------------------


def test_eq_action(world: World) -> None:
    kinds = {"ADD": ["harvest", "harvest", "packing"], "OBSERVE": ["shipping"], "DELETE": []}
    for action, want in kinds.items():
        got = _events(_get(world, {**_lot(world, "a"), "EQ_action": action}))
        assert sorted(e["vnt:kind"] for e in got) == want
        assert all(e["action"] == action for e in got)
    both = _events(_get(world, {**_lot(world, "a"), "EQ_action": "ADD|OBSERVE"}))
    assert len(both) == 4 and all(e["type"] != "TransformationEvent" for e in both)
    # Across the node: every event with an action, none without.
    every = _events(_get(world, {"EQ_action": "ADD|OBSERVE|DELETE", "perPage": 1000}))
    assert len(every) == world.total - 3 * 2  # the TransformationEvents have no action
    for bad in ("add", "ADD|MOVE", "|"):
        body = _refused(_get(world, {"EQ_action": bad}), "EQ_action")
        assert body["epcisException"] == "QueryParameterException"


def test_record_time(world: World) -> None:
    _, records, _ = _all_pages(world, {"perPage": 1000})
    times = sorted({parse_rfc3339(r["recordTime"]) for r in records})
    assert len(times) == 5  # one per capture (the records of a capture share it)
    cut = times[1].isoformat()  # lot b's capture
    later = _events(_get(world, {"GE_recordTime": cut, "perPage": 1000}))
    earlier = _events(_get(world, {"LT_recordTime": cut, "perPage": 1000}))
    assert len(later) + len(earlier) == world.total and len(earlier) == 6
    lot_a = lot_class_uri(world.gw.gtin, world.lots["a"])
    assert all(e["quantityList"][0]["epcClass"] == lot_a for e in earlier if "quantityList" in e)
    window = {"GE_recordTime": cut, "LT_recordTime": times[2].isoformat()}
    assert len(_events(_get(world, window))) == 6  # lot b alone
    assert _events(_get(world, {**_lot(world, "a"), "GE_recordTime": cut})) == []
    _refused(_get(world, {"GE_recordTime": "yesterday"}), "GE_recordTime")
    _refused(_get(world, {"LT_recordTime": "2026-03-01T12:00:00"}), "LT_recordTime")  # no offset


def test_error_reason_and_corrective_event_id(world: World) -> None:
    declared = world.declaration["eventID"]
    for form in (
        "incorrect_data",
        "https://ref.gs1.org/cbv/ER-incorrect_data",
        "urn:epcglobal:cbv:er:incorrect_data",
        "did_not_occur|incorrect_data",
    ):
        got = _events(_get(world, {"EQ_errorReason": form}))
        assert [e["eventID"] for e in got] == [declared], form
        assert got[0]["errorDeclaration"] == world.declaration["errorDeclaration"]
    assert _events(_get(world, {"EQ_errorReason": "did_not_occur"})) == []
    assert _events(_get(world, {"EQ_errorReason": "https://example.com/reasons/typo"})) == []
    for bad in ("wrong", "https://ref.gs1.org/cbv/ER-wrong", "urn:epcglobal:cbv:er:typo"):
        _refused(_get(world, {"EQ_errorReason": bad}), "EQ_errorReason")
    got = _events(_get(world, {"EQ_correctiveEventID": world.corrective_id}))
    assert [e["errorDeclaration"]["correctiveEventIDs"] for e in got] == [[world.corrective_id]]
    assert _events(_get(world, {"EQ_correctiveEventID": "urn:uuid:0-not-corrective"})) == []
    # The corrective event itself is not a declaration.
    assert _events(_get(world, {"EQ_correctiveEventID": declared})) == []


# -- ordering and paging ---------------------------------------------------------------


def _key(event: dict[str, Any], record: dict[str, Any], field: str) -> datetime:
    return parse_rfc3339(event["eventTime"] if field == "eventTime" else record["recordTime"])


@pytest.mark.parametrize("field", ["eventTime", "recordTime"])
@pytest.mark.parametrize("direction", ["ASC", "DESC", None])
def test_order_by_pages_every_event_once(world: World, field: str, direction: str | None) -> None:
    params: dict[str, Any] = {"orderBy": field, "perPage": 4}
    if direction:
        params["orderDirection"] = direction
    events, records, pages = _all_pages(world, params)
    assert pages == -(-world.total // 4)
    ids = [r["recordId"] for r in records]
    assert len(ids) == len(set(ids)) == world.total  # every event exactly once
    _, unordered, _ = _all_pages(world, {"perPage": 1000})
    assert set(ids) == {r["recordId"] for r in unordered}
    keys = [_key(e, r, field) for e, r in zip(events, records, strict=True)]
    descending = direction != "ASC"  # §8.2.7.1: DESC unless ASC is given
    assert keys == sorted(keys, reverse=descending)
    assert len(set(keys)) < len(keys)  # ties (lots a and c, one capture's records) were paged


def test_token_is_good_only_for_its_filters_and_ordering(world: World) -> None:
    r = _get(world, {"orderBy": "eventTime", "orderDirection": "ASC", "perPage": 2})
    token = _doc(r)["vnt:nextPageToken"]
    same = _get(world, {"orderBy": "eventTime", "orderDirection": "ASC", "nextPageToken": token})
    assert len(_events(same)) == world.total - 2
    for other in (
        {"orderBy": "recordTime", "orderDirection": "ASC"},
        {"orderBy": "eventTime", "orderDirection": "DESC"},
        {"orderBy": "eventTime"},  # DESC by default: another ordering
        {},
        {"orderBy": "eventTime", "orderDirection": "ASC", "EQ_action": "ADD"},
    ):
        body = _refused(_get(world, {**other, "nextPageToken": token}), "nextPageToken")
        assert body["epcisException"] == "QueryParameterException"
    plain = _doc(_get(world, {"perPage": 2}))["vnt:nextPageToken"]
    _refused(_get(world, {"orderBy": "eventTime", "nextPageToken": plain}), "nextPageToken")


def test_event_count_limit_truncates_across_pages(world: World) -> None:
    params = {"orderBy": "eventTime", "eventCountLimit": 5, "perPage": 2}
    events, _, pages = _all_pages(world, params)
    assert (len(events), pages) == (5, 3)
    newest, _, _ = _all_pages(world, {"orderBy": "eventTime", "perPage": 1000})
    assert events == newest[:5]  # the first five in that order: the most recent
    one = _events(_get(world, {"orderBy": "eventTime", "eventCountLimit": 1}))
    assert one == newest[:1]  # the standard's example: the most recent event
    assert _events(_get(world, {"orderBy": "recordTime", "eventCountLimit": 0})) == []
    _refused(_get(world, {"eventCountLimit": 3}), "eventCountLimit")  # needs orderBy
    body = _refused(
        _get(world, {"orderBy": "eventTime", "eventCountLimit": 3, "maxEventCount": 9}),
        "eventCountLimit",
    )
    assert "mutually exclusive" in body["detail"]
    for bad in ("-1", "three", "2.5", str(2**31)):
        _refused(_get(world, {"orderBy": "eventTime", "eventCountLimit": bad}), "eventCountLimit")


def test_max_event_count(world: World) -> None:
    lot = _lot(world, "b")
    assert len(_events(_get(world, {**lot, "maxEventCount": 6}))) == 6
    events, _, pages = _all_pages(world, {**lot, "maxEventCount": 6, "perPage": 4})
    assert (len(events), pages) == (6, 2)  # the limit is on the result, not a page
    r = _get(world, {**lot, "maxEventCount": 5})
    body = assert_problem(r, 413)
    assert body["epcisException"] == "QueryTooLargeException"
    assert body["errors"][0]["field"] == "maxEventCount"
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0"
    # The same on the top-level resources that reuse the query.
    r = world.gw.client.get("/epcis/bizSteps/shipping/events", params={"maxEventCount": 0})
    assert assert_problem(r, 413)["epcisException"] == "QueryTooLargeException"
    shipping = world.gw.client.get("/epcis/bizSteps/shipping/events", params={"maxEventCount": 9})
    assert len(_events(shipping)) == 3 + 1 + 1  # a, b, c, GS1's shipping and its correction
    for bad in ("-1", "x", ""):
        _refused(_get(world, {"maxEventCount": bad}), "maxEventCount")


def test_bad_ordering_values(world: World) -> None:
    for params, name in (
        ({"orderBy": "bizStep"}, "orderBy"),
        ({"orderBy": "vnt:harvestDate"}, "orderBy"),
        ({"orderBy": "eventTime", "orderDirection": "down"}, "orderDirection"),
        ({"orderBy": "eventTime", "orderDirection": "asc"}, "orderDirection"),
        ({"orderDirection": "SIDEWAYS"}, "orderDirection"),
    ):
        body = _refused(_get(world, params), name)
        assert body["epcisException"] == "QueryParameterException"
    # Without orderBy, orderDirection orders nothing (§8.2.7.1) but is accepted.
    assert len(_events(_get(world, {"orderDirection": "ASC", **_lot(world, "a")}))) == 6


def test_resources_and_named_queries_take_the_parameters(world: World) -> None:
    gw, p = world.gw, world.producer
    epc = lot_class_uri(gw.gtin, world.lots["a"])
    got = _events(
        gw.client.get(
            f"/epcis/epcs/{epc}/events", params={"EQ_action": "ADD", "orderBy": "eventTime"}
        )
    )
    assert [e["vnt:kind"] for e in got] == ["packing", "harvest", "harvest"]
    definition = {
        "MATCH_anyEPCClass": [epc],
        "orderBy": "eventTime",
        "orderDirection": "ASC",
        "eventCountLimit": 2,
    }
    r = gw.client.post(
        "/epcis/queries", json={"name": "first-two", "query": definition}, headers=p.headers
    )
    assert r.status_code == 201, r.text
    named = _events(gw.client.get("/epcis/queries/first-two/events"))
    assert [e["vnt:kind"] for e in named] == ["harvest", "harvest"]
    too_many = {"name": "at-most-five", "query": {"MATCH_anyEPCClass": [epc], "maxEventCount": 5}}
    assert gw.client.post("/epcis/queries", json=too_many, headers=p.headers).status_code == 201
    r = gw.client.get("/epcis/queries/at-most-five/events")
    assert assert_problem(r, 413)["epcisException"] == "QueryTooLargeException"
    bad = {"name": "bad", "query": {"EQ_action": ["MOVE"]}}
    r = gw.client.post("/epcis/queries", json=bad, headers=p.headers)
    assert assert_problem(r, 400)["epcisException"] == "QueryParameterException"

    # A subscription delivers every matching event in record order: the definition's
    # ordering and limits shape GET …/events only.
    with receiver() as rx:
        body = {
            "dest": rx.url,
            "signatureToken": "t" * 32,
            "stream": True,
            "initialRecordTime": "2000-01-01T00:00:00Z",
        }
        r = gw.client.post("/epcis/queries/first-two/subscriptions", json=body, headers=p.headers)
        assert r.status_code == 201, r.text
        service = gw.node.epcis_subscriptions
        service.settle_ms = 0
        assert service.run_once() == (1, 1)
        (delivery,) = rx.accepted
        sent = json.loads(delivery.body)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(sent) == 6
        assert [e["eventID"] for e in sent] == [
            e["eventID"] for e in _events(_get(world, _lot(world, "a")))
        ]


# -- rows indexed before migration 7 ----------------------------------------------------


def test_rows_indexed_before_migration_7_are_rederived(world: World) -> None:
    """Rows as migration 4 wrote them (no action, reason, record time, corrective IDs,
    ``index_version`` NULL) are re-derived from their records before the first query."""
    gw = world.gw
    engine = gw.node.store.engine
    with engine.begin() as conn:
        conn.execute(
            update(epcis_events).values(
                action=None, error_reason=None, record_time=None, index_version=None
            )
        )
        conn.execute(delete(epcis_corrective_ids))
    epcis = gw.node.epcis
    # As a node upgraded to migration 7 finds them: nothing has an action yet.
    assert epcis.store.query(parse_query({"EQ_action": "ADD"}), limit=1) == []
    epcis._fresh = False  # a process that has not queried yet
    assert len(_events(_get(world, {**_lot(world, "a"), "EQ_action": "ADD"}))) == 3
    assert [
        e["eventID"] for e in _events(_get(world, {"EQ_correctiveEventID": world.corrective_id}))
    ] == [world.declaration["eventID"]]
    assert len(_events(_get(world, {"EQ_errorReason": "incorrect_data"}))) == 1
    with engine.connect() as conn:
        rows = conn.execute(select(epcis_events.c.index_version, epcis_events.c.record_time)).all()
    assert len(rows) == world.total
    assert all(v == INDEX_VERSION and t is not None for v, t in rows)
    events, _, _ = _all_pages(world, {"orderBy": "recordTime", "orderDirection": "ASC"})
    assert len(events) == world.total
    assert gw.node.epcis.rebuild_index() == 0  # nothing left to (re)index
