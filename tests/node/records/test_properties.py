"""Property tests: canonical form, identifiers and refusals on generated inputs."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from vntrace.node.records import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    CanonicalizationError,
    IdentifierError,
    canonicalize,
    digital_link_uri,
    gs1_check_digit,
    normalize_gtin,
    parse_digital_link,
    parse_json,
    record_digest,
)
from vntrace.node.records.identifiers import CSET82

SETTINGS = settings(max_examples=150, deadline=None)

safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
keys = st.text(max_size=8)  # any Unicode except lone surrogates
scalars = st.none() | st.booleans() | safe_ints | finite_floats | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=25,
)


def shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


@SETTINGS
@given(json_values, st.randoms(use_true_random=False))
def test_canonical_form_ignores_key_order(value: Any, rng: random.Random) -> None:
    assert canonicalize(shuffled(value, rng)) == canonicalize(value)


@SETTINGS
@given(json_values)
def test_canonical_form_survives_a_json_roundtrip(value: Any) -> None:
    canonical = canonicalize(value)
    assert canonicalize(parse_json(json.dumps(value))) == canonical
    assert canonicalize(parse_json(canonical)) == canonical  # idempotent
    # Any reader, not only the node's: Python's json reads the JCS form of a double past
    # 2^53 (``9007199254740992``) as an int, and a verifier using it must reach these bytes.
    assert canonicalize(json.loads(canonical)) == canonical
    assert parse_json(canonical) == value  # numerically equal (-0.0 == 0, 1.0 == 1)


any_keys = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
any_scalars = (
    st.none()
    | st.booleans()
    | safe_ints
    | finite_floats
    | st.floats(min_value=1e-8, max_value=1e22).map(lambda x: x * 1.0)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
)
any_values = st.recursive(
    any_scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(any_keys, c, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(any_values)
def test_fast_canonicalizer_equals_rfc8785_reference(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "x",
    [
        1e-4,
        9.999999999999999e-5,
        1e-6,
        1e-7,
        1e16,
        9999999999999998.0,
        1e21,
        1e-323,
        123.0,
        -1e-4,
        -0.5,
        2.0**53,
        2.0**60,
        1.7976931348623157e308,
    ],
)
def test_float_boundaries_equal_rfc8785(x: float) -> None:
    assert canonicalize([x, -x]) == rfc8785.dumps([x, -x])


@SETTINGS
@given(json_values, json_values)
def test_different_canonical_forms_give_different_digests(a: Any, b: Any) -> None:
    salt = bytes(32)
    assert (record_digest(salt, a) == record_digest(salt, b)) == (
        canonicalize(a) == canonicalize(b)
    )


@SETTINGS
@given(st.text(alphabet=st.characters(codec=None), max_size=12))
def test_odd_unicode_is_canonical_or_refused_clearly(text: str) -> None:
    has_surrogate = any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
    if has_surrogate:
        with pytest.raises(CanonicalizationError, match="lone surrogate") as info:
            canonicalize({"note": text})
        assert info.value.path == "note"
    else:
        out = canonicalize({"note": text})
        assert json.loads(out.decode("utf-8")) == {"note": text}


@SETTINGS
@given(
    st.integers()
    | st.builds(lambda m, e: m * 2**e, st.integers(-(2**53), 2**53), st.integers(0, 980))
)
def test_integers_beyond_the_safe_range_are_refused_unless_a_double_holds_them(n: int) -> None:
    if abs(n) <= MAX_SAFE_INTEGER:
        assert canonicalize([n]) == f"[{n}]".encode()
        return
    try:
        text = rfc8785.dumps(float(n))
        spells = float(n) == n or (text.lstrip(b"-").isdigit() and int(text) == n)
    except OverflowError:
        spells = False
    if spells:  # no rounding: the same bytes as the double, as every reader holds it
        assert canonicalize([n]) == rfc8785.dumps([float(n)])
        assert canonicalize(json.loads(canonicalize([n]))) == canonicalize([n])
    else:
        with pytest.raises(CanonicalizationError, match=r"2\^53") as info:
            canonicalize([n])
        assert info.value.path == "[0]"


@pytest.mark.parametrize(
    "n", [2**53, -(2**53), 2**60, 10**22, 2**1023, 123456789012345680000, -(10**20) * 7]
)
def test_integers_spelling_a_double_canonicalise_as_that_double(n: int) -> None:
    assert canonicalize({"n": n}) == canonicalize({"n": float(n)})


@SETTINGS
@given(st.integers(min_value=1, max_value=80), st.booleans())
def test_nesting_beyond_the_limit_is_refused(depth: int, as_text: bool) -> None:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    run = (lambda: parse_json(json.dumps(value))) if as_text else (lambda: canonicalize(value))
    if depth <= MAX_DEPTH:
        run()
    else:
        with pytest.raises(CanonicalizationError, match=f"nested deeper than {MAX_DEPTH}"):
            run()


lots = st.text(alphabet=sorted(CSET82), min_size=1, max_size=20)
gtin_bodies = st.text(alphabet="0123456789", min_size=13, max_size=13)


@SETTINGS
@given(gtin_bodies, lots)
def test_digital_link_roundtrip_for_any_lot(body: str, lot: str) -> None:
    gtin = body + str(gs1_check_digit(body))
    uri = digital_link_uri("https://id.vntrace.example", gtin, lot)
    path = uri.removeprefix("https://id.vntrace.example")
    assert all(ch.isalnum() or ch in "-._~%/" for ch in path)
    assert parse_digital_link(uri) == (gtin, lot)


@SETTINGS
@given(gtin_bodies, st.integers(min_value=0, max_value=13), st.integers(min_value=1, max_value=9))
def test_check_digit_catches_every_single_digit_error(body: str, pos: int, delta: int) -> None:
    gtin = body + str(gs1_check_digit(body))
    assert normalize_gtin(gtin) == gtin
    typo = gtin[:pos] + str((int(gtin[pos]) + delta) % 10) + gtin[pos + 1 :]
    with pytest.raises(IdentifierError, match="check digit"):
        normalize_gtin(typo)
