"""RFC 8785 canonical JSON: the RFC's vectors, edge cases and the node's refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from vntrace.node.records import (
    MAX_SAFE_INTEGER,
    CanonicalizationError,
    canonicalize,
    check_canonicalizable,
    parse_event_json,
    parse_json,
)


def test_rfc8785_section_3_2_4_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonicalize(parse_json(text)) == expected


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # RFC 8785 section 3.2.3: U+1F600 is the surrogate pair D83D DE00, which sorts
    # before U+FB33 in UTF-16 although it is the larger code point.
    obj = {
        "\u20ac": 1,
        "\r": 2,
        "\ufb33": 3,
        "1": 4,
        "\U0001f600": 5,
        "\u0080": 6,
        "\u00f6": 7,
    }
    out = canonicalize(obj).decode()
    order = [json.loads(out)[k] for k in json.loads(out)]
    assert order == [2, 4, 6, 7, 1, 5, 3]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (-1.5e-9, "-1.5e-9"),
        (0.1 + 0.2, "0.30000000000000004"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (MAX_SAFE_INTEGER, "9007199254740991"),
        (-MAX_SAFE_INTEGER, "-9007199254740991"),
        (9007199254740992.0, "9007199254740992"),
    ],
)
def test_numbers_serialize_like_ecmascript(value: float, text: str) -> None:
    assert canonicalize(value) == text.encode()


def test_unicode_is_utf8_not_escaped_and_controls_are() -> None:
    assert canonicalize("Đắk Lắk ☕ \U0001f331") == '"Đắk Lắk ☕ \U0001f331"'.encode()
    assert canonicalize("a\u0000\u001f\u007f") == b'"a\\u0000\\u001f\x7f"'
    assert canonicalize("</script>") == b'"</script>"'


def test_no_unicode_normalisation() -> None:
    # NFC and NFD spellings are different events: the digest covers the code points sent.
    assert canonicalize("\u1ea1") != canonicalize("a\u0323")


@pytest.mark.parametrize(
    ("value", "path", "why"),
    [
        ({"a": float("nan")}, "a", "no JSON form"),
        ({"a": [1, float("inf")]}, "a[1]", "no JSON form"),
        ({"a": {"b": 2**53 + 1}}, "a.b", "outside"),
        ({"a": -(2**53) - 1}, "a", "outside"),
        ({"a": 2**1024}, "a", "outside"),
        ({"a": "\ud800"}, "a", "lone surrogate"),
        ({"\udfff": 1}, "\udfff", "lone surrogate"),
        ({1: "x"}, "", "JSON keys are strings"),
        ({"a": b"bytes"}, "a", "no JSON form"),
        ({"a": Decimal("1.5")}, "a", "no JSON form"),
        ({"a": {1, 2}}, "a", "no JSON form"),
    ],
)
def test_values_without_a_jcs_form_are_refused_with_their_path(
    value: object, path: str, why: str
) -> None:
    with pytest.raises(CanonicalizationError, match=why) as info:
        canonicalize(value)
    assert info.value.path == path


def test_depth_limit() -> None:
    deep: object = 1
    for _ in range(32):
        deep = [deep]
    canonicalize(deep)  # exactly 32 levels
    with pytest.raises(CanonicalizationError, match="nested deeper than 32"):
        canonicalize([deep])
    with pytest.raises(CanonicalizationError, match="nested deeper than 3"):
        check_canonicalizable({"a": {"b": {"c": {}}}}, max_depth=3)


def test_size_limit() -> None:
    canonicalize("x" * 1000, max_bytes=1002)
    with pytest.raises(CanonicalizationError, match="canonical form is 1003 bytes"):
        canonicalize("x" * 1001, max_bytes=1002)


def test_parse_event_json_rejects_duplicate_keys_even_nested() -> None:
    with pytest.raises(CanonicalizationError, match="duplicate key 'kind'"):
        parse_event_json('{"kind": "harvest", "kind": "recall"}')
    with pytest.raises(CanonicalizationError, match="duplicate key 'unit'"):
        parse_event_json('{"q": {"unit": "KGM", "value": 1, "unit": "TNE"}}')


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"a": NaN}', "NaN is not JSON"),
        ('{"a": -Infinity}', "-Infinity is not JSON"),
        ('{"a": 1e400}', "beyond the range"),
        ('{"a": 1e-400}', "too small"),
        ('{"a": 1' + "0" * 400 + "}", "beyond the range"),
        ('{"a": "\\ud83d"}', "lone surrogate"),
        ('{"a": 1,}', "invalid JSON at line 1 column 9"),
        ("[1, 2]", "an event is a JSON object"),
        ("\ufeff{}", "byte-order mark"),
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b'{"a": "\xff"}', "not UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper|over the limit"),
        ("[" * 40 + "]" * 40, "nested deeper than 32"),
        ('{"a": ' + "9" * 5000 + "}", "unreadable JSON number"),
    ],
)
def test_parse_event_json_refusals(text: str | bytes, why: str) -> None:
    with pytest.raises(CanonicalizationError, match=why):
        parse_event_json(text)


def test_big_integers_in_json_text_read_as_doubles_like_javascript() -> None:
    # JSON.stringify(1e16) is "10000000000000000"; JSON.parse rounds 2^53 + 1 to 2^53.
    assert parse_json("10000000000000000") == 1e16
    assert canonicalize(parse_json("10000000000000000")) == b"10000000000000000"
    assert canonicalize(parse_json("9007199254740993")) == b"9007199254740992"
    assert canonicalize(parse_json("1152921504606846976")) == b"1152921504606847000"
    assert type(parse_json("9007199254740991")) is int


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"a": "' + "[{" * 100 + '", "b": "\\"[[[[\\\\", "c": [[1]]}'
    assert parse_event_json(text)["c"] == [[1]]


def test_deep_text_is_refused_even_with_a_raised_recursion_limit() -> None:
    # eth-account (py_ecc) and py-evm set the recursion limit to 100,000; json.loads on
    # deep text then overflows the C stack. Run in a child so a crash fails the test.
    code = (
        "import sys; sys.setrecursionlimit(100_000)\n"
        "from vntrace.node.records import parse_event_json, CanonicalizationError\n"
        "try:\n"
        "    parse_event_json('{\"a\":' + '[' * 400_000 + ']' * 400_000 + '}',"
        " max_bytes=10**7)\n"
        "except CanonicalizationError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "nested deeper than 32" in out.stdout


def test_parse_json_size_limit_counts_utf8_bytes() -> None:
    parse_json('"' + "ắ" * 10 + '"', max_bytes=32)
    with pytest.raises(CanonicalizationError, match="limit"):
        parse_json('"' + "ắ" * 11 + '"', max_bytes=32)


def test_parse_json_reads_what_json_dumps_writes() -> None:
    event = {"kind": "harvest", "q": {"value": 0.1, "unit": "KGM"}, "n": [1, -0.5, None, True]}
    assert parse_event_json(json.dumps(event)) == event
    assert parse_event_json(json.dumps(event).encode()) == event
