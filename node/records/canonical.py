"""RFC 8785 JSON Canonicalization Scheme (JCS), with the node's refusals and limits.

The record digest covers ``JCS(event)``, so producer, node and any verifier (Python or
JavaScript) must reach the same bytes. Values with no single JSON meaning are refused
up front with the path of the offending value, instead of being silently changed:

- NaN and infinities (JSON has none); integers beyond ±(2^53 - 1) that spell no double
  (``2**53 + 1``), which a JavaScript or any IEEE-754 reader would round; strings with
  lone surrogates (not UTF-8); non-string object keys; Python types with no JSON form
  (bytes, Decimal, sets...).
- When parsing JSON text: duplicate object keys (RFC 8259 leaves them undefined; the
  reader that keeps the first and the one that keeps the last disagree on what was
  signed), numbers that overflow a double (``1e400``) or underflow it to zero
  (``1e-400``), a byte-order mark. Other numbers become the nearest double, as in every
  JSON reader (``333333333.33333329`` is ``333333333.3333333``, RFC 8785's own example);
  so does an integer beyond ±(2^53 - 1) in JSON *text* (JavaScript writes the double
  1e16 as ``10000000000000000``), where the node must read what a JavaScript signer read.
  A Python ``int`` beyond that range, by contrast, is refused unless it spells a double
  (equals one exactly, ``2**53``, or is one's JCS digits, ``123456789012345680000``): it
  is exact by type and canonicalising it would silently round it. One that spells a
  double canonicalises as that double, so the node's own output read back by any JSON
  reader (Python's ``json`` gives an ``int`` for ``9007199254740992``, the JCS form of
  the double 2^53) canonicalises to the same bytes.
- Depth over :data:`MAX_DEPTH` and canonical size over :data:`MAX_BYTES`, to bound the
  work a single request can cause.

``-0.0`` is accepted and canonicalises to ``0`` as RFC 8785 prescribes.
"""

from __future__ import annotations

import json
import json.encoder
import math
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

import rfc8785

from .errors import CanonicalizationError

try:  # the fast reader of large bodies; without it every text takes the strict path
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; kept optional on purpose
    orjson = None  # type: ignore[assignment]

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays (an event with a GeoJSON polygon needs 5)."""
MAX_BYTES = 512 * 1024
"""Largest canonical form (and JSON text) accepted: room for a 10,000-vertex plot."""
MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every IEEE-754 double reader keeps exactly (``Number.MAX_SAFE_INTEGER``)."""


def _fmt_path(path: list[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _walk(value: Any, path: list[str | int], depth: int, max_depth: int) -> None:
    if isinstance(value, str):
        _check_str(value, path)
    elif value is None or isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if _exact_double(value) is None:
            raise CanonicalizationError(
                "integer is outside ±(2^53 - 1) and is not the canonical spelling of a "
                "double: JSON readers round it; send it as a string",
                _fmt_path(path),
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalizationError(f"{value} has no JSON form", _fmt_path(path))
    elif isinstance(value, dict):
        if depth >= max_depth:
            raise CanonicalizationError(
                f"nested deeper than {max_depth} objects/arrays", _fmt_path(path)
            )
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError(
                    f"object key {key!r} is a {type(key).__name__}; JSON keys are strings",
                    _fmt_path(path),
                )
            path.append(key)
            _check_str(key, path)
            _walk(item, path, depth + 1, max_depth)
            path.pop()
    elif isinstance(value, list | tuple):
        if depth >= max_depth:
            raise CanonicalizationError(
                f"nested deeper than {max_depth} objects/arrays", _fmt_path(path)
            )
        for i, item in enumerate(value):
            path.append(i)
            _walk(item, path, depth + 1, max_depth)
            path.pop()
    else:
        raise CanonicalizationError(
            f"a {type(value).__name__} has no JSON form "
            "(use str, int, float, bool, None, list, dict)",
            _fmt_path(path),
        )


def _exact_double(value: int) -> int | float | None:
    """``value`` itself when safe; beyond ±(2^53 - 1), the double it spells, else None.

    An integer spells a double when it equals that double exactly (``2**53``) or is the
    double's JCS form read as digits: ECMAScript prints the shortest round-trip digits
    padded with zeros (the double nearest 123456789012345678901 is written
    ``123456789012345680000``), and Python's ``json`` reads that text as an ``int``.
    """
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    try:
        double = float(value)
    except OverflowError:
        return None
    if double == value:
        return double
    text = rfc8785.dumps(double)
    return double if text.lstrip(b"-").isdigit() and int(text) == value else None


def _check_str(value: str, path: list[str | int]) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            "string contains a lone surrogate and is not valid Unicode text", _fmt_path(path)
        ) from exc


def check_canonicalizable(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`CanonicalizationError` (with the value's path) if JCS cannot take it."""
    _walk(value, [], 0, max_depth)


class _Slow(Exception):
    """Raised by the fast emitter on anything unusual; the checking walk then explains it."""


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_encode_str = json.encoder.encode_basestring  # C; escapes exactly as ECMAScript JSON.stringify


def _emit(value: Any, out: list[str], depth: int, max_depth: int) -> None:
    # Same bytes as rfc8785.dumps (pinned by the property tests), several times faster:
    # strings through the C JSON escaper, floats through repr where repr already prints
    # the ECMAScript form, one pass instead of a checking walk plus a serialisation.
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            out.append(int.__repr__(value))
        else:
            double = _exact_double(value)
            if double is None:
                raise _Slow
            out.append(rfc8785.dumps(double).decode("ascii"))
    elif isinstance(value, float):
        magnitude = abs(value)
        if 1e-4 <= magnitude < 1e16:  # repr prints fixed notation here, as ECMAScript does
            text = float.__repr__(value)
            out.append(text[:-2] if text.endswith(".0") else text)
        elif value == 0:
            out.append("0")
        elif math.isfinite(value):
            out.append(rfc8785.dumps(value).decode("ascii"))
        else:
            raise _Slow
    elif isinstance(value, dict):
        if depth >= max_depth:
            raise _Slow
        if not value:
            out.append("{}")
            return
        keys = list(value)
        for key in keys:
            if not isinstance(key, str):
                raise _Slow
        joined = "".join(keys)
        if joined.isascii() or not _ASTRAL.search(joined):
            keys.sort()  # no astral characters: code point order is UTF-16 code unit order
        else:
            keys.sort(key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        sep = "{"
        for key in keys:
            out.append(sep)
            out.append(_encode_str(key))
            out.append(":")
            _emit(value[key], out, depth + 1, max_depth)
            sep = ","
        out.append("}")
    elif isinstance(value, list | tuple):
        if depth >= max_depth:
            raise _Slow
        if not value:
            out.append("[]")
            return
        sep = "["
        for item in value:
            out.append(sep)
            _emit(item, out, depth + 1, max_depth)
            sep = ","
        out.append("]")
    else:
        raise _Slow


def canonicalize(value: Any, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of ``value`` (keys sorted by UTF-16, ECMAScript numbers)."""
    out: list[str] = []
    try:
        _emit(value, out, 0, max_depth)
        data = "".join(out).encode("utf-8")
    except (_Slow, UnicodeEncodeError):
        check_canonicalizable(value, max_depth=max_depth)  # raises with the value's path
        raise CanonicalizationError(
            "value has no canonical JSON form"
        ) from None  # pragma: no cover
    if len(data) > max_bytes:
        raise CanonicalizationError(
            f"canonical form is {len(data)} bytes; the limit is {max_bytes}"
        )
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # in C; only a short dict means a repeated key
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalizationError(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    raise CanonicalizationError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise CanonicalizationError(f"number {text[:40]} is beyond the range of a double")
    if value == 0 and Decimal(text) != 0:
        raise CanonicalizationError(f"number {text[:40]} is too small for a double (it would be 0)")
    return value


_LONG_DIGITS = re.compile(r"(?<![\w.])\d{16}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# A JSON string once its escaped backslashes and quotes are gone, and non-brackets.
_PLAIN_STRING = re.compile(r'"[^"]*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = _DEPTH_STEP[ord("{")] = 1
_DEPTH_STEP[ord("]")] = _DEPTH_STEP[ord("}")] = -1


def _check_text_depth(text: str, max_depth: int) -> None:
    """Refuse text nested deeper than ``max_depth`` *before* the C parser sees it.

    ``json.loads`` recurses on the C stack, guarded only by the recursion limit, and
    eth-account (through py_ecc) and py-evm raise that limit to 100,000: a few hundred
    kilobytes of ``[`` would crash the node with a segmentation fault, not a
    RecursionError.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return
    # Outside strings only (their brackets do not count): escaped backslashes and quotes
    # go first, so every string is then a plain "..." run. All of it runs in C; a Python
    # loop over every token cost a fifth of a batch verification request. Invalid JSON
    # may be seen differently after its first error, where the parser stops anyway.
    outside = _PLAIN_STRING.sub("", text.replace("\\\\", "").replace('\\"', ""))
    brackets = _NOT_BRACKET.sub("", outside).encode("ascii")
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=0)) > max_depth:
        raise CanonicalizationError(f"nested deeper than {max_depth} objects/arrays")


def _int_or_double(text: str) -> int | float:
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    try:
        return float(value)  # what every IEEE-754 reader (JavaScript's JSON.parse) holds
    except OverflowError:
        raise CanonicalizationError(f"number {text[:40]} is beyond the range of a double") from None


def _no_constant(name: str) -> Any:
    raise CanonicalizationError(f"{name} is not a JSON number")


def parse_stored(raw: bytes) -> Any:
    """Parse event bytes the node stored itself (its own JCS output), at C speed.

    Stored bytes were canonicalised from a strictly parsed value at intake, so none of
    :func:`parse_json`'s refusals can apply to them, and what a reader is shown is bound
    to what was signed by the digest, which verification recomputes over these very
    bytes. A damaged or tampered row that is not plain JSON goes through
    :func:`parse_json`, which says what is wrong (the strict parser's hooks made a
    1,000-event lot's provenance cost ~50 µs an event more).
    """
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return parse_json(raw)


# Text the fast reader must not take alone: a surrogate escape (a lone one is not UTF-8)
# or an escaped colon (it would hide a repeated key from the colon count of _parse_fast).
_NEEDS_STRICT = re.compile(r"\\u[dD][89a-fA-F]|\\u003[aA]")
_SAFE = float(MAX_SAFE_INTEGER)


def _shape(value: Any, max_depth: int) -> tuple[int, int] | None:
    """(key/value pairs, colons inside strings) of a value orjson read, level by level;
    ``None`` when the strict reader could read it otherwise: nested deeper than
    ``max_depth``, an integer past ±(2^53 - 1) (the strict reader reads it as a double),
    a float that is zero (``1e-400`` underflows to it), not finite or past 2^53 (orjson
    reads integers past 64 bits as doubles itself)."""
    pairs = 0
    strings: list[str] = []
    level = [value] if type(value) is dict or type(value) is list else []
    if not level and type(value) is not str:
        level, value = [[value]], None  # a bare number: check it as a list item
    elif type(value) is str:
        strings.append(value)
    depth = 0
    while level:
        depth += 1
        if depth > max_depth + (value is None):
            return None
        below: list[Any] = []
        for container in level:
            if type(container) is dict:
                pairs += len(container)
                strings.extend(container)
                items = container.values()
            else:
                items = container
            for item in items:
                kind = type(item)
                if kind is str:
                    strings.append(item)
                elif kind is dict or kind is list:
                    below.append(item)
                elif kind is int:
                    if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                        return None
                elif kind is float and not (item and -_SAFE < item < _SAFE):
                    return None
        level = below
    return pairs, "".join(strings).count(":")


def _parse_fast(text: str, max_depth: int) -> Any:
    """The value of ``text`` read by orjson, when that provably equals what the strict
    reader returns; else :data:`_STRICT` (then the strict reader decides, and words any
    refusal). orjson refuses NaN, infinities, invalid UTF-8 and nesting past 1,024 by
    itself (never on the C stack, so no depth check is needed before it); :func:`_shape`
    sends every number it could read differently to the strict reader; a repeated key
    shows as one colon more in the text than the objects hold pairs (outside strings a
    colon is always a name separator, RFC 8259 §4)."""
    if orjson is None or _NEEDS_STRICT.search(text):
        return _STRICT
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _STRICT
    shape = _shape(value, max_depth)
    if shape is None or text.count(":") - shape[1] != shape[0]:
        return _STRICT
    return value


_STRICT = object()
# Below this size the strict reader is as fast (its hooks cost per object).
_FAST_FROM_BYTES = 4096


def parse_json(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse JSON text strictly (see the module docstring for what is refused).

    Large texts are read by orjson when :func:`_parse_fast` can show the result is the
    same (a 1,000-bundle verification body: about 10x faster); anything else, and every
    refusal, goes through the standard library's reader with the node's hooks.
    """
    if isinstance(text, bytes | bytearray):
        if text.startswith(b"\xef\xbb\xbf"):
            raise CanonicalizationError("JSON text starts with a byte-order mark")
        size = len(text)
        if size > max_bytes:
            raise CanonicalizationError(f"JSON text is {size} bytes; the limit is {max_bytes}")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(f"JSON text is not UTF-8: {exc.reason}") from exc
    elif isinstance(text, str):
        if text.startswith("\ufeff"):
            raise CanonicalizationError("JSON text starts with a byte-order mark")
        # Cheap bound first: UTF-8 needs at least one byte per character.
        if len(text) > max_bytes:
            raise CanonicalizationError(f"JSON text is over the limit of {max_bytes} bytes")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise CanonicalizationError("JSON text contains a lone surrogate") from exc
        if size > max_bytes:
            raise CanonicalizationError(f"JSON text is over the limit of {max_bytes} bytes")
    else:
        raise CanonicalizationError(f"JSON text must be str or bytes, not {type(text).__name__}")
    if size >= _FAST_FROM_BYTES:
        fast = _parse_fast(text, max_depth)
        if fast is not _STRICT:
            return fast
    _check_text_depth(text, max_depth)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            # Only a number of 16+ digits can be beyond 2**53: without one (the common
            # case, decided in C) the C scanner's own int parsing is exact.
            parse_int=_int_or_double if _LONG_DIGITS.search(text) else None,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalizationError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise CanonicalizationError(f"nested deeper than {max_depth} objects/arrays") from exc
    except ValueError as exc:
        if isinstance(exc, CanonicalizationError):
            raise
        # int() refuses numbers of more than 4300 digits
        raise CanonicalizationError(f"unreadable JSON number: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text):  # all else was checked on the way in
        check_canonicalizable(value, max_depth=max_depth)
    return value


def parse_event_json(
    text: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES
) -> dict[str, Any]:
    """Parse an event's JSON text strictly; the top level must be an object."""
    value = parse_json(text, max_depth=max_depth, max_bytes=max_bytes)
    if type(value) is not dict:
        raise CanonicalizationError(f"an event is a JSON object, not a {type(value).__name__}")
    return value
