"""The EU plot rules: each good or bad plot gets the right verdict, with where."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import box

from vntrace.node.eudr.geometry import (
    GeometryRules,
    check_geometry,
    geodesic_area_ha,
    load_boundaries,
    simplified,
    to_shape,
)

# The demo's polygon plot: about 255 m x 254 m in Đắk Lắk, 6.49 ha on the ellipsoid.
SQUARE = [
    [108.061234, 12.691234],
    [108.063584, 12.691234],
    [108.063584, 12.693534],
    [108.061234, 12.693534],
    [108.061234, 12.691234],
]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}
POINT = {"type": "Point", "coordinates": [108.051234, 12.681234]}
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [108.061234, 12.691234],
            [108.063584, 12.693534],
            [108.063584, 12.691234],
            [108.061234, 12.693534],
            [108.061234, 12.691234],
        ]
    ],
}
HOLE = [
    [108.062001, 12.692001],
    [108.062501, 12.692001],
    [108.062501, 12.692501],
    [108.062001, 12.692001],
]
SHIFTED = [[round(x + 0.004001, 6), y] for x, y in SQUARE]


def rules_of(issues: list[Any]) -> list[str]:
    return [i.rule for i in issues]


def test_demo_polygon_area_is_geodesic() -> None:
    assert geodesic_area_ha(to_shape(POLYGON)) == pytest.approx(6.4947, abs=1e-3)


@pytest.mark.parametrize(
    ("geometry", "area", "expected"),
    [
        (POLYGON, 6.5, []),
        (POINT, 1.8, []),
        (POINT, 4.0, []),
        ({"type": "MultiPolygon", "coordinates": [[SQUARE], [SHIFTED]]}, 13.0, []),
        (BOW_TIE, 3.2, ["self_intersection"]),
        ({"type": "Polygon", "coordinates": [SQUARE, HOLE]}, 6.5, ["hole"]),
        ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, 6.5, ["unclosed_ring"]),
        (POINT, 4.5, ["point_over_4ha"]),
        ({"type": "Point", "coordinates": [12.681234, 108.051234]}, 1.8, ["range"]),
        ({"type": "Point", "coordinates": [108.05123, 12.68123]}, 1.8, ["too_few_decimals"]),
        ({"type": "Point", "coordinates": [108.0512345, 12.681234]}, 1.8, ["decimals"]),
        (POLYGON, 6.5 * 1.3, ["area_mismatch"]),
        (POLYGON, 6.5 * 0.7, ["area_mismatch"]),
        (
            {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]},
            13.0,
            ["self_intersection"],
        ),
        ({"type": "LineString", "coordinates": SQUARE}, 1.0, ["geometry_type"]),
        ("not geojson", 1.0, ["not_geojson"]),
    ],
    ids=[
        "polygon",
        "point",
        "point-4ha",
        "multipolygon",
        "bow-tie",
        "hole",
        "unclosed",
        "point-over-4ha",
        "swapped-axes",
        "5-decimals",
        "7-decimals",
        "area+30%",
        "area-30%",
        "multipolygon-overlap",
        "linestring",
        "string",
    ],
)
def test_verdicts(geometry: Any, area: float, expected: list[str]) -> None:
    assert rules_of(check_geometry(geometry, plot="P1", declared_area_ha=area)) == expected


def test_bow_tie_names_the_crossing() -> None:
    (issue,) = check_geometry(BOW_TIE, plot="EA-TU-042", declared_area_ha=3.2)
    assert issue.plot == "EA-TU-042"
    assert issue.where == pytest.approx([108.062409, 12.692384], abs=1e-6)
    assert "EA-TU-042" in str(issue) and "self_intersection" in str(issue)


def test_swapped_axes_hint() -> None:
    (issue,) = check_geometry({"type": "Point", "coordinates": [12.681234, 108.051234]}, plot="x")
    assert "axes swapped" in issue.message


def test_country_boundary_when_configured() -> None:
    boundaries = load_boundaries(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"iso2": "VN"},
                    "geometry": box(102.0, 8.0, 110.0, 23.5).__geo_interface__,
                }
            ],
        }
    )
    rules = GeometryRules(boundaries=boundaries)
    assert check_geometry(POINT, plot="a", country="VN", rules=rules) == []
    thai = {"type": "Point", "coordinates": [100.523186, 13.736717]}
    (issue,) = check_geometry(thai, plot="b", country="VN", rules=rules)
    assert issue.rule == "outside_country" and issue.where == [100.523186, 13.736717]
    # no boundary configured for the country: the rule does not apply
    assert check_geometry(thai, plot="b", country="TH", rules=rules) == []


def test_simplified_keeps_shape_and_six_decimals() -> None:
    out = simplified(POLYGON)
    assert out["type"] == "Polygon"
    assert geodesic_area_ha(to_shape(out)) == pytest.approx(6.4947, rel=1e-3)
    assert simplified(POINT) == POINT
