"""Validation against the robusta-vn profile: one test per rule, path and message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from vntrace.node.profile import Profile
from vntrace.node.records import EventValidationError, FieldError, RecordError, validate_event
from vntrace.node.records.validation import MAX_ERRORS, parse_rfc3339

from .conftest import NOW, PLOT_POLYGON, sample_event


def errors(profile: Profile, event: Any, **kw: Any) -> list[FieldError]:
    with pytest.raises(EventValidationError) as info:
        validate_event(profile, event, now=kw.pop("now", NOW), **kw)
    return list(info.value.errors)


def one_error(profile: Profile, event: Any, path: str, code: str, fragment: str) -> FieldError:
    errs = errors(profile, event)
    assert [(e.path, e.code) for e in errs] == [(path, code)], errs
    assert fragment in errs[0].message, errs[0].message
    return errs[0]


# ---- classification ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "event_type", "action", "biz_step", "disposition"),
    [
        ("harvest", "ObjectEvent", "ADD", "commissioning", "active"),
        ("drying", "TransformationEvent", None, "other", "in_progress"),
        ("hulling", "TransformationEvent", None, "other", "in_progress"),
        ("roasting", "TransformationEvent", None, "other", "in_progress"),
        ("packing", "AggregationEvent", "ADD", "packing", "in_progress"),
        ("shipping", "ObjectEvent", "OBSERVE", "shipping", "in_transit"),
        ("receiving", "ObjectEvent", "OBSERVE", "receiving", "in_progress"),
        ("recall", "ObjectEvent", "OBSERVE", "other", "recalled"),
    ],
)
def test_each_kind_maps_to_epcis_and_cbv(
    robusta: Profile,
    kind: str,
    event_type: str,
    action: str | None,
    biz_step: str,
    disposition: str,
) -> None:
    v = validate_event(robusta, sample_event(kind), now=NOW)
    assert (v.kind, v.event_type, v.action, v.biz_step, v.disposition) == (
        kind,
        event_type,
        action,
        biz_step,
        disposition,
    )
    assert v.event_time.utcoffset() is not None


def test_validated_event_carries_canonical_bytes_and_private_fields(robusta: Profile) -> None:
    v = validate_event(robusta, sample_event("shipping"), now=NOW)
    assert v.canonical.startswith(b'{"buyer":')
    assert v.private_fields == ("buyer", "price") and v.committed_fields == ()


def test_echoed_epcis_classification_must_match(robusta: Profile) -> None:
    event = sample_event("harvest") | {"type": "ObjectEvent", "bizStep": "commissioning"}
    validate_event(robusta, event, now=NOW)
    one_error(robusta, event | {"bizStep": "harvesting"}, "bizStep", "mismatch", "'commissioning'")
    one_error(robusta, event | {"action": "OBSERVE"}, "action", "mismatch", "'ADD'")
    one_error(robusta, event | {"disposition": "active "}, "disposition", "mismatch", "active")


# ---- kind and time -----------------------------------------------------------------------


def test_event_must_be_an_object(robusta: Profile) -> None:
    errs = errors(robusta, [1, 2])
    assert errs == [FieldError("", "an event is a JSON object, not an array", "type")]


def test_non_string_keys_and_naive_clock(robusta: Profile) -> None:
    errs = errors(robusta, sample_event("recall") | {7: "x"})
    assert [(e.path, e.code) for e in errs] == [("", "json")]
    with pytest.raises(RecordError, match="timezone-aware"):
        validate_event(robusta, sample_event("recall"), now=NOW.replace(tzinfo=None))


def test_missing_kind(robusta: Profile) -> None:
    event = sample_event("recall")
    del event["kind"]
    one_error(robusta, event, "kind", "required", "one of: harvest, drying")


def test_unknown_kind_lists_known_kinds(robusta: Profile) -> None:
    event = {"kind": "sterilizing", "eventTime": "2024-11-02T07:30:00+07:00"}
    err = one_error(robusta, event, "kind", "unknown_kind", "unknown event kind 'sterilizing'")
    assert "recall" in err.message


def test_missing_event_time(robusta: Profile) -> None:
    event = sample_event("recall")
    del event["eventTime"]
    one_error(robusta, event, "eventTime", "required", "RFC 3339")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2024-11-02T07:30:00", "needs a UTC offset"),
        ("2024-11-02 07:30:00+07:00", "not an RFC 3339 date-time"),
        ("2024-11-02", "not an RFC 3339 date-time"),
        ("2024-02-30T07:30:00Z", "no such date or time"),
        ("2024-11-02T24:00:00Z", "no such date or time"),
        ("2016-12-31T23:59:60Z", "leap seconds"),
        ("2024-11-02T07:30:00+24:00", "out of range"),
        (1730507400, "expected an RFC 3339 date-time string"),
    ],
)
def test_bad_event_time(robusta: Profile, value: object, fragment: str) -> None:
    event = sample_event("recall") | {"eventTime": value}
    err = errors(robusta, event)
    assert [e.path for e in err] == ["eventTime"] and fragment in err[0].message


def test_rfc3339_variants() -> None:
    assert parse_rfc3339("2024-11-02T00:30:00Z") == parse_rfc3339("2024-11-02T07:30:00+07:00")
    assert parse_rfc3339("2024-11-02T07:30:00.123456789+07:00").microsecond == 123456
    assert parse_rfc3339("2024-11-01T19:30:00-05:00").utcoffset() == timedelta(hours=-5)


def test_event_time_in_the_future_beyond_clock_skew(robusta: Profile) -> None:
    ok = sample_event("recall") | {"eventTime": "2024-11-20T03:04:59Z"}  # NOW + 299 s
    validate_event(robusta, ok, now=NOW)
    late = sample_event("recall") | {"eventTime": "2024-11-20T10:10:00+07:00"}  # NOW + 600 s
    one_error(robusta, late, "eventTime", "future", "600 s in the future")


# ---- fields: presence, unknowns, extensions ----------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["countryOfProduction", "geolocation", "plotAreaHa", "harvestDate", "quantity", "producer"],
)
def test_missing_required_field(robusta: Profile, name: str) -> None:
    event = sample_event("harvest")
    del event[name]
    one_error(robusta, event, name, "required", "required for harvest events")


def test_unknown_field_suggests_the_close_name_and_the_extension_form(robusta: Profile) -> None:
    event = sample_event("harvest") | {"plotArea": 1.8}
    err = one_error(robusta, event, "plotArea", "unknown_field", "did you mean 'plotAreaHa'?")
    assert "'ext:plotArea'" in err.message


def test_field_of_another_kind_is_unknown(robusta: Profile) -> None:
    one_error(
        robusta,
        sample_event("recall") | {"roastLevel": "dark"},
        "roastLevel",
        "unknown_field",
        "unknown field for recall events",
    )


def test_namespaced_extensions_are_accepted_with_any_json_value(robusta: Profile) -> None:
    event = sample_event("harvest") | {
        "ext:certificate": {"scheme": "4C", "id": "4C-123", "valid": True},
        "acme:batchRef": [1, 2.5, None],
    }
    validate_event(robusta, event, now=NOW)


def test_extension_values_must_still_be_canonicalizable(robusta: Profile) -> None:
    event = sample_event("recall") | {"ext:reading": {"value": float("nan")}}
    one_error(robusta, event, "ext:reading.value", "json", "no JSON form")
    event = sample_event("recall") | {"ext:big": 2**60 + 1}
    one_error(robusta, event, "ext:big", "json", "2^53")


def test_common_fields_apply_to_every_kind(robusta: Profile) -> None:
    event = sample_event("recall") | {
        "eventId": "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        "location": "8936099000008",
        "note": "phone call from importer",
    }
    validate_event(robusta, event, now=NOW)
    one_error(robusta, event | {"eventId": "0f8fad5b"}, "eventId", "pattern", "urn:uuid")
    one_error(
        robusta, event | {"location": "8936099000001"}, "location", "identifier", "check digit"
    )


# ---- scalar types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "value", "code", "fragment"),
    [
        ("harvest", "plotAreaHa", "1.8", "type", "expected a finite number, got a string"),
        ("harvest", "plotAreaHa", True, "type", "expected a finite number, got a boolean"),
        ("harvest", "plotAreaHa", 0, "range", "must be greater than 0"),
        ("drying", "moisturePercent", 101, "range", "above the maximum 100"),
        ("drying", "moisturePercent", -1, "range", "below the minimum 0"),
        ("packing", "packageCount", 20.5, "type", "expected an integer"),
        ("packing", "packageCount", 0, "range", "below the minimum 1"),
        ("receiving", "conditionOk", "yes", "type", "expected true or false"),
        ("harvest", "harvestDate", "28/10/2024", "date", "YYYY-MM-DD"),
        ("harvest", "harvestDate", "2024-02-30", "date", "not a calendar date"),
        ("drying", "method", "oven", "enum", "not one of: sun, raised_bed, mechanical"),
        ("shipping", "containerNumber", "MSCU12", "pattern", "does not match"),
        ("recall", "reason", "", "length", "must not be empty"),
        ("recall", "reason", "x" * 1001, "length", "at most 1000"),
        ("recall", "reason", None, "type", "expected a string, got null"),
        ("packing", "sscc", "089360990000000016", "identifier", "check digit"),
    ],
)
def test_scalar_field_types(
    robusta: Profile, kind: str, name: str, value: object, code: str, fragment: str
) -> None:
    one_error(robusta, sample_event(kind) | {name: value}, name, code, fragment)


def test_integral_float_is_an_integer(robusta: Profile) -> None:
    validate_event(robusta, sample_event("packing") | {"packageCount": 20.0}, now=NOW)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("vn", "did you mean 'VN'?"),
        ("VNM", "not an ISO 3166-1 alpha-2 code"),
        ("XX", "not an ISO 3166-1 alpha-2 code"),
        ("TH", "not allowed here (allowed: VN)"),
    ],
)
def test_country_of_production(robusta: Profile, value: str, fragment: str) -> None:
    one_error(
        robusta,
        sample_event("harvest") | {"countryOfProduction": value},
        "countryOfProduction",
        "country",
        fragment,
    )


# ---- quantities, money, parties ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "path", "code", "fragment"),
    [
        (5200, "quantity", "unit", "a quantity needs a unit"),
        ({"value": 5200}, "quantity.unit", "unit", "needs a unit"),
        ({"value": 5200, "unit": "kg"}, "quantity.unit", "unit", "did you mean 'KGM'?"),
        ({"value": 5200, "unit": "XYZ"}, "quantity.unit", "unit", "allowed UN/ECE Rec. 20"),
        ({"value": 5200, "unit": "H87"}, "quantity.unit", "unit", "not a unit of mass"),
        ({"value": 0, "unit": "KGM"}, "quantity.value", "range", "greater than 0"),
        ({"value": -3, "unit": "KGM"}, "quantity.value", "range", "greater than 0"),
        ({"value": "5200", "unit": "KGM"}, "quantity.value", "type", "finite number"),
        ({"unit": "KGM"}, "quantity.value", "required", "missing"),
        ({"value": 1, "unit": "KGM", "uom": "KGM"}, "quantity.uom", "unknown_field", "allowed"),
    ],
)
def test_quantities_always_carry_a_known_unit(
    robusta: Profile, value: object, path: str, code: str, fragment: str
) -> None:
    one_error(robusta, sample_event("harvest") | {"quantity": value}, path, code, fragment)


@pytest.mark.parametrize(
    ("value", "path", "code", "fragment"),
    [
        ({"amount": 5150.0, "currency": "USD"}, "price.amount", "type", "decimal string"),
        ({"amount": "5,150", "currency": "USD"}, "price.amount", "type", "decimal string"),
        ({"amount": "-1", "currency": "USD"}, "price.amount", "type", "decimal string"),
        ({"amount": "5150", "currency": "usd"}, "price.currency", "type", "ISO 4217"),
        ({"amount": "5150", "currency": "JPY"}, "price.currency", "enum", "VND, USD, EUR"),
        ({"amount": "5150"}, "price.currency", "required", "missing"),
    ],
)
def test_money(robusta: Profile, value: object, path: str, code: str, fragment: str) -> None:
    one_error(robusta, sample_event("shipping") | {"price": value}, path, code, fragment)


@pytest.mark.parametrize(
    ("value", "path", "code"),
    [
        ({"gln": "8936099000008"}, "shipper.name", "required"),
        ({"name": " "}, "shipper.name", "type"),
        ({"name": "A", "gln": "123"}, "shipper.gln", "identifier"),
        ({"name": "A", "email": "a@b.c"}, "shipper.email", "unknown_field"),
        ("Simexco", "shipper", "type"),
    ],
)
def test_party(robusta: Profile, value: object, path: str, code: str) -> None:
    errs = errors(robusta, sample_event("shipping") | {"shipper": value})
    assert [(e.path, e.code) for e in errs] == [(path, code)]


# ---- geolocation (EUDR) --------------------------------------------------------------------


def harvest_with(geometry: object, area: float = 1.8) -> dict[str, Any]:
    return sample_event("harvest") | {"geolocation": geometry, "plotAreaHa": area}


def test_point_is_enough_up_to_4_ha(robusta: Profile) -> None:
    validate_event(
        robusta, harvest_with({"type": "Point", "coordinates": [108.5, 12.5]}, 4), now=NOW
    )


def test_point_for_a_plot_over_4_ha_needs_a_polygon(robusta: Profile) -> None:
    event = harvest_with({"type": "Point", "coordinates": [108.5, 12.5]}, 4.01)
    one_error(robusta, event, "geolocation", "geometry", "a plot of 4.01 ha needs a Polygon")


def test_polygon_is_accepted_for_any_area(robusta: Profile) -> None:
    validate_event(robusta, harvest_with(PLOT_POLYGON, 120), now=NOW)
    validate_event(robusta, harvest_with(PLOT_POLYGON, 0.5), now=NOW)


def test_polygon_with_a_hole(robusta: Profile) -> None:
    hole = [[108.055, 12.685], [108.056, 12.685], [108.056, 12.686], [108.055, 12.685]]
    poly = {"type": "Polygon", "coordinates": [*PLOT_POLYGON["coordinates"], hole]}
    validate_event(robusta, harvest_with(poly, 120), now=NOW)


def ring(*positions: list[float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(positions)]}


@pytest.mark.parametrize(
    ("geometry", "path", "code", "fragment"),
    [
        (
            ring([108.1, 12.1], [108.2, 12.1], [108.2, 12.2], [108.1, 12.2]),
            "geolocation.coordinates[0]",
            "geometry",
            "not closed",
        ),
        (
            ring([108.1, 12.1], [108.2, 12.1], [108.1, 12.1]),
            "geolocation.coordinates[0]",
            "geometry",
            "at least 4 positions",
        ),
        (
            ring([108.1, 12.1], [108.2, 12.1], [108.2, 12.1], [108.1, 12.1]),
            "geolocation.coordinates[0]",
            "geometry",
            "encloses no area",
        ),
        (
            {"type": "Polygon", "coordinates": []},
            "geolocation.coordinates",
            "geometry",
            "non-empty array of linear rings",
        ),
        (
            ring([108.1, 12.1], [181.0, 12.1], [108.2, 12.2], [108.1, 12.1]),
            "geolocation.coordinates[0][1][0]",
            "range",
            "longitude 181.0 is out of range",
        ),
        (
            {"type": "Point", "coordinates": [12.5, 108.5]},
            "geolocation.coordinates[1]",
            "range",
            "[longitude, latitude]",
        ),
        (
            {"type": "Point", "coordinates": [108.1234567, 12.5]},
            "geolocation.coordinates[0]",
            "decimals",
            "7 decimals; round to 6",
        ),
        (
            {"type": "Point", "coordinates": [108.5, 12.5, 480]},
            "geolocation.coordinates",
            "geometry",
            "exactly two numbers",
        ),
        (
            {"type": "Point", "coordinates": ["108.5", 12.5]},
            "geolocation.coordinates[0]",
            "type",
            "longitude number",
        ),
        (
            {"type": "MultiPolygon", "coordinates": []},
            "geolocation.type",
            "geometry",
            "'MultiPolygon' is not accepted (use Point or Polygon)",
        ),
        (
            {"type": "Point"},
            "geolocation.coordinates",
            "required",
            "missing",
        ),
        (
            {"type": "Point", "coordinates": [108.5, 12.5], "bbox": [0, 0, 1, 1]},
            "geolocation.bbox",
            "unknown_field",
            "GeoJSON geometry",
        ),
    ],
)
def test_geojson_errors(
    robusta: Profile, geometry: object, path: str, code: str, fragment: str
) -> None:
    one_error(robusta, harvest_with(geometry, 10), path, code, fragment)


@pytest.mark.parametrize("coordinate", [108.123456, 108.1, 108, -0.000001, 1e-6])
def test_six_or_fewer_decimals_are_accepted(robusta: Profile, coordinate: float) -> None:
    validate_event(
        robusta, harvest_with({"type": "Point", "coordinates": [coordinate, 12.5]}), now=NOW
    )


def test_decimals_rule_applies_to_every_polygon_vertex(robusta: Profile) -> None:
    poly = ring([108.1, 12.1], [108.2, 12.1000001], [108.2, 12.2], [108.1, 12.1])
    one_error(
        robusta,
        harvest_with(poly, 10),
        "geolocation.coordinates[0][1][1]",
        "decimals",
        "round to 6",
    )


def test_polygon_size_limit(robusta: Profile) -> None:
    many = [[108 + i * 1e-6, 12.0] for i in range(10_001)] + [[108.0, 12.0]]
    errs = errors(robusta, harvest_with(ring(*many), 10))
    assert errs[0].path == "geolocation.coordinates" and "at most 10000" in errs[0].message


def test_error_count_is_capped(robusta: Profile) -> None:
    bad = [[108.1234567, 12.1234567]] * 200
    errs = errors(robusta, harvest_with(ring(*bad), 10))
    assert len(errs) == MAX_ERRORS + 1
    assert errs[-1].code == "truncated" and "more errors not shown" in errs[-1].message


# ---- cross-field rules -------------------------------------------------------------------


def test_harvest_end_before_start(robusta: Profile) -> None:
    event = sample_event("harvest") | {"harvestEndDate": "2024-10-27"}
    one_error(robusta, event, "harvestEndDate", "order", "before harvestDate (2024-10-28)")


def test_harvest_date_after_event_time(robusta: Profile) -> None:
    event = sample_event("harvest") | {"harvestDate": "2024-11-03", "harvestEndDate": "2024-11-04"}
    errs = errors(robusta, event)
    assert [(e.path, e.code) for e in errs] == [("eventTime", "order")]
    assert "before harvestDate (2024-11-03)" in errs[0].message


def test_event_time_date_is_its_local_date(robusta: Profile) -> None:
    # 2024-11-02T00:30+07:00 is still 2024-11-01 in UTC: the local calendar date counts.
    event = sample_event("harvest") | {
        "harvestDate": "2024-11-02",
        "harvestEndDate": "2024-11-02",
        "eventTime": "2024-11-02T00:30:00+07:00",
    }
    validate_event(robusta, event, now=NOW)


def test_mass_balance_with_unit_conversion(robusta: Profile) -> None:
    ok = sample_event("drying") | {"outputQuantity": {"value": 5200, "unit": "KGM"}}
    validate_event(robusta, ok, now=NOW)  # 5.2 TNE in, 5200 KGM out: equal is allowed
    bad = sample_event("drying") | {"outputQuantity": {"value": 5201, "unit": "KGM"}}
    one_error(
        robusta, bad, "outputQuantity", "balance", "5201 KGM is more than inputQuantity (5.2 TNE)"
    )


def test_rules_are_skipped_when_a_field_is_invalid(robusta: Profile) -> None:
    bad = sample_event("drying") | {"inputQuantity": {"value": 1, "unit": "kg"}}
    errs = errors(robusta, bad)
    assert [(e.path, e.code) for e in errs] == [("inputQuantity.unit", "unit")]


# ---- private fields ----------------------------------------------------------------------

COMMITMENT = {"commitment": "0x" + "ab" * 32}


def test_private_fields_modes(robusta: Profile) -> None:
    clear = sample_event("shipping")
    committed = clear | {"buyer": COMMITMENT, "price": COMMITMENT}
    validate_event(robusta, clear, now=NOW, private="plain")
    validate_event(robusta, committed, now=NOW, private="committed")
    v = validate_event(robusta, committed | {"price": clear["price"]}, now=NOW)  # either
    assert v.committed_fields == ("buyer",)

    errs = errors(robusta, clear, private="committed")
    assert [(e.path, e.code) for e in errs] == [
        ("buyer", "not_committed"),
        ("price", "not_committed"),
    ]
    errs = errors(robusta, committed, private="plain")
    assert [(e.path, e.code) for e in errs] == [("buyer", "committed"), ("price", "committed")]


def test_malformed_commitment(robusta: Profile) -> None:
    event = sample_event("shipping") | {"price": {"commitment": "0x" + "AB" * 32}}
    one_error(robusta, event, "price", "commitment", "64 lowercase hex digits")


def test_commitment_is_not_accepted_for_a_public_field(robusta: Profile) -> None:
    errs = errors(robusta, sample_event("shipping") | {"shipper": COMMITMENT})
    assert [(e.path, e.code) for e in errs] == [
        ("shipper.commitment", "unknown_field"),
        ("shipper.name", "required"),
    ]


# ---- all errors at once ------------------------------------------------------------------


def test_every_error_is_reported_in_one_go(robusta: Profile) -> None:
    event = {
        "kind": "harvest",
        "eventTime": "2024-11-02T07:30:00",
        "countryOfProduction": "vn",
        "geolocation": {"type": "Point", "coordinates": [108.1234567, 95]},
        "plotAreaHa": 10,
        "harvestDate": "2024-10-28",
        "quantity": 5200,
        "producer": {"name": "HTX"},
        "colour": "red",
    }
    errs = errors(robusta, event)
    assert [e.path for e in errs] == [
        "eventTime",
        "countryOfProduction",
        "geolocation.coordinates[0]",
        "geolocation.coordinates[1]",
        "quantity",
        "colour",
    ]
    message = str(EventValidationError(errs))
    assert message.startswith("6 invalid fields: eventTime:")
    assert EventValidationError(errs).to_dicts()[1] == {
        "path": "countryOfProduction",
        "message": "'vn' is not an ISO 3166-1 alpha-2 code (did you mean 'VN'?)",
        "code": "country",
    }
