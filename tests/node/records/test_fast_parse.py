"""The fast reader of large JSON texts (orjson) against the strict reader.

Whatever text ``_parse_fast`` accepts, the strict reader must accept too and return the
very same value (types included: ``1`` vs ``1.0``, ``-0.0`` vs ``0.0``); everything it
refuses or is unsure of goes to the strict reader, which words the refusal.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vntrace.node.records import CanonicalizationError, canonical, parse_json
from vntrace.node.records.canonical import _STRICT, _parse_fast

SETTINGS = settings(max_examples=400, deadline=None)
DEPTH = 8


def _strict(text: str) -> Any:
    """The standard library's reader with the node's hooks, and only that."""
    saved, canonical.orjson = canonical.orjson, None
    try:
        return parse_json(text, max_depth=DEPTH, max_bytes=10**8)
    finally:
        canonical.orjson = saved


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b)  # -0.0 is not 0.0
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _agrees(text: str) -> None:
    fast = _parse_fast(text, DEPTH)
    if fast is _STRICT:
        return
    strict = _strict(text)  # raises if the strict reader refuses what the fast one took
    assert _same(fast, strict), (text[:200], fast, strict)


numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | numbers | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)


@SETTINGS
@given(values)
def test_what_the_fast_reader_takes_the_strict_reader_reads_the_same(value: Any) -> None:
    for text in (
        json.dumps(value),
        json.dumps(value, ensure_ascii=False),
        json.dumps(value, indent=1),
    ):
        _agrees(text)


number_texts = st.from_regex(r"\A-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?\Z")


@SETTINGS
@given(st.lists(number_texts, min_size=1, max_size=6))
def test_numbers_read_as_the_strict_reader_reads_them(numbers: list[str]) -> None:
    _agrees("[" + ",".join(numbers) + "]")
    _agrees('{"n": ' + numbers[0] + "}")
    _agrees(numbers[0])


@SETTINGS
@given(st.text(alphabet='{}[]:,"\\ 0123456789.eE+-aentrulfsu', max_size=40))
def test_any_text_is_refused_or_read_the_same(text: str) -> None:
    _agrees(text)


@SETTINGS
@given(st.dictionaries(st.text(max_size=4), st.integers(0, 9), min_size=1, max_size=5), st.data())
def test_a_repeated_key_is_never_taken(obj: dict[str, int], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(obj)))
    body = json.dumps(obj)[1:-1]
    escaped = json.dumps(key, ensure_ascii=data.draw(st.booleans()))
    text = "{" + body + ", " + escaped + ": 1}"
    assert _parse_fast(text, DEPTH) is _STRICT
    with pytest.raises(CanonicalizationError, match="duplicate key"):
        parse_json(text + " " * 5000)  # large enough for the fast reader to be tried


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a:b": 1, "a:b": 2}',
        '{"x": [{"k": 1, "k": 1}]}',
        '{"a": 1, "\\u0061": 2}',
        '{"a\\u003a": 1, "a:": 2}',  # an escaped colon would hide the repeat
        '{"a\\u003A": 1, "a\\u003A": 2, "b": "\\u003a"}',
        '["\\ud800"]',
        "[1e400]",
        "[-1e400]",
        "[1e-400]",
        "[12345678901234567890123]",
        "9007199254740993",
        "[NaN]",
        "[Infinity]",
        "[1,]",
        "[01]",
        '{"a" 1}',
        "[" * 40 + "]" * 40,
        "",
        "[0.0]",
        "[-0.0]",
        "[1.7976931348623157e308]",
    ],
)
def test_hard_cases_go_to_the_strict_reader_or_agree(text: str) -> None:
    _agrees(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ("[1e400]", "beyond the range"),
        ("[1e-400]", "too small"),
        ("[NaN]", "is not JSON"),
        ('["\\ud800"]', "surrogate"),
        ("[" * 40 + "]" * 40, "nested deeper"),
    ],
)
def test_large_texts_are_refused_in_the_strict_readers_words(text: str, message: str) -> None:
    padded = text[:-1] + " " * 8192 + text[-1:] if text.endswith(("]", "}")) else text
    with pytest.raises(CanonicalizationError, match=message):
        parse_json(padded, max_depth=DEPTH)


def test_a_large_plain_body_takes_the_fast_reader() -> None:
    """The path is really used: a verification-sized body is read by orjson."""
    body = {
        "bundles": [
            {
                "leaf": "0x" + "ab" * 32,
                "proof": ["0x" + "cd" * 32] * 17,
                "event": {"geo": [106.66017341613770, 10.762622000000001]},
            }
        ]
        * 200
    }
    text = json.dumps(body)
    assert len(text) > canonical._FAST_FROM_BYTES
    assert _parse_fast(text, DEPTH) is not _STRICT
    assert _same(parse_json(text, max_depth=DEPTH, max_bytes=10**8), _strict(text))
    assert not math.isnan(parse_json(text, max_bytes=10**8)["bundles"][0]["event"]["geo"][0])
