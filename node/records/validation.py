"""Check an event against its product profile and report every problem at once.

A producer (often a cooperative clerk on a phone) should fix a rejected event in one
round trip, so validation collects all errors, each with the JSON path of the field and
a sentence saying what is wrong and what is expected. The profile is data (see
:mod:`vntrace.node.profile`); nothing about coffee is hard-coded here.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from .canonical import canonicalize
from .errors import (
    CanonicalizationError,
    EventValidationError,
    FieldError,
    IdentifierError,
    RecordError,
)
from .identifiers import COUNTRY_CODES, validate_gln, validate_sscc

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

PrivateMode = Literal["plain", "committed", "either"]

MAX_ERRORS = 100
"""Errors reported per event; a 5,000-vertex polygon with bad decimals says so 100 times."""

EXTENSION_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
"""Namespaced extension keys (``ext:moistureMeter``, ``acme:batchRef``), as EPCIS 2.0
JSON-LD user extensions: allowed anywhere at the top level, with any JSON value."""

COMMITMENT = re.compile(r"0x[0-9a-f]{64}")

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?")
_ECHO_KEYS = {"type": "event_type", "bizStep": "biz_step", "action": "action"}
_UNIT_HINTS = {
    "kg": "KGM",
    "kgs": "KGM",
    "kilogram": "KGM",
    "t": "TNE",
    "ton": "TNE",
    "tonne": "TNE",
    "mt": "TNE",
    "g": "GRM",
    "gram": "GRM",
    "lb": "LBR",
    "lbs": "LBR",
    "pcs": "H87",
    "piece": "H87",
    "ea": "H87",
}


@lru_cache(maxsize=1)
def _topology_rules() -> Any:
    """Intake checks polygon topology only: decimals, holes and area are judged by
    ``vntrace eudr check`` (docs/eudr.md §2 says why). Imported lazily: shapely is
    loaded only when a polygon arrives."""
    from vntrace.node.eudr.geometry import EU_GEOMETRIES, GeometryRules

    return GeometryRules(
        max_decimals=17, min_decimals=0, geometries=EU_GEOMETRIES, allow_holes=True
    )


@dataclass(frozen=True, slots=True)
class ValidatedEvent:
    """An event that passed its profile, with its EPCIS classification."""

    kind: str
    event_type: str
    action: str | None
    biz_step: str
    disposition: str | None
    event_time: datetime
    event: dict[str, Any]
    canonical: bytes
    """``JCS(event)``, computed once here and reused for the digest."""
    private_fields: tuple[str, ...]
    """The profile's private fields present in this event."""
    committed_fields: tuple[str, ...]
    """Those of them carried as ``{"commitment": ...}`` rather than as values."""


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 date-time that has a UTC offset (``Z`` or ``±hh:mm``).

    Raises ValueError with a reason. Fractions beyond microseconds are truncated; leap
    seconds (``:60``) are refused because no datetime type downstream can hold them.
    """
    m = _RFC3339.fullmatch(value)
    if not m:
        raise ValueError("not an RFC 3339 date-time, e.g. 2024-11-02T07:30:00+07:00")
    year, month, day, hour, minute, second, frac, offset = m.groups()
    if offset is None:
        raise ValueError("needs a UTC offset (Z or ±hh:mm): a local time alone is ambiguous")
    if second == "60":
        raise ValueError("leap seconds (:60) are not accepted")
    if offset == "Z":
        tz = UTC
    else:
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise ValueError(f"UTC offset {offset} is out of range")
        delta = timedelta(hours=oh, minutes=om)
        tz = timezone(-delta if offset[0] == "-" else delta)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError as exc:
        raise ValueError(f"no such date or time ({exc})") from None


_PLAIN_NUMBERS = (int, float)


def _decimals(x: float | int) -> int:
    """Decimal places of a number as JSON writes it (shortest round-trip form)."""
    if not isinstance(x, float):
        return 0
    text = float.__repr__(x)
    if "e" in text or "n" in text:  # exponent form (1e-07), or inf/nan
        exponent = Decimal(text).normalize().as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    fraction = text[text.index(".") + 1 :]
    return 0 if fraction == "0" else len(fraction)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _type_name(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, int | float):
        return "a number"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, list | tuple):
        return "an array"
    if isinstance(x, dict):
        return "an object"
    return f"a {type(x).__name__}"


def is_commitment(value: Any) -> bool:
    """True if ``value`` is a well-formed ``{"commitment": "0x<64 hex>"}`` object."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(value.get("commitment"), str)
        and COMMITMENT.fullmatch(value["commitment"]) is not None
    )


class _Checker:
    """Collects errors for one event; each ``_t_<type>`` returns the parsed value or None."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.errors: list[FieldError] = []
        self.dropped = 0

    def add(self, path: str, message: str, code: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FieldError(path, message, code))
        else:
            self.dropped += 1

    def has_error_at(self, path: str) -> bool:
        return any(
            e.path == path or e.path.startswith((path + ".", path + "[")) for e in self.errors
        )

    def check(self, path: str, value: Any, spec: Any) -> Any:
        return getattr(self, f"_t_{spec.type}")(path, value, spec)

    def _want(self, path: str, value: Any, what: str) -> None:
        self.add(path, f"expected {what}, got {_type_name(value)}", "type")

    def _keys(self, path: str, value: dict[str, Any], allowed: set[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                self.add(
                    f"{path}.{key}",
                    f"unknown member of {what} (allowed: {', '.join(sorted(allowed))})",
                    "unknown_field",
                )

    # ---- scalar types ---------------------------------------------------------------

    def _t_string(self, path: str, value: Any, spec: Any) -> str | None:
        if not isinstance(value, str):
            return self._want(path, value, "a string")
        ok = True
        if len(value) < spec.min_length:
            self.add(
                path,
                "must not be empty"
                if spec.min_length == 1
                else f"needs at least {spec.min_length} characters",
                "length",
            )
            ok = False
        if len(value) > spec.max_length:
            self.add(
                path, f"has {len(value)} characters; at most {spec.max_length} allowed", "length"
            )
            ok = False
        if spec.enum is not None and value not in spec.enum:
            self.add(path, f"{value[:40]!r} is not one of: {', '.join(spec.enum)}", "enum")
            ok = False
        elif spec.pattern is not None and re.fullmatch(spec.pattern, value) is None:
            self.add(path, f"{value[:40]!r} does not match the pattern {spec.pattern}", "pattern")
            ok = False
        return value if ok else None

    def _t_integer(self, path: str, value: Any, spec: Any) -> int | None:
        # JSON has one number type and JCS writes 3.0 as 3, so an integral float is an integer.
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            return self._want(path, value, "an integer")
        return self._bounds(path, int(value), spec.minimum, spec.maximum, None)

    def _t_number(self, path: str, value: Any, spec: Any) -> float | None:
        if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
            return self._want(path, value, "a finite number")
        return self._bounds(path, value, spec.minimum, spec.maximum, spec.exclusive_minimum)

    def _bounds(self, path: str, value: Any, lo: Any, hi: Any, xlo: Any) -> Any:
        if lo is not None and value < lo:
            self.add(path, f"{value} is below the minimum {lo}", "range")
        elif xlo is not None and value <= xlo:
            self.add(path, f"{value} must be greater than {xlo}", "range")
        elif hi is not None and value > hi:
            self.add(path, f"{value} is above the maximum {hi}", "range")
        else:
            return value
        return None

    def _t_boolean(self, path: str, value: Any, spec: Any) -> bool | None:
        if not isinstance(value, bool):
            return self._want(path, value, "true or false")
        return value

    def _t_date(self, path: str, value: Any, spec: Any) -> date | None:
        if not isinstance(value, str):
            return self._want(path, value, "a date string YYYY-MM-DD")
        if not _DATE.fullmatch(value):
            self.add(path, f"{value[:40]!r} is not a date in the form YYYY-MM-DD", "date")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.add(path, f"{value!r} is not a calendar date", "date")
            return None

    def _t_datetime(self, path: str, value: Any, spec: Any) -> datetime | None:
        if not isinstance(value, str):
            return self._want(path, value, "an RFC 3339 date-time string")
        try:
            return parse_rfc3339(value)
        except ValueError as exc:
            self.add(path, f"{value[:40]!r}: {exc}", "datetime")
            return None

    def _t_country(self, path: str, value: Any, spec: Any) -> str | None:
        if not isinstance(value, str):
            return self._want(path, value, "an ISO 3166-1 alpha-2 country code")
        if value not in COUNTRY_CODES:
            hint = f" (did you mean {value.upper()!r}?)" if value.upper() in COUNTRY_CODES else ""
            self.add(path, f"{value[:10]!r} is not an ISO 3166-1 alpha-2 code{hint}", "country")
            return None
        if spec.allowed is not None and value not in spec.allowed:
            self.add(
                path, f"{value} is not allowed here (allowed: {', '.join(spec.allowed)})", "country"
            )
            return None
        return value

    def _t_gln(self, path: str, value: Any, spec: Any) -> str | None:
        return self._gs1(path, value, validate_gln, "a GLN (13 digits)")

    def _t_sscc(self, path: str, value: Any, spec: Any) -> str | None:
        return self._gs1(path, value, validate_sscc, "an SSCC (18 digits)")

    def _gs1(self, path: str, value: Any, check: Any, what: str) -> str | None:
        if not isinstance(value, str):
            return self._want(path, value, what)
        try:
            return check(value)
        except IdentifierError as exc:
            self.add(path, str(exc), "identifier")
            return None

    # ---- structured types ---------------------------------------------------------------

    def _t_quantity(self, path: str, value: Any, spec: Any) -> tuple[float, str] | None:
        if _is_number(value):
            self.add(path, 'a quantity needs a unit: write {"value": ..., "unit": "KGM"}', "unit")
            return None
        if not isinstance(value, dict):
            return self._want(path, value, "a quantity object {value, unit}")
        self._keys(path, value, {"value", "unit"}, "a quantity")
        amount = value.get("value")
        ok = True
        if "value" not in value:
            self.add(f"{path}.value", "missing", "required")
            ok = False
        elif not _is_number(amount) or not math.isfinite(amount):
            self._want(f"{path}.value", amount, "a finite number")
            ok = False
        elif amount <= 0:
            self.add(f"{path}.value", f"{amount} must be greater than 0", "range")
            ok = False
        unit = value.get("unit")
        if "unit" not in value:
            self.add(
                f"{path}.unit", "a quantity needs a unit (UN/ECE Rec. 20 code, e.g. KGM)", "unit"
            )
            return None
        if not isinstance(unit, str):
            self._want(f"{path}.unit", unit, "a UN/ECE Recommendation 20 unit code")
            return None
        known = self.profile.units.get(unit)
        if known is None:
            hint = _UNIT_HINTS.get(unit.lower())
            hint_text = f"; did you mean {hint!r}?" if hint and hint in self.profile.units else ""
            allowed = ", ".join(sorted(self.profile.units))
            self.add(
                f"{path}.unit",
                f"unknown unit {unit[:20]!r} (allowed UN/ECE Rec. 20 codes: {allowed}){hint_text}",
                "unit",
            )
            return None
        if spec.dimension is not None and known.dimension != spec.dimension:
            fitting = ", ".join(
                c for c, u in self.profile.units.items() if u.dimension == spec.dimension
            )
            self.add(
                f"{path}.unit",
                f"{unit} ({known.name}) is not a unit of {spec.dimension} (use {fitting})",
                "unit",
            )
            return None
        return (amount, unit) if ok else None

    def _t_money(self, path: str, value: Any, spec: Any) -> tuple[str, str] | None:
        if not isinstance(value, dict):
            return self._want(path, value, "a money object {amount, currency}")
        self._keys(path, value, {"amount", "currency"}, "a money amount")
        amount, currency = value.get("amount"), value.get("currency")
        ok = True
        if "amount" not in value:
            self.add(f"{path}.amount", "missing", "required")
            ok = False
        elif not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
            self.add(
                f"{path}.amount",
                'must be a decimal string such as "2150.50" (no float: money must stay exact)',
                "type",
            )
            ok = False
        if "currency" not in value:
            self.add(f"{path}.currency", "missing", "required")
            ok = False
        elif not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            self.add(f"{path}.currency", "must be an ISO 4217 code such as VND or USD", "type")
            ok = False
        elif spec.currencies is not None and currency not in spec.currencies:
            self.add(
                f"{path}.currency",
                f"{currency} is not accepted (accepted: {', '.join(spec.currencies)})",
                "enum",
            )
            ok = False
        return (amount, currency) if ok else None

    def _t_party(self, path: str, value: Any, spec: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            return self._want(path, value, "a party object {name, gln?, id?}")
        before = len(self.errors)
        self._keys(path, value, {"name", "gln", "id"}, "a party")
        name = value.get("name")
        if "name" not in value:
            self.add(f"{path}.name", "missing", "required")
        elif not isinstance(name, str) or not name.strip() or len(name) > 200:
            self.add(f"{path}.name", "must be a non-empty string of at most 200 characters", "type")
        if "gln" in value:
            self._t_gln(f"{path}.gln", value["gln"], spec)
        if "id" in value:
            pid = value["id"]
            if not isinstance(pid, str) or not pid or len(pid) > 100:
                self.add(
                    f"{path}.id", "must be a non-empty string of at most 100 characters", "type"
                )
        return value if len(self.errors) == before else None

    def _t_geojson(self, path: str, value: Any, spec: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            return self._want(path, value, "a GeoJSON geometry object")
        before = len(self.errors)
        self._keys(path, value, {"type", "coordinates"}, "a GeoJSON geometry")
        gtype = value.get("type")
        if gtype not in spec.geometries:
            allowed = " or ".join(spec.geometries)
            self.add(
                f"{path}.type",
                f"geometry type {gtype!r} is not accepted (use {allowed})",
                "geometry",
            )
            return None
        if "coordinates" not in value:
            self.add(f"{path}.coordinates", "missing", "required")
            return None
        coords = value["coordinates"]
        cpath = f"{path}.coordinates"
        if gtype == "Point":
            self._position(cpath, None, coords, spec)
        elif gtype == "MultiPolygon":
            if not isinstance(coords, list | tuple) or not coords:
                self.add(cpath, "a MultiPolygon's coordinates are a non-empty array", "geometry")
            else:
                for i, polygon in enumerate(coords):
                    self._polygon(f"{cpath}[{i}]", polygon, spec)
        else:
            self._polygon(cpath, coords, spec)
        if len(self.errors) == before and gtype != "Point":
            self._topology(path, value)
        return value if len(self.errors) == before else None

    def _topology(self, path: str, value: dict[str, Any]) -> None:
        """EU information system rule: polygons must be valid (no self-intersection, no
        overlapping parts), judged by shapely (GEOS), with the first bad point named."""
        from vntrace.node.eudr.geometry import check_geometry

        issues = check_geometry(value, plot=path, rules=_topology_rules())
        for issue in issues:
            at = f" at [{issue.where[0]}, {issue.where[1]}]" if issue.where else ""
            self.add(f"{path}.coordinates", f"{issue.message}{at} ({issue.rule})", "geometry")

    def _polygon(self, path: str, rings: Any, spec: Any) -> None:
        if not isinstance(rings, list | tuple) or not rings:
            self.add(
                path, "a Polygon's coordinates are a non-empty array of linear rings", "geometry"
            )
            return
        total = sum(len(r) for r in rings if isinstance(r, list | tuple))
        if total > spec.max_positions:
            self.add(path, f"{total} positions; at most {spec.max_positions} accepted", "geometry")
            return
        for i, ring in enumerate(rings):
            rpath = f"{path}[{i}]"
            if not isinstance(ring, list | tuple):
                self._want(rpath, ring, "a linear ring (array of positions)")
                continue
            position = self._position
            good = [position(rpath, j, p, spec) for j, p in enumerate(ring)]
            if len(ring) < 4:
                self.add(
                    rpath,
                    f"a linear ring needs at least 4 positions (got {len(ring)}): "
                    "3 corners and the first repeated to close it",
                    "geometry",
                )
                continue
            if None in good:
                continue
            if good[0] != good[-1]:
                self.add(
                    rpath,
                    "the ring is not closed: its last position must equal the first",
                    "geometry",
                )
            elif len(set(good)) < 3:
                self.add(
                    rpath, "the ring encloses no area (fewer than 3 distinct positions)", "geometry"
                )

    def _position(
        self, path: str, index: int | None, pos: Any, spec: Any
    ) -> tuple[float, float] | None:
        # Fast path first: a polygon may have thousands of vertices, and paths are only
        # formatted once something is wrong.
        if type(pos) is list and len(pos) == 2:
            lon, lat = pos
            if (
                type(lon) in _PLAIN_NUMBERS
                and type(lat) in _PLAIN_NUMBERS
                and -180 <= lon <= 180
                and -90 <= lat <= 90
                and _decimals(lon) <= spec.max_decimals
                and _decimals(lat) <= spec.max_decimals
            ):
                return (lon, lat)
        if index is not None:
            path = f"{path}[{index}]"
        if not isinstance(pos, list | tuple) or len(pos) != 2:
            self.add(
                path,
                "a position is [longitude, latitude] (exactly two numbers, WGS 84)",
                "geometry",
            )
            return None
        ok = True
        for k, (v, name, lim) in enumerate(((pos[0], "longitude", 180), (pos[1], "latitude", 90))):
            if not _is_number(v):
                self._want(f"{path}[{k}]", v, f"a {name} number")
                ok = False
            elif not math.isfinite(v):
                self.add(f"{path}[{k}]", f"{name} must be a finite number", "type")
                ok = False
            elif not -lim <= v <= lim:
                self.add(
                    f"{path}[{k}]",
                    f"{name} {v} is out of range [-{lim}, {lim}]"
                    + (" (is the position [longitude, latitude]?)" if k == 1 else ""),
                    "range",
                )
                ok = False
            elif _decimals(v) > spec.max_decimals:
                places = spec.max_decimals
                self.add(
                    f"{path}[{k}]",
                    f"{v} has {_decimals(v)} decimals; round to {places} "
                    f"(about {111_320 / 10**places:.2g} m)",
                    "decimals",
                )
                ok = False
        return (pos[0], pos[1]) if ok else None


def validate_event(
    profile: Profile,
    event: Any,
    *,
    now: datetime | None = None,
    private: PrivateMode = "either",
) -> ValidatedEvent:
    """Validate ``event`` against ``profile``; raise :class:`EventValidationError` listing
    every problem.

    ``private`` says how the profile's private fields may appear: ``"plain"`` (values,
    before the signer commits them), ``"committed"`` (only ``{"commitment": ...}``, what
    a node accepts so no confidential value enters the public record) or ``"either"``.
    ``now`` (aware) is the clock for the future-time check, default the system clock.
    """
    if not isinstance(event, dict):
        raise EventValidationError(
            [FieldError("", f"an event is a JSON object, not {_type_name(event)}", "type")]
        )
    if now is not None and now.utcoffset() is None:
        raise RecordError("now must be a timezone-aware datetime")
    c = _Checker(profile)

    kind_name = event.get("kind")
    kind = None
    if "kind" not in event:
        c.add("kind", f"missing; one of: {', '.join(profile.kinds)}", "required")
    elif not isinstance(kind_name, str) or kind_name not in profile.kinds:
        shown = kind_name if isinstance(kind_name, str) else _type_name(kind_name)
        c.add(
            "kind",
            f"unknown event kind {str(shown)[:40]!r} for profile {profile.id} "
            f"(known: {', '.join(profile.kinds)})",
            "unknown_kind",
        )
    else:
        kind = profile.kinds[kind_name]

    event_time: datetime | None = None
    if "eventTime" not in event:
        c.add("eventTime", "missing; an RFC 3339 date-time with offset", "required")
    else:
        event_time = c._t_datetime("eventTime", event["eventTime"], None)
        if event_time is not None:
            clock = now or datetime.now(UTC)
            skew = timedelta(seconds=profile.max_clock_skew_seconds)
            if event_time > clock + skew:
                ahead = int((event_time - clock).total_seconds())
                c.add(
                    "eventTime",
                    f"is {ahead} s in the future (clock skew allowed: "
                    f"{profile.max_clock_skew_seconds} s)",
                    "future",
                )
                event_time = None

    fields = profile.fields_of(kind_name) if kind is not None else {}
    parsed: dict[str, Any] = {}
    present_private: list[str] = []
    committed: list[str] = []
    for key, value in event.items():
        if key in ("kind", "eventTime"):
            continue
        if not isinstance(key, str):
            c.add("", f"object key {key!r} is not a string", "json")
            continue
        if key in _ECHO_KEYS or key == "disposition":
            if kind is not None:
                expected = getattr(kind, _ECHO_KEYS.get(key, "disposition"))
                if value != expected:
                    c.add(
                        key,
                        f"is {value!r} but profile {profile.id} classifies "
                        f"{kind_name} events as {expected!r}; omit it or use that",
                        "mismatch",
                    )
            continue
        spec = fields.get(key)
        if spec is None:
            if EXTENSION_KEY.fullmatch(key):
                continue
            if kind is not None:
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                c.add(
                    key,
                    f"unknown field for {kind_name} events; {hint}extensions need a "
                    "namespace prefix, e.g. 'ext:" + key[:30] + "'",
                    "unknown_field",
                )
            continue
        if spec.private:
            present_private.append(key)
            if is_commitment(value):
                if private == "plain":
                    c.add(
                        key,
                        "expected the value of this private field, got a commitment",
                        "committed",
                    )
                committed.append(key)
                continue
            if isinstance(value, dict) and "commitment" in value:
                c.add(
                    key,
                    'malformed commitment: expected {"commitment": "0x" + 64 lowercase hex digits}',
                    "commitment",
                )
                continue
            if private == "committed":
                c.add(
                    key,
                    "private field sent in clear: the signer must replace it with "
                    '{"commitment": ...} before signing',
                    "not_committed",
                )
                continue
        parsed[key] = c.check(key, value, spec)

    for name, spec in fields.items():
        if spec.required and name not in event:
            c.add(name, f"required for {kind_name} events", "required")

    if kind is not None:
        parsed["eventTime"] = event_time
        _apply_rules(c, kind.rules, parsed, fields)

    canonical = b""
    try:
        canonical = canonicalize(event)
    except CanonicalizationError as exc:
        if not c.has_error_at(exc.path):
            c.add(exc.path, exc.message, "json")

    if c.errors:
        if c.dropped:
            c.errors.append(FieldError("", f"{c.dropped} more errors not shown", "truncated"))
        raise EventValidationError(c.errors)
    assert kind is not None and event_time is not None and kind_name is not None
    return ValidatedEvent(
        kind=kind_name,
        event_type=kind.event_type,
        action=kind.action,
        biz_step=kind.biz_step,
        disposition=kind.disposition,
        event_time=event_time,
        event=event,
        canonical=canonical,
        private_fields=tuple(present_private),
        committed_fields=tuple(committed),
    )


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _apply_rules(c: _Checker, rules: Any, parsed: dict[str, Any], fields: dict[str, Any]) -> None:
    """Cross-field rules; a rule is skipped when a field it needs is absent, invalid or
    committed (the node cannot see a committed value; the signer checked it)."""
    for rule in rules:
        if rule.type == "plotGeometry":
            geometry, area = parsed.get(rule.geometry), parsed.get(rule.area)
            if geometry is None or area is None:
                continue
            if geometry["type"] == "Point" and area > rule.max_point_area_ha:
                c.add(
                    rule.geometry,
                    f"a plot of {area} ha needs a Polygon: EUDR (EU 2023/1115) "
                    f"accepts a single Point only for plots of at most "
                    f"{rule.max_point_area_ha:g} ha",
                    "geometry",
                )
        elif rule.type == "dateOrder":
            previous: tuple[str, date | datetime] | None = None
            for name in rule.fields:
                value = parsed.get(name)
                if value is None:
                    continue
                if previous is not None:
                    pname, pvalue = previous
                    if isinstance(value, datetime) and isinstance(pvalue, datetime):
                        backwards = value < pvalue
                    else:
                        backwards = _as_date(value) < _as_date(pvalue)
                    if backwards:
                        c.add(
                            name,
                            f"{value.isoformat()} is before {pname} ({pvalue.isoformat()})",
                            "order",
                        )
                previous = (name, value)
        elif rule.type == "quantityNotGreater":
            a, b = parsed.get(rule.field), parsed.get(rule.than)
            if a is None or b is None:
                continue
            ua, ub = c.profile.units[a[1]], c.profile.units[b[1]]
            if ua.dimension != ub.dimension:
                c.add(
                    rule.field, f"unit {a[1]} cannot be compared with {rule.than}'s {b[1]}", "unit"
                )
            elif a[0] * ua.factor > b[0] * ub.factor * (1 + 1e-12):
                c.add(
                    rule.field,
                    f"{a[0]:g} {a[1]} is more than {rule.than} ({b[0]:g} {b[1]}): "
                    "processing cannot add mass",
                    "balance",
                )
