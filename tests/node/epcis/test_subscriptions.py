"""The pure parts of named queries and subscriptions: definitions, controls, the
QuerySchedule grammar and matching (EPCIS §8.2.5.3), signatures, address policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from vntrace.node import errors
from vntrace.node.epcis.subscriptions import (
    NameExistsError,
    NoSuchNameError,
    NotOwnerError,
    QueryDefinitionError,
    SubscriptionControlsError,
    SubscriptionError,
    check_dest_addresses,
    parse_named_query,
    parse_schedule,
    parse_subscription,
    query_params,
    retry_delay,
    sign_body,
    verify_signature,
)

TOKEN = "13df38d8275b13f05704629e5f1cf3d45d6132d5"
NOW = 1_750_000_000_000


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_the_bindings_example_definition_becomes_event_query_parameters() -> None:
    named = parse_named_query(
        {
            "name": "myQuery",
            "query": {"EQ_bizStep": ["shipping", "receiving"], "eventType": ["ObjectEvent"]},
        }
    )
    assert named.name == "myQuery"
    assert named.params == {"EQ_bizStep": "shipping|receiving", "eventType": "ObjectEvent"}
    assert query_params({"EXISTS_errorDeclaration": True}) == {"EXISTS_errorDeclaration": "true"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a b", "query": {}}, "name"),
        ({"name": "q", "query": {"EQ_colour": ["red"]}}, "EQ_colour"),
        ({"name": "q", "query": {"perPage": "5"}}, "perPage"),
        ({"name": "q", "query": {"eventType": ["Nope"]}}, "eventType"),
        ({"name": "q", "query": {"EQ_bizStep": ["a|b"]}}, "EQ_bizStep"),
        ({"name": "q", "query": {"EQ_bizStep": 5}}, "EQ_bizStep"),
        ({"name": "q"}, "query"),
        ({"name": "q", "query": {}, "queryType": "events"}, "queryType"),
    ],
)
def test_bad_definitions_are_query_parameter_exceptions(body: dict, field: str) -> None:
    with pytest.raises(QueryDefinitionError) as info:
        parse_named_query(body)
    assert info.value.field == field
    assert info.value.epcis_exception == "QueryParameterException"
    assert info.value.status == 400


def test_schedule_grammar_and_next_time() -> None:
    # The bindings' example: every day at 01:05 (seconds omitted: any second, EPCIS
    # §8.2.5.3 example 4 -- so the first match is 01:05:00).
    s = parse_schedule({"hour": "1", "minute": "5"})
    assert s.next_after(_ms(2026, 3, 1, 0, 0, 0)) == _ms(2026, 3, 1, 1, 5, 0)
    assert s.next_after(_ms(2026, 3, 1, 1, 5, 0)) == _ms(2026, 3, 1, 1, 5, 1)
    assert s.next_after(_ms(2026, 3, 1, 1, 5, 59)) == _ms(2026, 3, 2, 1, 5, 0)
    # Ranges and lists; weekdays 1 = Monday (2026-03-02 is a Monday).
    w = parse_schedule({"second": "0", "minute": "0,30", "hour": "[8-9]", "dayOfWeek": "[1-5]"})
    assert w.next_after(_ms(2026, 2, 28, 12, 0, 0)) == _ms(2026, 3, 2, 8, 0, 0)
    assert w.next_after(_ms(2026, 3, 2, 8, 0, 0)) == _ms(2026, 3, 2, 8, 30, 0)
    assert w.matches(datetime(2026, 3, 3, 9, 30, 0, tzinfo=UTC))
    assert not w.matches(datetime(2026, 3, 7, 9, 30, 0, tzinfo=UTC))
    leap = parse_schedule(
        {"second": "0", "minute": "0", "hour": "0", "dayOfMonth": "29", "month": "2"}
    )
    assert leap.next_after(_ms(2026, 1, 1)) == _ms(2028, 2, 29)


@pytest.mark.parametrize(
    "schedule",
    [
        {},
        {"minute": "60"},
        {"hour": "[5-2]"},
        {"second": "0/30"},
        {"week": "1"},
        {"dayOfMonth": "31", "month": "2"},
        {"minute": ""},
    ],
)
def test_bad_schedules_are_subscription_controls_exceptions(schedule: dict) -> None:
    with pytest.raises(SubscriptionControlsError) as info:
        parse_schedule(schedule)
    assert info.value.epcis_exception == "SubscriptionControlsException"


def test_subscription_controls() -> None:
    c = parse_subscription(
        {"dest": "https://client.example.com/cb", "signatureToken": TOKEN, "stream": True}, NOW
    )
    assert (c.stream, c.schedule, c.report_if_empty, c.initial_record_time) == (
        True,
        None,
        False,
        NOW,
    )
    c = parse_subscription(
        {
            "dest": "http://client.example.com/cb",
            "signatureToken": TOKEN,
            "reportIfEmpty": True,
            "schedule": {"hour": "1", "minute": "5"},
            "initialRecordTime": "2020-04-04T20:33:31.116-06:00",
        },
        NOW,
    )
    assert c.schedule is not None and c.report_if_empty
    assert c.initial_record_time == _ms(2020, 4, 5, 2, 33, 31) + 116


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dest": "ftp://x.example/cb", "stream": True}, "dest"),
        ({"dest": "https://u:p@x.example/cb", "stream": True}, "dest"),
        ({"dest": "https://x.example/cb", "stream": True}, "signatureToken"),
        (
            {"dest": "https://x.example/cb", "signatureToken": "short", "stream": True},
            "signatureToken",
        ),
        ({"dest": "https://x.example/cb", "signatureToken": TOKEN}, "stream"),
        (
            {
                "dest": "https://x.example/cb",
                "signatureToken": TOKEN,
                "stream": True,
                "schedule": {"hour": "1"},
            },
            "schedule",
        ),
        (
            {
                "dest": "https://x.example/cb",
                "signatureToken": TOKEN,
                "stream": True,
                "reportIfEmpty": True,
            },
            "reportIfEmpty",
        ),
        (
            {
                "dest": "https://x.example/cb",
                "signatureToken": TOKEN,
                "stream": True,
                "initialRecordTime": "yesterday",
            },
            "initialRecordTime",
        ),
        (
            {
                "dest": "https://x.example/cb",
                "signatureToken": TOKEN,
                "stream": True,
                "secret": "x",
            },
            "secret",
        ),
    ],
)
def test_bad_controls_name_the_field(body: dict, field: str) -> None:
    with pytest.raises(SubscriptionControlsError) as info:
        parse_subscription(body, NOW)
    assert info.value.field == field


def test_only_public_addresses_unless_allowed() -> None:
    def resolver(addresses: list[str]):
        return lambda host, port: addresses

    dest = "https://hooks.example.com/cb"
    assert check_dest_addresses(dest, resolver(["93.184.215.14"]), allow_private=False)
    for bad in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.9",
        "169.254.169.254",
        "::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "0.0.0.0",
    ):
        with pytest.raises(SubscriptionControlsError, match="non-public"):
            check_dest_addresses(dest, resolver(["93.184.215.14", bad]), allow_private=False)
        assert check_dest_addresses(dest, resolver([bad]), allow_private=True) == [bad]

    def unresolvable(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(SubscriptionControlsError, match="does not resolve"):
        check_dest_addresses(dest, unresolvable, allow_private=True)


def test_signature_is_base64_hmac_sha256_of_the_body() -> None:
    body = b'{"type":"EPCISQueryDocument"}'
    expected = base64.b64encode(hmac.new(TOKEN.encode(), body, hashlib.sha256).digest()).decode()
    assert sign_body(TOKEN, body) == expected
    assert verify_signature(TOKEN, body, expected)
    assert not verify_signature(TOKEN, body + b" ", expected)
    assert not verify_signature(TOKEN + "x", body, expected)


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n, 5) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert retry_delay(30, 5) == 3600


def test_error_tree() -> None:
    assert issubclass(NoSuchNameError, SubscriptionError)
    assert NoSuchNameError("queryName", "x").status == 404


def test_errors_are_node_errors_of_their_kind() -> None:
    kinds = {
        QueryDefinitionError: (errors.InvalidInputError, 400, "QueryParameterException"),
        SubscriptionControlsError: (errors.InvalidInputError, 400, "SubscriptionControlsException"),
        NoSuchNameError: (errors.NotFoundError, 404, "NoSuchNameException"),
        NameExistsError: (errors.ConflictError, 409, "ResourceAlreadyExistsException"),
        NotOwnerError: (errors.ForbiddenError, 403, "SecurityException"),
    }
    for cls, (kind, status, name) in kinds.items():
        exc = cls("queryName", "no good")
        assert isinstance(exc, kind) and isinstance(exc, errors.NodeError)
        assert not isinstance(exc, ValueError)  # no longer a records-layer refusal
        assert (exc.status, exc.title, exc.detail) == (
            status,
            f"EPCIS {name}",
            "queryName: no good",
        )
        assert exc.errors == [{"field": "queryName", "message": "no good", "code": name}]
        assert exc.extensions == {"epcisException": name}
        assert exc.headers == {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
    assert errors.NotFoundError("x").extensions == {} and not errors.NotFoundError("x").headers
