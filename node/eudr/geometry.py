"""Plot geometry checked as the EU information system (TRACES) checks it.

Pure functions: a GeoJSON geometry (parsed JSON) and the plot's declared facts in, a list
of :class:`PlotIssue` out (empty means the EU would accept it). Structure is checked
first (types, positions, decimals, rings), because shapely can only judge a geometry it
can build; topology (closed, valid, no self-intersection, no holes) and the geodesic area
are then computed with shapely 2 and pyproj, never by hand. Each rule and its source is
in docs/eudr.md; the rule ids here are the ones it lists.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

_GEOD = Geod(ellps="WGS84")
_WHERE = re.compile(r"\[(-?[\d.eE+-]+) (-?[\d.eE+-]+)\]")
EU_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")
"""Geometry types a plot may have here. The EU file description also lists MultiPoint
(and GeometryCollection); a plot is one area, so neither is produced or accepted."""


@dataclass(frozen=True, slots=True)
class PlotIssue:
    """One reason the EU (or an auditor) would refuse a plot."""

    plot: str
    """The plot's name: its ``plotId``, else the record id, else its index."""
    rule: str
    """Stable rule id (``self_intersection``, ``hole``, ``area_mismatch``...)."""
    message: str
    where: list[float] | None = None
    """``[longitude, latitude]`` of the problem when there is one point to show."""
    path: str = ""
    """JSON path inside the geometry (``coordinates[0][3]``)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"plot": self.plot, "rule": self.rule, "message": self.message}
        if self.where is not None:
            out["where"] = self.where
        if self.path:
            out["path"] = self.path
        return out

    def __str__(self) -> str:
        at = f" at {self.where[0]:.6f}, {self.where[1]:.6f}" if self.where else ""
        return f"plot {self.plot}: {self.rule}: {self.message}{at}"


@dataclass(frozen=True, slots=True)
class GeometryRules:
    """The knobs of the EU rules; defaults are the EU's (see docs/eudr.md §2)."""

    max_decimals: int = 6
    min_decimals: int = 6
    max_point_area_ha: float = 4.0
    area_tolerance: float = 0.10
    """Relative gap allowed between declared ``plotAreaHa`` and the geodesic area."""
    area_tolerance_ha: float = 0.05
    """Absolute gap always allowed (GNSS error on very small plots)."""
    geometries: tuple[str, ...] = EU_GEOMETRIES
    allow_holes: bool = False
    boundaries: Mapping[str, BaseGeometry] = field(default_factory=dict)
    """Country code -> boundary (WGS 84), for the "inside the declared country" rule."""


def geodesic_area_ha(geom: BaseGeometry) -> float:
    """Area on the WGS 84 ellipsoid in hectares (pyproj's Geod, Karney's algorithm)."""
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(area) / 10_000


def decimals(x: float | int) -> int:
    """Decimal places of a number as JSON writes it (shortest round-trip form)."""
    if not isinstance(x, float):
        return 0
    exponent = Decimal(repr(x)).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


class _Walk:
    """Structural checks of a GeoJSON geometry, collecting issues for one plot."""

    def __init__(self, plot: str, rules: GeometryRules) -> None:
        self.plot = plot
        self.rules = rules
        self.issues: list[PlotIssue] = []
        self.decimals_seen = 0
        self.positions = 0

    def add(self, rule: str, message: str, path: str, where: list[float] | None = None) -> None:
        if len(self.issues) < 50:
            self.issues.append(PlotIssue(self.plot, rule, message, where, path))

    def position(self, pos: Any, path: str) -> bool:
        if not isinstance(pos, list | tuple) or len(pos) != 2:
            self.add("position", "a position is [longitude, latitude]: exactly two numbers", path)
            return False
        lon, lat = pos
        if not _is_number(lon) or not _is_number(lat):
            self.add("position", "longitude and latitude must be finite numbers", path)
            return False
        self.positions += 1
        ok = True
        if not -180 <= lon <= 180 or not -90 <= lat <= 90:
            swapped = -180 <= lat <= 180 and -90 <= lon <= 90
            hint = " (axes swapped? GeoJSON is [longitude, latitude])" if swapped else ""
            self.add("range", f"[{lon}, {lat}] is outside WGS 84 ranges{hint}", path)
            ok = False
        places = max(decimals(lon), decimals(lat))
        self.decimals_seen = max(self.decimals_seen, places)
        if places > self.rules.max_decimals:
            self.add(
                "decimals",
                f"{places} decimals; round to {self.rules.max_decimals}",
                path,
                [float(lon), float(lat)],
            )
            ok = False
        return ok

    def ring(self, ring: Any, path: str) -> bool:
        if not isinstance(ring, list | tuple):
            self.add("structure", "a linear ring is an array of positions", path)
            return False
        good = all([self.position(p, f"{path}[{j}]") for j, p in enumerate(ring)])
        if not good:
            return False
        if len(ring) < 4:
            self.add("ring_too_short", f"{len(ring)} positions; a ring needs at least 4", path)
            return False
        if list(ring[0]) != list(ring[-1]):
            self.add(
                "unclosed_ring",
                "the last position must repeat the first",
                path,
                [float(ring[-1][0]), float(ring[-1][1])],
            )
            return False
        if len({(p[0], p[1]) for p in ring}) < 3:
            self.add("degenerate_ring", "fewer than 3 distinct positions: no area", path)
            return False
        return True

    def polygon(self, rings: Any, path: str) -> bool:
        if not isinstance(rings, list | tuple) or not rings:
            self.add("structure", "a Polygon is a non-empty array of linear rings", path)
            return False
        ok = all([self.ring(r, f"{path}[{i}]") for i, r in enumerate(rings)])
        if len(rings) > 1 and not self.rules.allow_holes:
            first = rings[1][0] if isinstance(rings[1], list | tuple) and rings[1] else None
            where = [float(first[0]), float(first[1])] if ok and first else None
            self.add(
                "hole",
                "interior rings (holes) are not accepted: split the plot into polygons "
                "without holes",
                f"{path}[1]",
                where,
            )
            ok = False
        return ok


def check_geometry(
    geometry: Any,
    *,
    plot: str,
    declared_area_ha: float | None = None,
    country: str | None = None,
    rules: GeometryRules | None = None,
) -> list[PlotIssue]:
    """Every EU rule ``geometry`` breaks, for the plot named ``plot`` (empty: accepted)."""
    rules = rules or GeometryRules()
    w = _Walk(plot, rules)
    if not isinstance(geometry, dict):
        w.add("not_geojson", "not a GeoJSON geometry object", "")
        return w.issues
    gtype = geometry.get("type")
    if gtype not in rules.geometries:
        w.add(
            "geometry_type",
            f"geometry type {gtype!r} is not accepted (use {' or '.join(rules.geometries)})",
            "type",
        )
        return w.issues
    coords = geometry.get("coordinates")
    if coords is None:
        w.add("structure", "coordinates missing", "coordinates")
        return w.issues
    if gtype == "Point":
        ok = w.position(coords, "coordinates")
    elif gtype == "Polygon":
        ok = w.polygon(coords, "coordinates")
    else:
        if not isinstance(coords, list | tuple) or not coords:
            w.add("structure", "a MultiPolygon is a non-empty array of polygons", "coordinates")
            return w.issues
        ok = all([w.polygon(p, f"coordinates[{i}]") for i, p in enumerate(coords)])
    if w.positions and w.decimals_seen < rules.min_decimals:
        w.add(
            "too_few_decimals",
            f"no coordinate has {rules.min_decimals} decimals (at most {w.decimals_seen}): "
            f"EUDR Art. 2(28) asks for at least {rules.min_decimals}; the plot looks rounded",
            "coordinates",
        )
        ok = False
    if not ok:
        return w.issues

    geom = shape(geometry)
    if not isinstance(geom, Point):
        reason = shapely.is_valid_reason(geom)
        if reason != "Valid Geometry":
            m = _WHERE.search(reason)
            where = [float(m.group(1)), float(m.group(2))] if m else None
            rule = "self_intersection" if "Self-intersection" in reason else "invalid_geometry"
            w.add(rule, f"invalid polygon: {reason.split('[')[0]}", "coordinates", where)
            return w.issues

    if declared_area_ha is not None:
        _check_area(w, geom, declared_area_ha, rules)
    if country is not None and country in rules.boundaries:
        _check_country(w, geom, country, rules.boundaries[country])
    return w.issues


def _check_area(w: _Walk, geom: BaseGeometry, declared: float, rules: GeometryRules) -> None:
    if isinstance(geom, Point):
        if declared > rules.max_point_area_ha:
            w.add(
                "point_over_4ha",
                f"a plot of {declared:g} ha needs a polygon: a single point is accepted only "
                f"up to {rules.max_point_area_ha:g} ha (EUDR Art. 2(28))",
                "type",
                [geom.x, geom.y],
            )
        return
    measured = geodesic_area_ha(geom)
    gap = abs(measured - declared)
    if gap > max(rules.area_tolerance * declared, rules.area_tolerance_ha):
        c = geom.representative_point()
        w.add(
            "area_mismatch",
            f"declared plotAreaHa {declared:g} ha but the geometry measures {measured:.4g} ha "
            f"on the WGS 84 ellipsoid (off by {gap / declared:.0%}; tolerance "
            f"{rules.area_tolerance:.0%})",
            "coordinates",
            [round(c.x, 6), round(c.y, 6)],
        )


def _check_country(w: _Walk, geom: BaseGeometry, country: str, boundary: BaseGeometry) -> None:
    if boundary.covers(geom):
        return
    outside = geom.difference(boundary) if not isinstance(geom, Point) else geom
    c = outside.representative_point() if not outside.is_empty else geom.representative_point()
    message = f"not inside {country} (the declared countryOfProduction)"
    if isinstance(geom, Point) and boundary.covers(Point(geom.y, geom.x)):
        message += "; with the axes swapped it would be: GeoJSON is [longitude, latitude]"
    w.add("outside_country", message, "coordinates", [round(c.x, 6), round(c.y, 6)])


def to_shape(geometry: dict[str, Any]) -> Polygon | MultiPolygon | Point:
    """A shapely geometry of an accepted plot geometry."""
    return shape(geometry)  # type: ignore[return-value]


def simplified(geometry: dict[str, Any], tolerance_deg: float = 0.00001) -> dict[str, Any]:
    """The geometry simplified for display (topology kept; about 1 m at the default)."""
    geom = shape(geometry)
    if isinstance(geom, Point):
        return {"type": "Point", "coordinates": [geom.x, geom.y]}
    small = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
    small = shapely.set_precision(small, 1e-6)
    return json.loads(shapely.to_geojson(small))  # type: ignore[no-any-return]


def load_boundaries(data: Mapping[str, Any]) -> dict[str, BaseGeometry]:
    """Boundaries from a GeoJSON FeatureCollection whose features carry ``properties.iso2``
    (or ``ISO_A2``, as Natural Earth writes it)."""
    out: dict[str, BaseGeometry] = {}
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        code = props.get("iso2") or props.get("ISO_A2")
        if isinstance(code, str) and len(code) == 2:
            out[code] = shapely.make_valid(shape(feature["geometry"]))
    return out
