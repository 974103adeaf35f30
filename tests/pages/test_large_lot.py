"""A cooperative's lot of about 1,000 events: the page stays small and pages by stage.

The lot (995 harvest plots, then drying to shipping) goes through the real app in
batches of at most 1,000 events, is anchored, and its page is read with plain GETs,
following the page's own links, as a browser without JavaScript would (issue 19).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.conftest import Gateway
from tests.api.helpers import Producer, new_lot
from vntrace.api.pages.geo import DETAIL_LIMIT, PlotInput, plot_map
from vntrace.api.pages.lot_view import PER_PAGE, SMALL_LOT
from vntrace.node.bench.page import COOP_PLOTS, coop_lot_events
from vntrace.node.demo import season_events
from vntrace.node.records import prepare_record

HTML = {"Accept": "text/html"}
BUDGET = 150 * 1024
PLOT_ID = re.compile(r"EA-TU-\d{4}")


def submit(gw: Gateway, producer: Producer, lot: str, events: list[dict[str, Any]]) -> None:
    """Sign ``events`` and send them in requests of at most 500 (the limit is 1,000)."""
    items = []
    for event in events:
        signed = prepare_record(gw.node.profile, gw.gtin, lot, event).sign(
            producer.account, gw.info["chainId"], gw.info["registry"]
        )
        items.append(
            {
                "event": signed.event,
                "salt": "0x" + signed.salt.hex(),
                "signature": "0x" + signed.signature.hex(),
            }
        )
    for start in range(0, len(items), 500):
        body = {"gtin": gw.gtin, "lot": lot, "events": items[start : start + 500]}
        r = gw.client.post("/v1/lots", json=body, headers=producer.headers)
        assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def coop(gw: Gateway) -> str:
    lot = new_lot()
    submit(gw, gw.producer("HTX Ea Tu"), lot, coop_lot_events(datetime.now(UTC)))
    gw.node.anchor_now()
    return lot


def get(gw: Gateway, lot: str, query: str = "") -> str:
    r = gw.client.get(f"/01/{gw.gtin}/10/{lot}{query}", headers=HTML)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def stage_html(page: str, kind: str) -> str:
    start = page.index(f'<section class="stage" id="stage-{kind}"')
    return page[start : page.index("</section>", start)]


def links(fragment: str) -> dict[str, str]:
    """The paging links of a stage (rel=prev/next and "show all"), as the browser sends them."""
    out = {}
    for attrs in re.findall(r"<a ([^>]*)>", fragment):
        href = re.search(r'href="([^"]*)"', attrs)
        rel = re.search(r'rel="([^"]*)"', attrs)
        name = rel.group(1) if rel else "all" if "paging__all" in attrs else None
        if href and name:
            out[name] = html.unescape(href.group(1)).split("#")[0]
    return out


def test_summary_first_and_small(gw: Gateway, coop: str) -> None:
    page = get(gw, coop, "?lang=en")
    assert len(page.encode()) < BUDGET, len(page.encode())
    assert 'data-status="verified"' in page and "Verified and anchored" in page
    total = COOP_PLOTS + 4
    assert f"{total:,} events" in page.replace("\u202f", ",")  # the product box's count
    # the stages with counts, in the order of their first event, before the events
    stages = page[page.index('class="stages"') : page.index('id="timeline-heading"')]
    kinds = re.findall(r'href="#stage-([a-z_]+)"', stages)
    assert kinds == ["harvest", "drying", "hulling", "packing", "shipping"]
    assert f"{COOP_PLOTS} events" in stages and "1 event" in stages
    # plots, area and countries (the EUDR facts) and one compact map, before the events
    assert page.index('id="plots"') < page.index('id="timeline-heading"')
    assert f"<dt>Plots</dt><dd>{COOP_PLOTS}</dd>" in page and "<dd>VN</dd>" in page
    assert '<svg class="map"' in page and "plot__dot" in page and "plot__shape" in page
    assert "plot__label" not in page and 'class="plot-list"' not in page
    assert page.count("<path") < 10  # one path per kind of plot, not one per plot
    # only the first page of each stage: 10 harvests and the 4 processing events
    assert page.count('<li class="event') == PER_PAGE + 4
    assert PLOT_ID.findall(stage_html(page, "harvest")) == [
        f"EA-TU-{i:04d}" for i in range(1, PER_PAGE + 1)
    ]
    # each shown event's proof bundle one click away, and it is the record's bundle
    bundle = re.search(r'href="(/v1/records/0x[0-9a-f]{64}/bundle)"', page)
    assert bundle is not None
    proof = gw.client.get(bundle.group(1))
    assert proof.status_code == 200 and proof.json()["lot"] == coop
    # the multiproof's ~1,000 leaves are not printed: the JSON has them
    assert "999 leaves: see the lot" in page


def test_paging_links_work_without_javascript(gw: Gateway, coop: str) -> None:
    first = get(gw, coop, "?lang=en")
    harvest = stage_html(first, "harvest")
    pages = -(-COOP_PLOTS // PER_PAGE)
    assert f"Page 1 of {pages}" in harvest and "prev" not in links(harvest)
    assert f"Show all {COOP_PLOTS} events" in harvest
    second = get(gw, coop, links(harvest)["next"])  # the page's own link, a plain GET
    step = stage_html(second, "harvest")
    assert f"Page 2 of {pages}" in step and "Events 11 to 20 of 995" in step
    assert PLOT_ID.findall(step) == [f"EA-TU-{i:04d}" for i in range(11, 21)]
    assert links(step)["prev"] == "?lang=en&stage=harvest&page=1"
    assert links(step)["next"] == "?lang=en&stage=harvest&page=3"
    assert stage_html(second, "drying").count('<li class="event') == 1  # other stages stay
    back = stage_html(get(gw, coop, links(step)["prev"]), "harvest")
    assert PLOT_ID.findall(back)[0] == "EA-TU-0001"
    vi = stage_html(get(gw, coop, "?lang=vi&stage=harvest&page=2"), "harvest")
    assert "Trang 2/100" in vi and 'href="?lang=vi&amp;stage=harvest&amp;page=3' in vi


def test_last_page_beyond_range_and_unknown_stage(gw: Gateway, coop: str) -> None:
    last = stage_html(get(gw, coop, "?lang=en&stage=harvest&page=5000"), "harvest")
    assert "Page 100 of 100" in last and "next" not in links(last)
    assert PLOT_ID.findall(last) == [f"EA-TU-{i:04d}" for i in range(991, 996)]
    unknown = get(gw, coop, "?lang=en&stage=nope&page=3")
    assert "Page 1 of 100" in stage_html(unknown, "harvest")
    r = gw.client.get(f"/01/{gw.gtin}/10/{coop}?page=0", headers=HTML)
    assert r.status_code == 422


def test_show_all_of_one_stage(gw: Gateway, coop: str) -> None:
    first = get(gw, coop, "?lang=en")
    everything = get(gw, coop, links(stage_html(first, "harvest"))["all"])
    harvest = stage_html(everything, "harvest")
    assert harvest.count('<li class="event') == COOP_PLOTS
    assert len(set(PLOT_ID.findall(harvest))) == COOP_PLOTS
    assert "Show page by page" in harvest and links(harvest)["all"].endswith("page=1")
    assert 'class="paging__page"' not in harvest


def tamper(gw: Gateway, lot: str, nth: int) -> None:
    """Change the quantity of the lot's ``nth`` record (0-based) straight in SQLite."""
    db = sqlite3.connect(gw.node.settings.data_dir / "vntrace.db")
    try:
        (lot_id,) = db.execute(
            "SELECT id FROM lots WHERE gtin = ? AND lot_number = ?", (gw.gtin, lot)
        ).fetchone()
        row_id, raw = db.execute(
            "SELECT id, event_json FROM records WHERE lot_id = ? ORDER BY id LIMIT 1 OFFSET ?",
            (lot_id, nth),
        ).fetchone()
        event = json.loads(raw)
        event["quantity"] = {"value": 52000, "unit": "KGM"}
        db.execute(
            "UPDATE records SET event_json = ? WHERE id = ?",
            (json.dumps(event, ensure_ascii=False).encode(), row_id),
        )
        db.commit()
    finally:
        db.close()


def test_a_failed_record_off_the_page_fails_the_lot(gw: Gateway) -> None:
    lot = new_lot()
    submit(gw, gw.producer(), lot, coop_lot_events(datetime.now(UTC), plots=SMALL_LOT + 5))
    gw.node.anchor_now()
    tamper(gw, lot, SMALL_LOT + 1)  # the 32nd harvest: on the harvest stage's 4th page
    page = get(gw, lot, "?lang=en")
    assert 'data-status="failed"' in page and "1 of 39 records" in page
    assert 'class="stage__failed">1 failed' in page
    assert 'event--failed"' not in stage_html(page, "harvest")  # not among the first ten
    fourth = stage_html(get(gw, lot, "?lang=en&stage=harvest&page=4"), "harvest")
    assert fourth.count('event--failed"') == 1


def test_small_lot_is_one_list_as_before(gw: Gateway) -> None:
    lot = new_lot()
    submit(gw, gw.producer(), lot, season_events(datetime.now(UTC)))
    page = get(gw, lot, "?lang=en&stage=harvest&page=2")  # paging does not apply
    assert page.count('<li class="event') == 6 and 'class="paging"' not in page
    assert 'class="stages"' not in page and 'class="plot-list"' in page
    assert page.count("/bundle") == 6


def test_map_is_compact_above_the_detail_limit() -> None:
    def plots(n: int) -> list[PlotInput]:
        out = []
        for i in range(n):
            lon, lat = 108 + i * 0.01, 12.6 + (i % 5) * 0.01
            if i % 2:
                ring = [[lon, lat], [lon + 0.004, lat], [lon + 0.004, lat + 0.003], [lon, lat]]
                out.append(PlotInput(f"P{i}", {"type": "Polygon", "coordinates": [ring]}))
            else:
                out.append(PlotInput(f"P{i}", {"type": "Point", "coordinates": [lon, lat]}))
        return out

    detailed = plot_map(plots(DETAIL_LIMIT))
    assert detailed is not None and not detailed.compact
    assert len(detailed.shapes) == DETAIL_LIMIT
    compact = plot_map(plots(DETAIL_LIMIT * 30))
    assert compact is not None and compact.compact and compact.count == DETAIL_LIMIT * 30
    assert compact.shapes == ()
    dots = re.findall(r"M(-?\d+) (-?\d+)h0", compact.points_path)
    assert 0 < len(dots) <= DETAIL_LIMIT * 30 and len(dots) == len(set(dots))
    assert all(0 <= int(x) <= compact.width and 0 <= int(y) <= compact.height for x, y in dots)
    assert "." not in compact.points_path + compact.polygons_path  # whole pixels only


def test_what_the_page_keeps_follows_the_stored_bytes(gw: Gateway) -> None:
    """The EUDR summary and the map are kept between requests (api/pages/memo.py), keyed
    by the events' stored bytes: an edited row is read afresh, and fails."""
    lot = new_lot()
    submit(gw, gw.producer(), lot, coop_lot_events(datetime.now(UTC), plots=SMALL_LOT + 5))
    gw.node.anchor_now()

    def eudr(page: str) -> str:
        return page[page.index('<section class="eudr"') :].split("</section>", 1)[0]

    before = get(gw, lot, "?lang=en")
    assert get(gw, lot, "?lang=en") == before  # kept, and the same
    assert 'data-status="verified"' in before
    db = sqlite3.connect(gw.node.settings.data_dir / "vntrace.db")
    try:
        (lot_id,) = db.execute(
            "SELECT id FROM lots WHERE gtin = ? AND lot_number = ?", (gw.gtin, lot)
        ).fetchone()
        row_id, raw = db.execute(
            "SELECT id, event_json FROM records WHERE lot_id = ? ORDER BY id LIMIT 1 OFFSET 1",
            (lot_id,),
        ).fetchone()
        event = json.loads(raw)
        assert event["geolocation"]["type"] == "Point"
        event["plotAreaHa"] = 3.5 if event["plotAreaHa"] != 3.5 else 2.5  # a bigger plot
        db.execute(
            "UPDATE records SET event_json = ? WHERE id = ?",
            (json.dumps(event, separators=(",", ":")).encode(), row_id),
        )
        db.commit()
    finally:
        db.close()
    after = get(gw, lot, "?lang=en")
    assert 'data-status="failed"' in after
    assert eudr(after) != eudr(before)  # the total area of what is stored now
