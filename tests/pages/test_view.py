"""The page's pure parts: language choice, wording, verdict aggregation, plot projection."""

from __future__ import annotations

import pytest

from vntrace.api.pages import choose_language, lot_status
from vntrace.api.pages.formatting import format_decimal_string, format_number, format_time
from vntrace.api.pages.geo import PlotInput, plot_map
from vntrace.api.pages.i18n import LANGS, REASONS, TEXTS, Texts
from vntrace.node.bundles import Reason
from vntrace.node.service import Verdict


@pytest.mark.parametrize(
    ("override", "header", "lang"),
    [
        (None, None, "en"),
        (None, "vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        (None, "en-US,en;q=0.9,vi;q=0.8", "en"),
        (None, "fr-FR,fr;q=0.9,vi;q=0.5,en;q=0.4", "vi"),
        (None, "de-DE", "en"),
        (None, "en;q=0.5, vi;q=0.5", "en"),
        (None, "vi;q=0.5, en;q=0.5", "vi"),
        (None, "vi;q=0, en;q=0.1", "en"),
        (None, "garbage;;q=x,", "en"),
        ("vi", "en-US", "vi"),
        ("EN", "vi-VN", "en"),
        ("fr", "vi-VN", "vi"),
    ],
)
def test_choose_language(override: str | None, header: str | None, lang: str) -> None:
    assert choose_language(override, header) == lang


def test_every_text_exists_in_both_languages() -> None:
    for table in (TEXTS, REASONS):
        for key, texts in table.items():
            assert set(texts) == set(LANGS), key
            assert all(text.strip() for text in texts.values()), key
    assert {r.value for r in Reason} <= set(REASONS), "a verdict reason has no words"


def test_placeholders_match_between_languages() -> None:
    import string

    for key, texts in TEXTS.items():
        fields = [
            {f for _, f, _, _ in string.Formatter().parse(text) if f} for text in texts.values()
        ]
        assert fields[0] == fields[1], key


def _v(status: str, *reasons: str) -> Verdict:
    return Verdict(status, reasons)


@pytest.mark.parametrize(
    ("statuses", "recalled", "expected"),
    [
        (["verified", "verified"], False, "verified"),
        (["verified", "pending"], False, "pending"),
        (["recalled", "recalled"], False, "recalled"),
        (["verified", "verified"], True, "recalled"),  # recalled on the node, not yet on chain
        (["recalled", "failed"], True, "failed"),
        (["pending", "failed"], False, "failed"),
        ([], False, "pending"),
    ],
)
def test_lot_status(statuses: list[str], recalled: bool, expected: str) -> None:
    verdicts = [_v(s) for s in statuses]
    assert lot_status(verdicts, recalled, len(verdicts)) == expected


def test_lot_status_without_chain() -> None:
    assert lot_status(None, False, 3) == "unavailable"
    assert lot_status(None, True, 3) == "recalled"


def test_root_cause_first() -> None:
    codes = ["bad_signature", "proof_mismatch", "digest_mismatch", "leaf_mismatch"]
    assert sorted(codes, key=Texts.reason_order)[0] == "digest_mismatch"
    assert Texts("en").reason("something_new") == "something_new"


def test_numbers_and_times() -> None:
    assert format_number(5200, "en") == "5,200"
    assert format_number(5200, "vi") == "5.200"
    assert format_number(9.4, "en") == "9.4"
    assert format_number(9.4, "vi") == "9,4"
    assert format_decimal_string("16740.00", "en") == "16,740.00"
    assert format_decimal_string("16740.00", "vi") == "16.740,00"
    moment = format_time("2026-03-01T08:00:00+07:00", "en")
    assert moment is not None and moment.iso == "2026-03-01T01:00:00Z"
    assert moment.text == "1 Mar 2026, 01:00 UTC"
    vi = format_time(1772352000, "vi")
    assert vi is not None and vi.text == "01/03/2026 08:00 UTC"
    assert format_time("yesterday", "en") is None


POINT = {"type": "Point", "coordinates": [108.051234, 12.681234]}
SQUARE_M = 0.009  # degrees of latitude: about 1 km
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [108.06, 12.69],
            [108.06 + SQUARE_M / 0.97566, 12.69],  # cos(12.7°): the same 1 km east-west
            [108.06 + SQUARE_M / 0.97566, 12.69 + SQUARE_M],
            [108.06, 12.69 + SQUARE_M],
            [108.06, 12.69],
        ]
    ],
}


def test_plot_map_projects_into_the_box() -> None:
    m = plot_map([PlotInput("A", POINT, 1.8), PlotInput("B", SQUARE, 6.5)])
    assert m is not None
    point, square = m.shapes
    assert point.kind == "point" and square.kind == "polygon"
    assert square.path.startswith("M") and square.path.endswith("Z")
    for shape in m.shapes:
        assert 0 <= shape.x <= m.width and 0 <= shape.y <= m.height
    coords = [float(c) for c in square.path.strip("MZ").replace("L", " ").split()]
    xs, ys = coords[0::2], coords[1::2]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    assert width == pytest.approx(height, rel=0.02), "a square plot must stay square"
    assert point.y > square.y, "the point lies south of the square: lower on the map"
    assert m.scale_label.endswith(("m", "km")) and 0 < m.scale_px < m.width


def test_plot_map_single_point_is_centred_and_bad_geometry_ignored() -> None:
    m = plot_map([PlotInput("A", POINT), PlotInput("X", {"type": "Line"}), PlotInput("Y", 5)])
    assert m is not None and len(m.shapes) == 1
    assert 0.3 * m.width < m.shapes[0].x < 0.7 * m.width
    assert plot_map([PlotInput("X", {"type": "Point", "coordinates": [500, 0]})]) is None
