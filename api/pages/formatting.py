"""Values as a person reads them: numbers, times, quantities, parties, by field type.

Everything here returns plain text; the template engine escapes it. Event values are
producer-controlled and already validated by the profile, but the page must still
render whatever a stored record holds, so unexpected shapes fall back to compact JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from vntrace.node.profile import FieldSpec, Profile
from vntrace.node.records import is_commitment

from .i18n import Lang, Texts
from .vocab import country_label, unit_symbol, value_label

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MAX_TEXT = 400


def format_number(value: float | int, lang: Lang) -> str:
    """``5,200`` / ``9.4`` in English, ``5.200`` / ``9,4`` in Vietnamese."""
    if isinstance(value, bool) or not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


def format_decimal_string(amount: str, lang: Lang) -> str:
    """A money amount kept exact (``"16740.00"`` -> ``16,740.00``)."""
    whole, _, frac = amount.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    if not digits.isdigit():
        return amount
    grouped = f"{int(digits):,}"
    sep, point = (".", ",") if lang == "vi" else (",", ".")
    grouped = grouped.replace(",", sep)
    return f"{sign}{grouped}{point}{frac}" if frac else f"{sign}{grouped}"


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 string or a Unix timestamp as an aware UTC datetime (None if neither)."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def format_date(day: date, lang: Lang) -> str:
    """``1 Mar 2026`` / ``01/03/2026``."""
    if lang == "vi":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class TimeText:
    """A moment for ``<time datetime=...>``: machine form and words (UTC)."""

    iso: str
    text: str
    moment: datetime


def format_time(value: Any, lang: Lang) -> TimeText | None:
    """A record or block time in UTC words; None if it is not a time."""
    moment = parse_time(value)
    if moment is None:
        return None
    clock = f"{moment:%H:%M} UTC"
    text = f"{format_date(moment.date(), lang)} {clock}"
    if lang == "en":
        text = f"{format_date(moment.date(), lang)}, {clock}"
    return TimeText(moment.isoformat().replace("+00:00", "Z"), text, moment)


@dataclass(frozen=True, slots=True)
class Shown:
    """One field value as shown: words, or "confidential" with the commitment."""

    text: str
    confidential: bool = False
    commitment: str | None = None


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _confidential(value: Any, t: Texts) -> Shown:
    return Shown(t("confidential"), True, value["commitment"])


def show_value(value: Any, spec: FieldSpec | None, profile: Profile, t: Texts) -> Shown:
    """A field value in words, by its type in the profile (JSON when it has no type)."""
    lang = t.lang
    if is_commitment(value):
        return _confidential(value, t)
    kind = spec.type if spec is not None else None
    if kind == "quantity" and isinstance(value, dict):
        amount, unit = value.get("value"), value.get("unit")
        if isinstance(amount, int | float) and isinstance(unit, str):
            spec_unit = profile.units.get(unit)
            symbol = unit_symbol(unit, lang, spec_unit.name if spec_unit else None)
            return Shown(f"{format_number(amount, lang)} {symbol}")
    if kind == "money" and isinstance(value, dict):
        amount, currency = value.get("amount"), value.get("currency")
        if isinstance(amount, str) and isinstance(currency, str):
            return Shown(f"{format_decimal_string(amount, lang)} {currency}")
    if kind == "party" and isinstance(value, dict):
        return _party(value, t)
    if kind == "country" and isinstance(value, str):
        return Shown(country_label(value, lang))
    if kind == "date" and isinstance(value, str):
        try:
            return Shown(format_date(date.fromisoformat(value), lang))
        except ValueError:
            return Shown(value)
    if kind == "datetime":
        moment = format_time(value, lang)
        if moment is not None:
            return Shown(moment.text)
    if isinstance(value, bool):
        return Shown(t("yes") if value else t("no"))
    if isinstance(value, int | float):
        return Shown(format_number(value, lang))
    if isinstance(value, str):
        enum = getattr(spec, "enum", None)
        text = value_label(value, lang) if enum and value in enum else value
        return Shown(text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…")
    return Shown(_json(value))


def _party(value: dict[str, Any], t: Texts) -> Shown:
    name = value.get("name")
    if is_commitment(name):
        return _confidential(name, t)
    parts = [str(name) if name is not None else "?"]
    gln = value.get("gln")
    if isinstance(gln, str):
        parts.append(f"(GLN {gln})")
    return Shown(" ".join(parts))
