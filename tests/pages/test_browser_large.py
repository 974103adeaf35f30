"""A cooperative's 999-event lot in headless Chromium: summary, map and paging (issue 19).

Against the same real ``vntrace serve`` as ``test_browser.py``; JavaScript is off where
the paging is followed, since its links must work without it.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from vntrace.node.bench.page import COOP_PLOTS

from .conftest import PHONE, Browse, Server
from .test_browser import EN, VI, open_page, verdict

pytestmark = pytest.mark.slow


def test_large_lot_summary_and_paging_without_javascript(
    server: Server, browse: Browse, shots: Path
) -> None:
    page, watch = open_page(
        browse, server.lot_url("coop"), viewport=PHONE, java_script_enabled=False, **EN
    )
    status, text = verdict(page)
    assert status == "verified" and "All 999 records are unchanged" in text
    stages = page.locator(".stage-list li").all_inner_texts()
    assert [s.split(":")[0] for s in stages] == [
        "Harvest",
        "Drying",
        "Hulling",
        "Packing",
        "Shipping",
    ]
    assert stages[0].startswith(f"Harvest: {COOP_PLOTS} events")
    assert page.locator("svg.map").is_visible()
    assert page.locator("svg.map .plot__dot").count() == 1
    assert page.locator(".event").count() == 14
    page.screenshot(path=str(shots / "large-lot-phone-en.png"), full_page=True)
    harvest = page.locator("#stage-harvest")
    assert harvest.locator(".event").first.inner_text().count("EA-TU-0001") == 1
    harvest.get_by_role("link", name="Next →").click()
    page.wait_for_load_state()
    assert "stage=harvest&page=2" in page.url
    harvest = page.locator("#stage-harvest")
    assert "Page 2 of 100" in harvest.locator(".paging").inner_text()
    assert "EA-TU-0011" in harvest.locator(".event").first.inner_text()
    watch.assert_clean(server.url)


def test_large_lot_at_320_px_in_vietnamese(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(
        browse, server.lot_url("coop"), viewport={"width": 320, "height": 700}, **VI
    )
    assert page.locator("html").get_attribute("lang") == "vi"
    assert verdict(page)[0] == "verified"
    assert "Trang 1/100" in page.locator("#stage-harvest .paging").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page scrolls sideways at 320 px: {width} px wide"
    levels = page.evaluate(
        "[...document.querySelectorAll('main h1, main h2, main h3, main h4')]"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    page.screenshot(path=str(shots / "large-lot-320-vi.png"), full_page=False)
    watch.assert_clean(server.url)
