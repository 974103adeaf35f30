"""GS1 identifiers in EPCIS: EPC URNs and GS1 Digital Link URIs to one canonical form.

CBV 2.0 §8.9.2 (event hash ID, step on identifiers) requires every EPC URI, EPC class
URI, EPC pattern URI and GS1 Digital Link URI to be written as the *constrained
canonical* GS1 Digital Link URI: host ``https://id.gs1.org``, numeric AIs, GTIN padded to
14 digits, no query string, and only the finest identification level. The conversion
rules are those of the EPC Tag Data Standard 2.0 §6 / §7 (URN partitions) and GS1 Digital
Link 1.2 §4 (URI syntax). Pure functions, no network.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from vntrace.node.records.identifiers import gs1_check_digit

GS1_RESOLVER = "https://id.gs1.org"

# Characters that GS1 Digital Link 1.2 Table 7-1 requires to be percent-encoded and that
# EPC URNs may carry literally.
_PERCENT = {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}

_SHORT_NAMES = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}
_PRIMARY = (
    "01",
    "8006",
    "8010",
    "414",
    "417",
    "8017",
    "8018",
    "255",
    "00",
    "253",
    "401",
    "402",
    "8003",
    "8004",
)
_QUALIFIER_LEVELS = {
    "01": ("22", "10", "21", "235"),
    "8006": ("22", "10", "21"),
    "414": ("254",),
    "417": (),
    "8010": ("8011",),
}
_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.+)")


def _encode(text: str) -> str:
    return "".join(_PERCENT.get(ch, ch) for ch in text)


def _with_check(digits: str) -> str:
    return digits + str(gs1_check_digit(digits))


def _gtin(company: str, item: str) -> str:
    """GTIN-14 from an SGTIN/LGTIN partition: indicator digit first (TDS §6.3.1)."""
    return _with_check(item[:1] + company + item[1:])


def _urn_to_dl(scheme: str, kind: str, rest: str) -> str | None:
    parts = rest.split(".")
    if len(parts) < 2 or not parts[0].isdigit():
        return None
    company = parts[0]
    if scheme == "id" and kind == "sgtin" and len(parts) >= 3:
        serial = ".".join(parts[2:])
        return f"{GS1_RESOLVER}/01/{_gtin(company, parts[1])}/21/{_encode(serial)}"
    if scheme == "class" and kind == "lgtin" and len(parts) >= 3:
        lot = ".".join(parts[2:])
        return f"{GS1_RESOLVER}/01/{_gtin(company, parts[1])}/10/{_encode(lot)}"
    if scheme == "idpat" and parts[-1] == "*":
        return _pattern_to_dl(kind, company, parts)
    if scheme == "id" and kind == "upui" and len(parts) >= 3:
        tpx = ".".join(parts[2:])
        return f"{GS1_RESOLVER}/01/{_gtin(company, parts[1])}/235/{_encode(tpx)}"
    if scheme == "id" and kind == "itip" and len(parts) >= 5:
        piece_total = parts[2] + parts[3]
        serial = ".".join(parts[4:])
        return f"{GS1_RESOLVER}/8006/{_gtin(company, parts[1])}{piece_total}/21/{_encode(serial)}"
    if scheme == "id" and kind == "sscc" and len(parts) == 2:
        return f"{GS1_RESOLVER}/00/{_with_check(parts[1][:1] + company + parts[1][1:])}"
    if scheme == "id" and kind == "sgln" and len(parts) >= 3:
        gln = _with_check(company + parts[1])
        ext = ".".join(parts[2:])
        return f"{GS1_RESOLVER}/414/{gln}" + ("" if ext == "0" else f"/254/{_encode(ext)}")
    if scheme == "id" and kind == "pgln" and len(parts) == 2:
        return f"{GS1_RESOLVER}/417/{_with_check(company + parts[1])}"
    if scheme == "id" and kind == "grai" and len(parts) >= 3:
        grai = _with_check("0" + company + parts[1])
        return f"{GS1_RESOLVER}/8003/{grai}{_encode('.'.join(parts[2:]))}"
    if scheme == "id" and kind == "giai":
        return f"{GS1_RESOLVER}/8004/{company}{_encode('.'.join(parts[1:]))}"
    if scheme == "id" and kind in ("gsrn", "gsrnp") and len(parts) == 2:
        ai = "8018" if kind == "gsrn" else "8017"
        return f"{GS1_RESOLVER}/{ai}/{_with_check(company + parts[1])}"
    if scheme == "id" and kind == "gdti" and len(parts) >= 3:
        return f"{GS1_RESOLVER}/253/{_with_check(company + parts[1])}{_encode('.'.join(parts[2:]))}"
    if scheme == "id" and kind == "sgcn" and len(parts) == 3:
        return f"{GS1_RESOLVER}/255/{_with_check(company + parts[1])}{parts[2]}"
    if scheme == "id" and kind == "ginc":
        return f"{GS1_RESOLVER}/401/{company}{_encode('.'.join(parts[1:]))}"
    if scheme == "id" and kind == "gsin" and len(parts) == 2:
        return f"{GS1_RESOLVER}/402/{_with_check(company + parts[1])}"
    if scheme == "id" and kind == "cpi" and len(parts) >= 3:
        return f"{GS1_RESOLVER}/8010/{_encode(company + parts[1])}/8011/{parts[-1]}"
    return None


def _pattern_to_dl(kind: str, company: str, parts: list[str]) -> str | None:
    """EPC pattern URIs (TDS 2.0 §8): the class-level key the pattern ranges over."""
    if kind in ("sgtin", "upui") and len(parts) == 3:
        return f"{GS1_RESOLVER}/01/{_gtin(company, parts[1])}"
    if kind == "itip" and len(parts) == 5:
        return f"{GS1_RESOLVER}/8006/{_gtin(company, parts[1])}{parts[2]}{parts[3]}"
    if kind == "grai" and len(parts) == 3:
        return f"{GS1_RESOLVER}/8003/{_with_check('0' + company + parts[1])}"
    if kind == "gdti" and len(parts) == 3:
        return f"{GS1_RESOLVER}/253/{_with_check(company + parts[1])}"
    if kind == "sgcn" and len(parts) == 3:
        return f"{GS1_RESOLVER}/255/{_with_check(company + parts[1])}"
    if kind == "cpi" and len(parts) == 3:
        return f"{GS1_RESOLVER}/8010/{_encode(company + parts[1])}"
    return None


def _dl_to_canonical(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = [s for s in parts.path.split("/") if s != ""]
    segments = [_SHORT_NAMES.get(s, s) for s in segments]
    start = next(
        (
            i
            for i, s in enumerate(segments)
            if s in _PRIMARY and i + 1 < len(segments) and segments[i + 1][:1].isdigit()
        ),
        None,
    )
    if start is None:
        return None
    ai, value = segments[start], segments[start + 1]
    if ai == "01" and value.isdigit() and len(value) in (8, 12, 13):
        value = value.zfill(14)
    pairs = dict(zip(segments[start + 2 :: 2], segments[start + 3 :: 2], strict=False))
    # Finest level only: the last qualifier of the key's hierarchy that is present.
    levels = _QUALIFIER_LEVELS.get(ai, ())
    present = [q for q in levels if q in pairs]
    tail = f"/{present[-1]}/{pairs[present[-1]]}" if present else ""
    if ai == "01" and present and present[-1] == "22":
        tail = ""  # a CPV alone is not a finer identification level of a trade item
    return f"{GS1_RESOLVER}/{ai}/{value}{tail}"


def canonical_gs1_uri(value: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI of ``value``, or ``None`` when it
    carries no GS1 key (a plain URL, a UUID URN, a private identifier)."""
    m = _URN.fullmatch(value)
    if m is not None:
        return _urn_to_dl(m.group(1), m.group(2), m.group(3))
    if value.startswith(("http://", "https://")):
        return _dl_to_canonical(value)
    return None


def lot_class_uri(gtin14: str, lot: str) -> str:
    """``https://id.gs1.org/01/{gtin}/10/{lot}``: the EPCIS epcClass of a lot (GS1 DL form)."""
    from vntrace.node.records.identifiers import lot_path

    return GS1_RESOLVER + lot_path(gtin14, lot)


def gln_uri(gln: str) -> str:
    """``https://id.gs1.org/414/{gln}``: a location (SGLN with extension 0) as GS1 DL."""
    return f"{GS1_RESOLVER}/414/{gln}"


def sscc_uri(sscc: str) -> str:
    """``https://id.gs1.org/00/{sscc}``: a logistic unit (EPCIS parentID) as GS1 DL."""
    return f"{GS1_RESOLVER}/00/{sscc}"
