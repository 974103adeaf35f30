"""Salted commitments for private fields, and disclosures that open them."""

from __future__ import annotations

import copy

import pytest
import rfc8785
import sha3

from vntrace.node.records import (
    ConfidentialFieldError,
    check_disclosure,
    commit_private_fields,
    commitment_of,
    open_private_fields,
)

from .conftest import sample_event

SALT_A = bytes([0xA1]) * 32
SALT_B = bytes([0xB2]) * 32


def test_commitment_known_answer() -> None:
    value = {"amount": "5150.00", "currency": "USD"}
    by_hand = "0x" + sha3.keccak_256(SALT_A + rfc8785.dumps(value)).hexdigest()
    assert commitment_of(value, SALT_A) == by_hand
    assert (
        by_hand
        == "0x" + sha3.keccak_256(SALT_A + b'{"amount":"5150.00","currency":"USD"}').hexdigest()
    )


def test_commit_replaces_values_and_returns_disclosures() -> None:
    event = sample_event("shipping")
    original = copy.deepcopy(event)
    committed, disclosures = commit_private_fields(
        event, ["buyer", "price"], salts={"buyer": SALT_A, "price": SALT_B}
    )
    assert event == original  # input untouched
    assert committed["price"] == {"commitment": commitment_of(event["price"], SALT_B)}
    assert committed["buyer"] == {"commitment": commitment_of(event["buyer"], SALT_A)}
    assert {k: v for k, v in committed.items() if k not in ("buyer", "price")} == {
        k: v for k, v in event.items() if k not in ("buyer", "price")
    }
    assert disclosures == {
        "buyer": {"value": event["buyer"], "salt": "0x" + SALT_A.hex()},
        "price": {"value": event["price"], "salt": "0x" + SALT_B.hex()},
    }
    for path, d in disclosures.items():
        assert check_disclosure(committed, path, d["value"], d["salt"])
    assert open_private_fields(committed, disclosures) == event


def test_fresh_salt_per_field_and_per_call() -> None:
    event = sample_event("shipping") | {"buyer": {"name": "Same"}, "price": {"name": "Same"}}
    c1, d1 = commit_private_fields(event, ["buyer", "price"])
    c2, _ = commit_private_fields(event, ["buyer", "price"])
    assert c1["buyer"] != c1["price"]  # same value, different salts
    assert c1["buyer"] != c2["buyer"]
    assert d1["buyer"]["salt"] != d1["price"]["salt"]


def test_events_without_private_fields_are_unchanged() -> None:
    event = sample_event("drying")
    committed, disclosures = commit_private_fields(event, [])
    assert committed == event and disclosures == {}
    committed, disclosures = commit_private_fields(event, ["price"])  # absent: skipped
    assert committed == event and disclosures == {}


def test_already_committed_field_is_kept() -> None:
    event = sample_event("shipping")
    once, _ = commit_private_fields(event, ["price"], salts={"price": SALT_A})
    twice, d2 = commit_private_fields(once, ["price"])
    assert twice == once and d2 == {}


def test_nested_path() -> None:
    event = sample_event("shipping")
    committed, disclosures = commit_private_fields(
        event, ["buyer.name"], salts={"buyer.name": SALT_A}
    )
    assert committed["buyer"] == {
        "name": {"commitment": commitment_of("Hamburg Kaffee GmbH", SALT_A)}
    }
    assert event["buyer"] == {"name": "Hamburg Kaffee GmbH"}
    assert check_disclosure(committed, "buyer.name", "Hamburg Kaffee GmbH", SALT_A)
    assert open_private_fields(committed, disclosures) == event


@pytest.mark.parametrize(
    ("path", "value", "salt"),
    [
        ("price", {"amount": "5150.01", "currency": "USD"}, SALT_B),  # tampered value
        ("price", {"amount": "5150.00", "currency": "USD"}, SALT_A),  # wrong salt
        ("price", {"currency": "USD", "amount": "5150.00"}, SALT_A),  # wrong salt, reordered
        ("buyer", {"amount": "5150.00", "currency": "USD"}, SALT_B),  # wrong field
        ("shipper", {"name": "Simexco Đắk Lắk"}, SALT_B),  # not a commitment
        ("nothing", 1, SALT_B),  # no such field
        ("price", {"amount": "5150.00", "currency": "USD"}, b"short"),  # malformed salt
        ("price", {"amount": float("nan")}, SALT_B),  # value with no JSON form
    ],
)
def test_tampered_disclosures_do_not_check(path: str, value: object, salt: bytes) -> None:
    event = sample_event("shipping")
    committed, _ = commit_private_fields(event, ["price"], salts={"price": SALT_B})
    assert check_disclosure(committed, "price", event["price"], SALT_B)
    assert not check_disclosure(committed, path, value, salt)


def test_key_order_of_a_disclosed_value_does_not_matter() -> None:
    event = sample_event("shipping")
    committed, _ = commit_private_fields(event, ["price"], salts={"price": SALT_B})
    assert check_disclosure(committed, "price", {"currency": "USD", "amount": "5150.00"}, SALT_B)


def test_open_refuses_a_bad_disclosure() -> None:
    committed, disclosures = commit_private_fields(sample_event("shipping"), ["price"])
    forged = {"price": disclosures["price"] | {"value": {"amount": "1", "currency": "USD"}}}
    with pytest.raises(ConfidentialFieldError, match="does not match the commitment"):
        open_private_fields(committed, forged)
    with pytest.raises(ConfidentialFieldError, match="disclosure is"):
        open_private_fields(committed, {"price": {"value": 1}})


@pytest.mark.parametrize("path", ["", "a..b", ".a"])
def test_bad_paths(path: str) -> None:
    with pytest.raises(ConfidentialFieldError, match="bad field path"):
        commit_private_fields({"a": 1}, [path])


def test_path_through_a_scalar() -> None:
    with pytest.raises(ConfidentialFieldError, match="is not an object"):
        commit_private_fields({"a": 1}, ["a.b"])
