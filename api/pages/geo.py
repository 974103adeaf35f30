"""Harvest plots from their GeoJSON, projected into an SVG box the page draws inline.

No map tiles and no outside requests (the page must work offline and must not leak a
shopper's scan to a tile server), so the map is the plot shapes themselves: Points as
markers, Polygons as shapes, with a scale bar and a north arrow for a sense of size.
Projection: equirectangular around the plots' mean latitude (longitude scaled by its
cosine), which is exact enough over the few kilometres a lot's plots span.

A cooperative's lot has a plot per smallholder (about 1,000): above ``DETAIL_LIMIT``
plots the map is drawn compactly so its size stays small (issue 19): coordinates are
rounded to the SVG's whole pixels, polygons simplified (Douglas-Peucker, shapely) to
half a pixel, every point is one round dot of a single path, every polygon a subpath of
another, and there are no per-plot labels. The signed coordinates stay in the events.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon

_EARTH_M_PER_DEG = 111_320.0
_MIN_SPAN_DEG = 0.004  # about 450 m: a lone point still gets a sensible neighbourhood
_NICE = (1, 2, 5)
DETAIL_LIMIT = 30
"""Above this many plots the map is compact: no labels, one path per kind of plot."""
_SIMPLIFY_PX = 0.5


@dataclass(frozen=True, slots=True)
class PlotInput:
    """One plot to draw: its label and its GeoJSON geometry as signed."""

    label: str
    geometry: Any
    area_ha: float | None = None


@dataclass(frozen=True, slots=True)
class Shape:
    """A plot in SVG coordinates: a marker (``x``, ``y``) or a polygon ``path``."""

    anchor: str
    label: str
    kind: str  # "point" | "polygon"
    x: float
    y: float
    path: str = ""
    lon: float = 0.0
    lat: float = 0.0
    corners: int = 0
    area_ha: float | None = None


@dataclass(frozen=True, slots=True)
class PlotMap:
    """Everything the template needs to draw the plots."""

    width: int
    height: int
    shapes: tuple[Shape, ...]
    scale_px: float
    scale_label: str
    count: int = 0
    points_path: str = ""  # compact map: every point as a round dot ("M x yh0")
    polygons_path: str = ""  # compact map: every polygon as a subpath

    @property
    def compact(self) -> bool:
        return not self.shapes and self.count > 0


def position(value: Any) -> tuple[float, float] | None:
    """``(lon, lat)`` of a GeoJSON position, or None if it is not a valid one."""
    if (
        isinstance(value, list | tuple)
        and len(value) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value[:2])
        and all(math.isfinite(c) for c in value[:2])
        and -180 <= value[0] <= 180
        and -90 <= value[1] <= 90
    ):
        return float(value[0]), float(value[1])
    return None


def _rings(geometry: Any) -> tuple[str, list[list[tuple[float, float]]]] | None:
    """``("point", [[pos]])`` or ``("polygon", rings)``; None for anything else."""
    if not isinstance(geometry, dict):
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        pos = position(coords)
        return ("point", [[pos]]) if pos else None
    if kind == "Polygon" and isinstance(coords, list) and coords:
        rings = []
        for ring in coords:
            if not isinstance(ring, list):
                return None
            points = [position(p) for p in ring]
            if len(points) < 4 or any(p is None for p in points):
                return None
            rings.append([p for p in points if p is not None])
        return "polygon", rings
    return None


def _nice_length(metres: float) -> float:
    """The largest 1-2-5 x 10^n length not above ``metres``."""
    exponent = math.floor(math.log10(metres))
    best = 10.0**exponent
    for step in _NICE:
        if step * 10.0**exponent <= metres:
            best = step * 10.0**exponent
    return best


def _length_label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def plot_map(
    plots: Iterable[PlotInput],
    *,
    width: int = 400,
    height: int = 280,
    pad: tuple[int, int, int, int] = (44, 32, 48, 32),
    detail_limit: int = DETAIL_LIMIT,
) -> PlotMap | None:
    """Project the plots that have a drawable geometry; None if none does.

    ``pad`` (top, right, bottom, left) keeps room for marker pins above their point,
    labels beside them, and the scale bar at the bottom.
    """
    parsed = [(p, r) for p in plots if (r := _rings(p.geometry)) is not None]
    if not parsed:
        return None
    top, right, bottom, left = pad
    all_points = [pt for _, (_, rings) in parsed for ring in rings for pt in ring]
    lat0 = sum(lat for _, lat in all_points) / len(all_points)
    kx = math.cos(math.radians(lat0))
    xs = [lon * kx for lon, _ in all_points]
    ys = [lat for _, lat in all_points]
    span_x = max(max(xs) - min(xs), _MIN_SPAN_DEG)
    span_y = max(max(ys) - min(ys), _MIN_SPAN_DEG)
    inner_w, inner_h = width - left - right, height - top - bottom
    scale = min(inner_w / span_x, inner_h / span_y)  # pixels per degree
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    mid_x, mid_y = left + inner_w / 2, top + inner_h / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (
            round(mid_x + (lon * kx - cx) * scale, 2),
            round(mid_y - (lat - cy) * scale, 2),
        )

    metres_per_px = _EARTH_M_PER_DEG / scale
    bar_m = _nice_length(metres_per_px * width / 4)
    bar = (round(bar_m / metres_per_px, 2), _length_label(bar_m))
    if len(parsed) > detail_limit:
        points, polygons = _compact([(k, r) for _, (k, r) in parsed], project)
        return PlotMap(width, height, (), *bar, len(parsed), points, polygons)

    shapes = []
    for i, (plot, (kind, rings)) in enumerate(parsed):
        anchor = f"plot-{i + 1}"
        if kind == "point":
            lon, lat = rings[0][0]
            x, y = project(lon, lat)
            shapes.append(
                Shape(anchor, plot.label, "point", x, y, lon=lon, lat=lat, area_ha=plot.area_ha)
            )
            continue
        path = " ".join(_ring_path([project(lon, lat) for lon, lat in ring]) for ring in rings)
        outer = rings[0][:-1] if rings[0][0] == rings[0][-1] else rings[0]
        lon = sum(p[0] for p in outer) / len(outer)
        lat = sum(p[1] for p in outer) / len(outer)
        x, y = project(lon, lat)
        shapes.append(
            Shape(
                anchor,
                plot.label,
                "polygon",
                x,
                y,
                path,
                lon,
                lat,
                corners=len(outer),
                area_ha=plot.area_ha,
            )
        )
    return PlotMap(width, height, tuple(shapes), *bar, len(shapes))


def _compact(
    parsed: Sequence[tuple[str, list[list[tuple[float, float]]]]],
    project: Callable[[float, float], tuple[float, float]],
) -> tuple[str, str]:
    """Points as dots and polygons as simplified subpaths, in whole pixels.

    A polygon that simplifies to fewer than three distinct pixels is drawn as a dot:
    at this scale it is one. Duplicate dots (plots in the same pixel) are drawn once.
    """
    dots: dict[tuple[int, int], None] = {}
    subpaths: list[str] = []
    for kind, rings in parsed:
        if kind == "point":
            x, y = project(*rings[0][0])
            dots[round(x), round(y)] = None
            continue
        outer = [project(lon, lat) for lon, lat in rings[0]]
        simple = Polygon(outer).simplify(_SIMPLIFY_PX, preserve_topology=True)
        ring = [] if simple.is_empty else list(simple.exterior.coords)
        pixels: list[tuple[int, int]] = []
        for x, y in ring:
            pixel = (round(x), round(y))
            if not pixels or pixels[-1] != pixel:
                pixels.append(pixel)
        if len(pixels) > 1 and pixels[0] == pixels[-1]:
            pixels.pop()
        if len(set(pixels)) < 3:
            cx = sum(x for x, _ in outer) / len(outer)
            cy = sum(y for _, y in outer) / len(outer)
            dots[round(cx), round(cy)] = None
            continue
        (x0, y0), *rest = pixels
        subpaths.append(f"M{x0} {y0}" + "".join(f" {x} {y}" for x, y in rest) + "Z")
    return "".join(f"M{x} {y}h0" for x, y in dots), "".join(subpaths)


def _ring_path(points: Sequence[tuple[float, float]]) -> str:
    head, *rest = points
    return f"M{head[0]} {head[1]}" + "".join(f"L{x} {y}" for x, y in rest) + "Z"


def format_position(lon: float, lat: float) -> str:
    """``12.681234° N, 108.051234° E``: how people read a GPS position."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.6f}° {ns}, {abs(lon):.6f}° {ew}"
