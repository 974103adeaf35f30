"""A second product (black pepper) proves the node is configured, not hard-coded."""

from __future__ import annotations

from typing import Any

import pytest

from vntrace.node.profile import Profile
from vntrace.node.records import (
    EventValidationError,
    IdentifierError,
    digital_link_uri,
    prepare_record,
    validate_event,
)

from .conftest import NOW, sample_event


def pepper_harvest(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "harvest",
        "eventTime": "2024-03-02T07:30:00+07:00",
        "countryOfProduction": "VN",
        "harvestDate": "2024-03-01",
        "quantity": {"value": 800, "unit": "KGM"},
        "grower": {"name": "Nguyễn Văn Tư, Chư Sê"},
        **extra,
    }


def codes(profile: Profile, event: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(EventValidationError) as info:
        validate_event(profile, event, now=NOW)
    return [(e.path, e.code) for e in info.value.errors]


def test_pepper_kinds_differ_from_coffee(robusta: Profile, pepper: Profile) -> None:
    grading = {
        "kind": "grading",
        "eventTime": "2024-03-10T09:00:00+07:00",
        "densityGramsPerLitre": 550,
        "grade": "550GL",
        "moisturePercent": 12.5,
    }
    v = validate_event(pepper, grading, now=NOW)
    assert (v.event_type, v.action, v.biz_step, v.disposition) == (
        "ObjectEvent",
        "OBSERVE",
        "inspecting",
        "conformant",
    )
    assert codes(robusta, grading) == [("kind", "unknown_kind")]
    assert codes(pepper, sample_event("roasting")) == [("kind", "unknown_kind")]


def test_pepper_harvest_needs_no_geolocation_but_coffee_does(
    robusta: Profile, pepper: Profile
) -> None:
    validate_event(pepper, pepper_harvest(), now=NOW)
    coffee = sample_event("harvest")
    del coffee["geolocation"]
    assert codes(robusta, coffee) == [("geolocation", "required")]


def test_pepper_geolocation_is_point_only_with_five_decimals(pepper: Profile) -> None:
    validate_event(
        pepper, pepper_harvest(geolocation={"type": "Point", "coordinates": [108.1, 13.7]}), now=NOW
    )
    point6 = pepper_harvest(geolocation={"type": "Point", "coordinates": [108.123456, 13.7]})
    assert codes(pepper, point6) == [("geolocation.coordinates[0]", "decimals")]
    polygon = pepper_harvest(
        geolocation={
            "type": "Polygon",
            "coordinates": [[[108.1, 13.7], [108.2, 13.7], [108.2, 13.8], [108.1, 13.7]]],
        }
    )
    assert codes(pepper, polygon) == [("geolocation.type", "geometry")]


def test_country_allow_lists_differ(robusta: Profile, pepper: Profile) -> None:
    validate_event(pepper, pepper_harvest(countryOfProduction="KH"), now=NOW)
    coffee = sample_event("harvest") | {"countryOfProduction": "KH"}
    assert codes(robusta, coffee) == [("countryOfProduction", "country")]


def test_units_differ(robusta: Profile, pepper: Profile) -> None:
    validate_event(
        robusta, sample_event("harvest") | {"quantity": {"value": 1, "unit": "LBR"}}, now=NOW
    )
    assert codes(pepper, pepper_harvest(quantity={"value": 1, "unit": "LBR"})) == [
        ("quantity.unit", "unit")
    ]


def test_private_and_required_fields_differ(robusta: Profile, pepper: Profile) -> None:
    assert pepper.private_fields("shipping") == ("price",)
    assert robusta.private_fields("shipping") == ("buyer", "price")
    shipping = {
        "kind": "shipping",
        "eventTime": "2024-03-20T09:00:00+07:00",
        "quantity": {"value": 18, "unit": "TNE"},
        "destinationCountry": "IN",
        "buyer": {"name": "Kochi Spice Traders"},
    }
    assert codes(pepper, shipping) == [("price", "required")]
    priced = shipping | {"price": {"amount": "4200", "currency": "EUR"}}
    assert codes(pepper, priced) == [("price.currency", "enum")]


def test_clock_skew_differs(robusta: Profile, pepper: Profile) -> None:
    event = pepper_harvest(eventTime="2024-11-20T03:02:00Z", harvestDate="2024-11-19")  # NOW+120s
    assert codes(pepper, event) == [("eventTime", "future")]
    recall = sample_event("recall") | {"eventTime": "2024-11-20T03:02:00Z"}
    validate_event(robusta, recall, now=NOW)


def test_gtins_and_digital_link_base_come_from_the_profile(
    robusta: Profile, pepper: Profile
) -> None:
    assert pepper.gtins == ("08936099001012",)
    assert digital_link_uri(pepper.digital_link_base, pepper.gtins[0], "P1") == (
        "https://pepper.example/dl/01/08936099001012/10/P1"
    )
    prepare_record(pepper, "8936099001012", "P1", pepper_harvest(), now=NOW)
    with pytest.raises(IdentifierError, match="not a product of profile pepper-vn"):
        prepare_record(pepper, robusta.gtins[0], "P1", pepper_harvest(), now=NOW)
