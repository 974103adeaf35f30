"""The index's pure parts (node/epcis/index.py): what an event indexes, how the standard
query's parameters parse (EPCIS 2.0 §8.2.7.1), and page tokens bound to a query."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from vntrace.node.epcis.index import (
    EpcisQueryError,
    EventQuery,
    PageCursor,
    QueryTooLargeError,
    decode_page_token,
    encode_page_token,
    error_reason,
    index_entry,
    parse_query,
)

from .conftest import VECTORS, load

DECLARATION = load(VECTORS / "gs1" / "ErrorDeclarationAndCorrectiveEvent.jsonld")


def _event(i: int) -> dict:
    return DECLARATION["epcisBody"]["eventList"][i]


def test_index_entry_holds_action_reason_and_corrective_ids() -> None:
    declared, corrective = _event(0), _event(1)
    entry = index_entry(declared, "ni:///x", None)
    assert entry.action is None  # a TransformationEvent has no action
    assert entry.error_reason == "incorrect_data"
    assert entry.corrective_event_ids == ("urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8",)
    plain = index_entry(corrective, "ni:///y", None)
    assert (plain.error_reason, plain.corrective_event_ids) == (None, ())
    observed = {**corrective, "type": "ObjectEvent", "action": "OBSERVE"}
    assert index_entry(observed, "ni:///z", None).action == "OBSERVE"
    web = {**declared, "errorDeclaration": {**declared["errorDeclaration"]}}
    web["errorDeclaration"]["reason"] = "https://ref.gs1.org/cbv/ER-did_not_occur"
    assert index_entry(web, "ni:///x", None).error_reason == "did_not_occur"


def test_new_parameters_parse() -> None:
    q = parse_query(
        {
            "GE_recordTime": "2026-03-01T07:00:00+07:00",
            "LT_recordTime": "2026-03-02T00:00:00Z",
            "EQ_action": "OBSERVE|ADD|ADD",
            "EQ_errorReason": "urn:epcglobal:cbv:er:incorrect_data|did_not_occur",
            "EQ_correctiveEventID": "urn:uuid:b|urn:uuid:a",
            "orderBy": "recordTime",
            "maxEventCount": "10",
        }
    )
    assert q.ge_record_time == 1772323200000 and q.lt_record_time == 1772409600000
    assert q.actions == ("ADD", "OBSERVE")
    assert q.error_reasons == ("did_not_occur", "incorrect_data")
    assert q.corrective_event_ids == ("urn:uuid:a", "urn:uuid:b")
    assert (q.order_by, q.descending, q.max_event_count) == ("recordTime", True, 10)
    asc = parse_query({"orderBy": "eventTime", "orderDirection": "ASC", "eventCountLimit": "0"})
    assert (asc.descending, asc.event_count_limit) == (False, 0)


def test_error_reason_forms() -> None:
    assert error_reason("incorrect_data") == "incorrect_data"
    assert error_reason("https://ref.gs1.org/cbv/ER-did_not_occur") == "did_not_occur"
    assert error_reason("urn:epcglobal:cbv:er:did_not_occur") == "did_not_occur"
    assert error_reason("https://example.com/r/typo") == "https://example.com/r/typo"
    for bad in ("typo", "https://ref.gs1.org/cbv/ER-typo", "urn:epcglobal:cbv:bizstep:x"):
        with pytest.raises(EpcisQueryError) as info:
            error_reason(bad)
        assert info.value.parameter == "EQ_errorReason"


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"EQ_action": "observe"}, "EQ_action"),
        ({"GE_recordTime": "2026-03-01"}, "GE_recordTime"),
        ({"orderBy": "quantity"}, "orderBy"),
        ({"orderBy": "eventTime", "orderDirection": "UP"}, "orderDirection"),
        ({"eventCountLimit": "1"}, "eventCountLimit"),
        ({"orderBy": "eventTime", "eventCountLimit": "1", "maxEventCount": "1"}, "eventCountLimit"),
        ({"maxEventCount": "-1"}, "maxEventCount"),
        ({"maxEventCount": "1e3"}, "maxEventCount"),
        ({"EQ_correctiveEventID": "|"}, "EQ_correctiveEventID"),
    ],
)
def test_bad_values_name_the_parameter(params: dict[str, str], name: str) -> None:
    with pytest.raises(EpcisQueryError) as info:
        parse_query(params)
    assert info.value.parameter == name
    assert (info.value.status, info.value.epcis_exception) == (400, "QueryParameterException")


def test_query_too_large_is_the_standards_exception() -> None:
    exc = QueryTooLargeError("maxEventCount", "too many")
    assert isinstance(exc, EpcisQueryError)
    assert (exc.status, exc.epcis_exception) == (413, "QueryTooLargeException")


def test_fingerprint_of_migration_4_parameters_is_unchanged() -> None:
    """Tokens issued before these parameters existed stay good (same fingerprint)."""
    q = parse_query({"EQ_bizStep": "shipping", "perPage": "5"})
    old = json.dumps(
        [(), None, None, ("shipping",), (), (), (), (), (), False], separators=(",", ":")
    )
    assert q.fingerprint() == hashlib.sha256(old.encode()).hexdigest()[:16]
    assert parse_query({"EQ_bizStep": "shipping", "EQ_action": "ADD"}).fingerprint() != (
        q.fingerprint()
    )
    ordered = {"EQ_bizStep": "shipping", "orderBy": "eventTime"}
    assert (
        parse_query(ordered).fingerprint()
        != parse_query({**ordered, "orderDirection": "ASC"}).fingerprint()
    )
    # orderDirection without orderBy orders nothing: the same query.
    assert parse_query({"EQ_bizStep": "shipping", "orderDirection": "ASC"}).fingerprint() == (
        q.fingerprint()
    )


def test_page_tokens_carry_the_sort_key_and_stay_with_their_query() -> None:
    ordered = parse_query({"orderBy": "eventTime", "eventCountLimit": "9"})
    token = encode_page_token(ordered, 42, 1_700_000_000_000, returned=4)
    assert decode_page_token(ordered, token) == PageCursor(42, 1_700_000_000_000, 4)
    plain = EventQuery()
    assert decode_page_token(plain, encode_page_token(plain, 7)) == PageCursor(7)
    for other in (
        plain,
        parse_query({"orderBy": "recordTime", "eventCountLimit": "9"}),
        parse_query({"orderBy": "eventTime", "orderDirection": "ASC", "eventCountLimit": "9"}),
    ):
        with pytest.raises(EpcisQueryError, match="another query") as info:
            decode_page_token(other, token)
        assert info.value.parameter == "nextPageToken"

    def forged(data: dict) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    fp = ordered.fingerprint()
    for data in (
        {"a": 1, "q": fp},  # no sort key
        {"a": 1, "k": "soon", "q": fp},
        {"a": 1, "k": True, "q": fp},
        {"a": -1, "k": 5, "q": fp},
        {"a": 1, "k": 5, "n": -2, "q": fp},
        [1, 2],
    ):
        with pytest.raises(EpcisQueryError, match="not a token") as info:
            decode_page_token(ordered, forged(data))  # type: ignore[arg-type]
        assert info.value.parameter == "nextPageToken"
