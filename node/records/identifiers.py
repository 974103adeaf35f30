"""GS1 identifiers of a lot: GTIN, lot number (AI 10), Digital Link URI and lot key.

A lot is GTIN-14 + lot number. Its GS1 Digital Link path ``/01/{gtin14}/10/{lot}`` is
hashed into the on-chain lot key, so the path must have exactly one spelling: the lot is
percent-encoded as GS1's own syntax engine does it (every byte outside RFC 3986
"unreserved" becomes ``%XX`` with upper-case hex). Parsing accepts any valid encoding
and zero-suppressed GTIN-8/12/13, and always yields the canonical form back.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import sha3

from .errors import IdentifierError

# GS1 General Specifications, figure 7.11-1: the 82 characters AI 10 may contain.
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
LOT_MAX_LENGTH = 20
"""AI 10 (batch/lot) is ``X..20``: 1 to 20 characters of CSET 82."""

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 pchar minus pct-encoded: what may stand unencoded in a path segment we read.
_PCHAR = _UNRESERVED | frozenset("!$&'()*+,;=:@")
_DIGITS = re.compile(r"[0-9]+")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")

# ISO 3166-1 alpha-2, the 249 officially assigned codes.
_ISO_3166_ALPHA2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ISO_3166_ALPHA2.split())


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of ``digits`` (the key without its check digit).

    Weights 3,1,3,... from the right, so the result is unchanged by leading zeros and the
    same function serves GTIN-8/12/13/14, GLN and SSCC.
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += (ord(ch) - 48) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def _check_gs1_key(value: object, lengths: tuple[int, ...], what: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(f"{what} must be a string of digits, got {type(value).__name__}")
    if not _DIGITS.fullmatch(value) or len(value) not in lengths:
        want = "/".join(str(n) for n in lengths)
        raise IdentifierError(f"{what} must be {want} digits, got {value[:40]!r}")
    if gs1_check_digit(value[:-1]) != ord(value[-1]) - 48:
        expected = gs1_check_digit(value[:-1])
        raise IdentifierError(f"{what} {value} has a wrong check digit (expected {expected})")
    return value


def normalize_gtin(gtin: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it as GTIN-14 (left zero-padded).

    GS1 defines the shorter GTINs as right-aligned in a 14-digit field, so padding is
    lossless and the check digit stays valid; one width keeps one lot key per lot.
    """
    if not isinstance(gtin, str):
        raise IdentifierError(f"GTIN must be a string of digits, got {type(gtin).__name__}")
    return _normalize_gtin(gtin)


@lru_cache(maxsize=4096)
def _normalize_gtin(gtin: str) -> str:
    return _check_gs1_key(gtin, (8, 12, 13, 14), "GTIN").zfill(14)


def is_valid_gtin(gtin: object) -> bool:
    """True if ``gtin`` is a GTIN-8/12/13/14 with a valid check digit."""
    try:
        normalize_gtin(gtin)  # type: ignore[arg-type]
    except IdentifierError:
        return False
    return True


def validate_gln(gln: str) -> str:
    """Validate a GLN (13 digits, check digit) and return it."""
    return _check_gs1_key(gln, (13,), "GLN")


def validate_sscc(sscc: str) -> str:
    """Validate an SSCC (18 digits, check digit) and return it."""
    return _check_gs1_key(sscc, (18,), "SSCC")


def validate_lot(lot: str) -> str:
    """Validate a lot number against GS1 AI 10: 1-20 characters of CSET 82.

    Lot numbers are case-sensitive and never trimmed or normalised: what the producer
    prints on the bag is the identifier.
    """
    if not isinstance(lot, str):
        raise IdentifierError(f"lot number must be a string, got {type(lot).__name__}")
    if not lot:
        raise IdentifierError("lot number is empty")
    if len(lot) > LOT_MAX_LENGTH:
        raise IdentifierError(
            f"lot number has {len(lot)} characters; GS1 AI 10 allows at most {LOT_MAX_LENGTH}"
        )
    bad = sorted({ch for ch in lot if ch not in CSET82})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad[:5])
        raise IdentifierError(
            f"lot number contains {shown}, outside the GS1 AI 10 character set (CSET 82)"
        )
    return lot


def encode_lot(lot: str) -> str:
    """Percent-encode a (valid) lot number for a Digital Link path, canonically."""
    return "".join(ch if ch in _UNRESERVED else f"%{ord(ch):02X}" for ch in lot)


def lot_path(gtin: str, lot: str) -> str:
    """``/01/{gtin14}/10/{lot}``: the canonical GS1 Digital Link path of a lot."""
    return f"/01/{normalize_gtin(gtin)}/10/{encode_lot(validate_lot(lot))}"


def lot_key(gtin: str, lot: str) -> bytes:
    """``keccak256(utf8(lot_path(gtin, lot)))``: the lot's 32-byte on-chain key."""
    if not isinstance(gtin, str) or not isinstance(lot, str):
        raise IdentifierError("GTIN and lot number must be strings")
    return _lot_key(gtin, lot)


@lru_cache(maxsize=65536)
def _lot_key(gtin: str, lot: str) -> bytes:
    return sha3.keccak_256(lot_path(gtin, lot).encode("ascii")).digest()


def check_digital_link_base(base: str) -> str:
    """Validate an http(s) Digital Link base (host and optional path prefix); strip a final '/'."""
    if not isinstance(base, str):
        raise IdentifierError("Digital Link base URI must be a string")
    parts = urlsplit(base)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise IdentifierError(f"Digital Link base must be an http(s) URI, got {base!r}")
    if parts.query or parts.fragment or "?" in base or "#" in base:
        raise IdentifierError("Digital Link base must not carry a query or fragment")
    return base.rstrip("/")


def digital_link_uri(base: str, gtin: str, lot: str) -> str:
    """The lot's GS1 Digital Link URI, e.g. ``https://id.example/01/0893…/10/L1``."""
    return check_digital_link_base(base) + lot_path(gtin, lot)


def _decode_segment(segment: str, what: str) -> str:
    out = bytearray()
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "%":
            pair = segment[i + 1 : i + 3]
            if not _HEX2.fullmatch(pair):
                raise IdentifierError(
                    f"{what} has a bad percent-escape near {segment[i : i + 3]!r}"
                )
            out.append(int(pair, 16))
            i += 3
            continue
        if ch not in _PCHAR:
            raise IdentifierError(f"{what} contains {ch!r}, which must be percent-encoded")
        out.append(ord(ch))
        i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IdentifierError(f"{what} does not decode to UTF-8") from exc


def parse_digital_link(uri: str) -> tuple[str, str]:
    """``(gtin14, lot)`` of a lot-level GS1 Digital Link URI (any host and path prefix).

    The URI must end its path with ``/01/{gtin}/10/{lot}``; a query string (GS1 link
    types, data attributes) and a fragment are allowed and ignored. Serial-level
    (``/21/``) and other keys are refused: the node identifies lots, not items.
    """
    if not isinstance(uri, str):
        raise IdentifierError("Digital Link URI must be a string")
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise IdentifierError(f"not an http(s) Digital Link URI: {uri[:120]!r}")
    segments = parts.path.split("/")
    # A lot-level path ends with: "", ..., "01", gtin, "10", lot
    if len(segments) < 5 or segments[-4] != "01" or segments[-2] != "10":
        raise IdentifierError(
            "Digital Link path must end with /01/{gtin}/10/{lot} (a lot-level GS1 key)"
        )
    gtin = normalize_gtin(_decode_segment(segments[-3], "GTIN"))
    lot = validate_lot(_decode_segment(segments[-1], "lot number"))
    return gtin, lot
