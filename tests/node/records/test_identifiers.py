"""GTIN, lot number, Digital Link and lot key."""

from __future__ import annotations

import eth_utils
import pytest
import sha3

from vntrace.node.records import (
    IdentifierError,
    digital_link_uri,
    encode_lot,
    gs1_check_digit,
    is_valid_gtin,
    lot_key,
    lot_path,
    normalize_gtin,
    parse_digital_link,
    validate_gln,
    validate_lot,
    validate_sscc,
)
from vntrace.node.records.identifiers import COUNTRY_CODES, CSET82


def test_check_digit_of_published_examples() -> None:
    # GS1 General Specifications examples and a well-known retail barcode.
    assert gs1_check_digit("629104150021") == 3  # GTIN-13 6291041500213
    assert gs1_check_digit("0001234567890") == 5  # GTIN-14 00012345678905
    assert gs1_check_digit("950600013435") == 2  # GS1 Digital Link sample GTIN 9506000134352


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("08936099000015", "08936099000015"),
        ("8936099000015", "08936099000015"),  # GTIN-13
        ("614141000036", "00614141000036"),  # GTIN-12 (UPC-A)
        ("96385074", "00000096385074"),  # GTIN-8
    ],
)
def test_normalize_gtin_pads_to_14_digits(raw: str, gtin14: str) -> None:
    assert normalize_gtin(raw) == gtin14
    assert is_valid_gtin(raw)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("08936099000016", "wrong check digit"),
        ("0893609900", "must be 8/12/13/14 digits"),
        ("0893609900001X", "must be 8/12/13/14 digits"),
        ("", "must be 8/12/13/14 digits"),
        (8936099000015, "must be a string"),
        (["08936099000015"], "must be a string"),
    ],
)
def test_bad_gtins(raw: object, why: str) -> None:
    with pytest.raises(IdentifierError, match=why):
        normalize_gtin(raw)  # type: ignore[arg-type]
    assert not is_valid_gtin(raw)


def test_gln_and_sscc_check_digits() -> None:
    assert validate_gln("8936099000008") == "8936099000008"
    assert validate_sscc("089360990000000015") == "089360990000000015"
    with pytest.raises(IdentifierError, match="check digit"):
        validate_gln("8936099000009")
    with pytest.raises(IdentifierError, match="18 digits"):
        validate_sscc("8936099000008")


def test_cset82_has_82_characters_and_country_list_249() -> None:
    assert len(CSET82) == 82
    assert len(COUNTRY_CODES) == 249 and "VN" in COUNTRY_CODES


@pytest.mark.parametrize(
    ("lot", "why"),
    [
        ("", "empty"),
        ("A" * 21, "at most 20"),
        ("LÔ-1", "outside the GS1 AI 10 character set"),
        ("LOT 1", "outside the GS1 AI 10 character set"),
        ("LOT#1", "outside the GS1 AI 10 character set"),
        ("LOT~1", "outside the GS1 AI 10 character set"),
    ],
)
def test_bad_lot_numbers(lot: str, why: str) -> None:
    with pytest.raises(IdentifierError, match=why):
        validate_lot(lot)


def test_lot_key_refuses_non_strings() -> None:
    with pytest.raises(IdentifierError, match="must be strings"):
        lot_key("08936099000015", ["L1"])  # type: ignore[arg-type]


def test_lot_numbers_are_case_sensitive_and_kept_verbatim() -> None:
    assert validate_lot("a" * 20) == "a" * 20
    assert lot_key("08936099000015", "lot1") != lot_key("08936099000015", "LOT1")


def test_lot_percent_encoding_is_canonical() -> None:
    # Everything outside RFC 3986 "unreserved" is %XX with upper-case hex, as GS1's own
    # syntax engine writes it; unreserved characters are never encoded.
    assert encode_lot("EA-2024/11") == "EA-2024%2F11"
    assert encode_lot("A_b.9-") == "A_b.9-"
    everything = "".join(sorted(CSET82))
    encoded = encode_lot(everything)
    assert "%2f" not in encoded and "%2F" in encoded and "%25" in encoded
    assert lot_path("8936099000015", "EA-2024/11") == "/01/08936099000015/10/EA-2024%2F11"


def test_lot_key_known_answer() -> None:
    path = b"/01/08936099000015/10/EA-2024%2F11"
    expected = sha3.keccak_256(path).digest()
    assert expected == eth_utils.keccak(path)  # an independent keccak implementation
    assert lot_key("08936099000015", "EA-2024/11") == expected
    assert lot_key("8936099000015", "EA-2024/11") == expected  # GTIN-13 pads to the same key
    assert expected.hex() == "8978eeb99b423ac514ad25d28b99bb3776cdf3e98b4999a7596210ad2f5bdc9d"


def test_digital_link_roundtrip() -> None:
    uri = digital_link_uri("https://id.vntrace.example/", "8936099000015", "EA-2024/11")
    assert uri == "https://id.vntrace.example/01/08936099000015/10/EA-2024%2F11"
    assert parse_digital_link(uri) == ("08936099000015", "EA-2024/11")


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.vntrace.example/01/08936099000015/10/EA-2024%2f11",  # lower-case hex
        "https://example.com/some/prefix/01/08936099000015/10/EA-2024%2F11?linkType=all#x",
        "http://EXAMPLE.com/01/8936099000015/10/EA-2024%2F11",  # zero-suppressed GTIN-13
    ],
)
def test_parse_digital_link_accepts_variants(uri: str) -> None:
    assert parse_digital_link(uri) == ("08936099000015", "EA-2024/11")


def test_parse_accepts_sub_delims_unencoded_and_reencodes() -> None:
    gtin, lot = parse_digital_link("https://x.example/01/08936099000015/10/A+B(1)")
    assert lot == "A+B(1)"
    assert lot_path(gtin, lot).endswith("/10/A%2BB%281%29")


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("ftp://x.example/01/08936099000015/10/L1", "http"),
        ("https://x.example/01/08936099000015", "must end with /01/"),
        ("https://x.example/01/08936099000015/10/L1/21/SER1", "must end with /01/"),
        ("https://x.example/01/08936099000016/10/L1", "check digit"),
        ("https://x.example/01/08936099000015/10/L%2", "percent-escape"),
        ("https://x.example/01/08936099000015/10/L%C3%94", "CSET 82"),
        ("https://x.example/01/08936099000015/10/", "empty"),
        ('https://x.example/01/08936099000015/10/L"1', "must be percent-encoded"),
    ],
)
def test_parse_digital_link_rejects(uri: str, why: str) -> None:
    with pytest.raises(IdentifierError, match=why):
        parse_digital_link(uri)


@pytest.mark.parametrize("base", ["id.vntrace.example", "https://x.example?a=1", "mailto:a@b"])
def test_bad_digital_link_base(base: str) -> None:
    with pytest.raises(IdentifierError):
        digital_link_uri(base, "08936099000015", "L1")
