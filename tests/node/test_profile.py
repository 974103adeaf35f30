"""Product profiles: the bundled default, loading by name or path, refusals."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from vntrace.node.profile import (
    CBV_BIZ_STEPS,
    CBV_DISPOSITIONS,
    DEFAULT_PROFILE,
    Profile,
    ProfileError,
    available_profiles,
    default_profile,
    load_profile,
    parse_profile,
)
from vntrace.node.records import RecordError, is_valid_gtin

PEPPER = Path(__file__).resolve().parent / "profiles" / "pepper-vn.json"


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return json.loads(PEPPER.read_text(encoding="utf-8"))


def test_default_profile_is_robusta(tmp_path: Path) -> None:
    p = default_profile()
    assert p.id == DEFAULT_PROFILE == "robusta-vn"
    assert p.name == {"vi": "Cà phê Robusta Việt Nam", "en": "Vietnamese Robusta coffee"}
    assert p.gtins and all(len(g) == 14 and is_valid_gtin(g) for g in p.gtins)
    assert p.digital_link_base == "https://id.vntrace.example"
    assert list(p.kinds) == [
        "harvest",
        "drying",
        "hulling",
        "roasting",
        "packing",
        "shipping",
        "receiving",
        "recall",
        "regulatory_notification",
    ]
    assert default_profile() is p  # bundled profiles are cached
    assert DEFAULT_PROFILE in available_profiles()


def test_every_kind_uses_cbv_vocabulary() -> None:
    for name, kind in default_profile().kinds.items():
        assert kind.biz_step in CBV_BIZ_STEPS, name
        assert kind.disposition in CBV_DISPOSITIONS, name
        assert kind.label.keys() >= {"vi", "en"}


def test_harvest_declares_eudr_fields() -> None:
    p = default_profile()
    assert p.required_fields("harvest") == (
        "countryOfProduction",
        "geolocation",
        "plotAreaHa",
        "harvestDate",
        "quantity",
        "producer",
    )
    assert "eventId" in p.optional_fields("harvest")  # common fields apply to every kind
    assert p.private_fields("harvest") == ("farmer",)
    geo = p.fields_of("harvest")["geolocation"]
    assert geo.type == "geojson" and geo.max_decimals == 6
    assert p.fields_of("harvest")["countryOfProduction"].allowed == ("VN",)
    rule = p.kinds["harvest"].rules[0]
    assert (rule.type, rule.max_point_area_ha) == ("plotGeometry", 4.0)


def test_units_are_unece_rec20_with_factors() -> None:
    units = default_profile().units
    assert units["TNE"].factor == 1000 and units["KGM"].dimension == "mass"
    assert units["H87"].dimension == "count"


def test_load_by_path_str_and_pathlike() -> None:
    assert load_profile(PEPPER).id == "pepper-vn"
    assert load_profile(str(PEPPER)).gtins == ("08936099001012",)
    assert load_profile(PEPPER).digital_link_base == "https://pepper.example/dl"


def test_profile_is_immutable() -> None:
    with pytest.raises(pydantic.ValidationError):
        default_profile().id = "other"  # type: ignore[misc]


def test_unknown_name_lists_available() -> None:
    with pytest.raises(ProfileError, match=r"no bundled profile named 'cashew-vn'.*robusta-vn"):
        load_profile("cashew-vn")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(tmp_path / "none.json")
    assert issubclass(ProfileError, RecordError)


def test_duplicate_keys_in_a_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{"id": "a", "id": "b"}', encoding="utf-8")
    with pytest.raises(ProfileError, match="duplicate key 'id'"):
        load_profile(path)


def broken(raw: dict[str, Any], edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    edit(data)
    return data


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda d: d.update(gtins=["08936099001013"]), "check digit"),
        (lambda d: d.update(gtins=[]), "gtins"),
        (lambda d: d.update(id="Pepper VN"), "lowercase"),
        (lambda d: d["name"].pop("vi"), "Vietnamese and English"),
        (lambda d: d.update(digitalLinkBase="pepper.example"), "http"),
        (lambda d: d["kinds"]["grading"].update(bizStep="grading"), "CBV 2.0 business step"),
        (lambda d: d["kinds"]["grading"].update(disposition="good"), "CBV 2.0 disposition"),
        (lambda d: d["kinds"]["sterilizing"].update(action="ADD"), "has no action"),
        (lambda d: d["kinds"]["grading"].pop("action"), "needs an action"),
        (lambda d: d["kinds"]["grading"].update(eventType="Event"), "eventType"),
        (lambda d: d["kinds"]["grading"]["fields"].update(kind={"type": "string"}), "reserved"),
        (
            lambda d: d["kinds"]["grading"]["fields"].update(**{"ext:x": {"type": "string"}}),
            "reserved or malformed",
        ),
        (lambda d: d["kinds"]["grading"]["fields"].update(x={"type": "decimal"}), "decimal"),
        (lambda d: d["kinds"]["grading"]["fields"]["grade"].update(requird=True), "requird"),
        (
            lambda d: d["kinds"]["grading"]["fields"].update(note={"type": "string"}),
            "repeat commonFields",
        ),
        (
            lambda d: d["kinds"]["harvest"]["rules"].append(
                {"type": "dateOrder", "fields": ["harvestDate", "nope"]}
            ),
            "'nope' is not a DateField/DateTimeField field of harvest",
        ),
        (
            lambda d: d["kinds"]["sterilizing"]["rules"][0].update(than="note"),
            "'note' is not a QuantityField",
        ),
        (lambda d: d["kinds"]["harvest"]["rules"].append({"type": "massBalance"}), "massBalance"),
        (
            lambda d: d["units"].update(kg={"name": "kg", "dimension": "mass", "factor": 1}),
            "UN/ECE",
        ),
        (lambda d: d["units"]["TNE"].update(factor=0), "greater than 0"),
        (
            lambda d: d["kinds"]["harvest"]["fields"]["quantity"].update(dimension="volume"),
            "no unit of dimension volume",
        ),
        (
            lambda d: d["kinds"]["harvest"]["fields"]["countryOfProduction"].update(
                allowed=["VNM"]
            ),
            "ISO 3166-1",
        ),
        (lambda d: d["kinds"]["grading"]["fields"]["grade"].update(pattern="("), "pattern"),
        (lambda d: d["kinds"].update(Bad=d["kinds"]["grading"]), "lowercase words"),
    ],
)
def test_invalid_profiles_are_refused_with_the_place(
    raw: dict[str, Any], edit: Any, why: str
) -> None:
    with pytest.raises(ProfileError, match="profile test is invalid") as info:
        parse_profile(broken(raw, edit), "test")
    assert why in str(info.value)


def test_parse_profile_roundtrip(raw: dict[str, Any]) -> None:
    p = parse_profile(raw)
    assert isinstance(p, Profile)
    again = parse_profile(p.model_dump(by_alias=True, exclude_none=True))
    assert again == p
    assert p.accepts_gtin("8936099001012") and not p.accepts_gtin("123")
