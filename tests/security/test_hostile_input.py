"""Hostile events: odd Unicode, lone surrogates, huge numbers, deep nesting, duplicate
keys, NaN and infinities, truncated and broken bodies.

Two levels, one property: every input is either accepted and stored exactly as signed,
or refused with a clear error and nothing stored.

- ``vntrace.node.records``: JSON text built from a valid event with one hostile part is
  parsed (``parse_event_json``) and prepared for signing (``prepare_record``). Only a
  :class:`RecordError` (with a message) may come out, never another exception; what is
  accepted canonicalises to text that parses back to the same event.
- HTTP (a real server): the same kind of events are signed when the producer's own
  code accepts them and sent to ``POST /v1/lots``; the body text is sometimes broken on
  the way (NaN, ``1e400``, a duplicate key, 60 levels of brackets, a cut-off body, a
  byte that is not UTF-8, a byte-order mark). A 2xx must store the record under the id
  the producer computed, with the event byte for byte as signed (its bundle verifies);
  anything else must be a 4xx problem+json and leave the store's record count and
  the record's id untouched. Never a 5xx.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.serve import is_problem
from vntrace.node.demo import season_events
from vntrace.node.profile import load_profile
from vntrace.node.records import (
    RecordError,
    canonicalize,
    parse_event_json,
    parse_json,
    prepare_record,
)

from .conftest import Node

PROFILE = load_profile("robusta-vn")
GTIN = PROFILE.gtins[0]
SEASON = season_events(datetime.now(UTC))
TALLY: Counter[str] = Counter()

WEIRD = "\u0000\u202e\u200b\ufeff\uffff\U0010ffff\u0301e\u00e9\ud800\udfff\U0001f600"
odd_text = st.text(
    alphabet=st.characters(codec=None) | st.characters(categories=["Cs"]) | st.sampled_from(WEIRD),
    max_size=40,
)
big_numbers = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([2**53 - 1, 2**53, -(2**53), 2**64, 10**399]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, 1.7976931348623157e308, -0.0, 0.1 + 0.2]),
)


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


hostile_values = st.one_of(
    odd_text,
    big_numbers,
    st.builds(nested, st.integers(0, 60), st.one_of(odd_text, big_numbers, st.none())),
    st.dictionaries(odd_text, odd_text | big_numbers, max_size=3),
)
# text-level breakage no Python value can express
RAW_TOKENS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    '"\\ud800"',
    '"\\udc00x"',
    "[" * 60 + "]" * 60,
    "[" * 100_000,
    "1" * 5000,
]


def hostile_event(data: st.DataObject) -> dict[str, Any]:
    """A valid season event with one hostile part: a note, an extension, or a field."""
    event = dict(data.draw(st.sampled_from(SEASON), label="event"))
    where = data.draw(st.sampled_from(["note", "ext", "field", "key"]), label="where")
    value = data.draw(hostile_values, label="value")
    if where == "note":
        event["note"] = value
    elif where == "ext":
        event["ext:fuzz"] = value
    elif where == "key":
        event[data.draw(odd_text, label="key")] = value
    else:
        event[data.draw(st.sampled_from(sorted(event)), label="field")] = value
    TALLY[f"where={where}"] += 1
    return event


def dumps(value: Any) -> str:
    """JSON text as a client library writes it (lone surrogates as \\u escapes)."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


def break_text(text: str, data: st.DataObject) -> tuple[bytes, str]:
    """Break a request body on the way: a raw token, a duplicate key, a cut, bad bytes."""
    how = data.draw(
        st.sampled_from(["token", "duplicate", "truncate", "bad-utf8", "bom"]), label="break"
    )
    marker = '"ext:raw": 0'
    if how == "token":
        token = data.draw(st.sampled_from(RAW_TOKENS), label="token")
        return text.replace(marker, f'"ext:raw": {token}').encode(), f"token {token[:12]}"
    if how == "duplicate":
        return text.replace(marker, '"ext:raw": 0, "ext:raw": 1').encode(), how
    if how == "truncate":
        cut = data.draw(st.integers(1, len(text) - 1), label="cut")
        return text[:cut].encode(), how
    if how == "bad-utf8":
        return text.replace(marker, '"ext:raw": "\udcff"', 1).encode(
            "utf-8", "surrogateescape"
        ), how
    return b"\xef\xbb\xbf" + text.encode(), how


# -- records level ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_records_accept_exactly_or_refuse_clearly(data: st.DataObject) -> None:
    event = hostile_event(data)
    text: str | bytes = dumps(event)
    if data.draw(st.booleans(), label="broken"):
        text = break_text(dumps({**event, "ext:raw": 0}), data)[0]
    try:
        parsed = parse_event_json(text)
        prepared = prepare_record(PROFILE, GTIN, "FUZZ-1", parsed)
    except RecordError as exc:
        assert str(exc).strip(), "an error without a message"
        TALLY["records: refused"] += 1
        return
    canonical = canonicalize(prepared.event)
    assert parse_json(canonical) == prepared.event
    assert canonicalize(parse_json(canonical)) == canonical
    TALLY["records: accepted"] += 1


# -- over HTTP -------------------------------------------------------------------------------

_PRODUCERS: dict[str, Any] = {}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_http_stores_exactly_as_signed_or_refuses_with_a_problem(
    node: Node, data: st.DataObject
) -> None:
    producer = _PRODUCERS.get("p") or _PRODUCERS.setdefault("p", node.producer("Fuzz"))
    lot = "H-" + secrets.token_hex(5).upper()
    event = hostile_event(data)
    broken = data.draw(st.booleans(), label="broken")
    if broken:
        event["ext:raw"] = 0
    record_id = None
    try:
        prepared = prepare_record(PROFILE, node.gtin, lot, event)
        signed = prepared.sign(producer.account, node.info["chainId"], node.info["registry"])
        item = {
            "event": signed.event,
            "salt": "0x" + signed.salt.hex(),
            "signature": "0x" + signed.signature.hex(),
        }
        record_id = "0x" + signed.leaf.hex()
    except RecordError:  # the producer's own code refuses it: send it unsigned anyway
        item = {"event": event, "salt": "0x" + "11" * 32, "signature": "0x" + "22" * 65}
    text = dumps({"gtin": node.gtin, "lot": lot, "events": [item]})
    body, how = (text.encode(), "intact") if not broken else break_text(text, data)
    if broken:
        record_id = None  # what arrives is not what was signed
    before = node.records()
    r = node.http.post(
        "/v1/lots",
        content=body,
        headers={**producer.headers, "Content-Type": "application/json"},
    )
    TALLY[f"http {how}: {r.status_code}"] += 1
    assert r.status_code < 500, r.text[:300]
    if r.is_success:
        assert record_id is not None, f"stored what nobody signed ({how}): {r.text[:300]}"
        assert r.json()["recordIds"] == [record_id]
        bundle = node.http.get(f"/v1/records/{record_id}/bundle").json()
        assert canonicalize(bundle["event"]) == canonicalize(signed.event)
        verdict = node.http.post("/v1/verify", json={"bundles": [bundle]}).json()["results"][0]
        assert verdict["status"] in ("pending", "verified"), verdict
        return
    assert 400 <= r.status_code < 500 and is_problem(r), r.text[:300]
    assert r.json()["detail"].strip()
    assert node.records() == before, f"a refused request stored something ({how})"
    if record_id is not None:
        assert node.http.get(f"/v1/records/{record_id}").status_code == 404


def test_print_tally() -> None:
    """Say what the hostile-input runs above tried and how each ended."""
    print(f"\nhostile inputs: {dict(sorted(TALLY.items()))}")


def test_the_zero_address_is_no_producer(node: Node) -> None:
    """Found by schemathesis: it was stored on the node, then refused by the registry
    and answered 503 (as if retrying could help). Now a 422, and nothing stored."""
    zero = "0x" + "00" * 20
    r = node.http.post("/v1/producers", json={"address": zero, "name": "Z"}, headers=node.admin)
    assert r.status_code == 422 and is_problem(r), r.text
    assert node.http.get(f"/v1/producers/{zero}", headers=node.admin).status_code == 404


def test_odd_but_valid_events_are_stored_exactly_as_signed(node: Node) -> None:
    """The accepting side, every run: odd Unicode, the largest safe integers, 30 levels,
    and doubles past 2^53 whose JCS form reads back as an int in Python (the fuzzer found
    ``9007199254740992.0``: stored, but its bundle did not recanonicalise after json.loads)."""
    producer = _PRODUCERS.get("p") or _PRODUCERS.setdefault("p", node.producer("Fuzz"))
    lot = "H-" + secrets.token_hex(5).upper()
    event = {
        **SEASON[0],
        "note": "\u202eRTL\u200b \u0000 e\u0301 \U0001f600 \uffff \U0010ffff Đắk Lắk",
        "ext:deep": nested(30, [2**53 - 1, -(2**53 - 1), 5e-324, 1.7976931348623157e308, -0.0]),
        "ext:wide": [9007199254740992.0, -1e20, 2**64, 1e21],
    }
    prepared = prepare_record(PROFILE, node.gtin, lot, event)
    signed = prepared.sign(producer.account, node.info["chainId"], node.info["registry"])
    item = {
        "event": signed.event,
        "salt": "0x" + signed.salt.hex(),
        "signature": "0x" + signed.signature.hex(),
    }
    body = dumps({"gtin": node.gtin, "lot": lot, "events": [item]}).encode()
    r = node.http.post(
        "/v1/lots", content=body, headers={**producer.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text
    record_id = "0x" + signed.leaf.hex()
    node.wait_anchored([record_id])
    bundle = node.http.get(f"/v1/records/{record_id}/bundle").json()
    assert canonicalize(bundle["event"]) == canonicalize(signed.event)
    verdict = node.http.post("/v1/verify", json={"bundles": [bundle]}).json()["results"][0]
    assert verdict["status"] == "verified", verdict
