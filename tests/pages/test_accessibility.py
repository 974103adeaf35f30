"""The consumer page's accessibility, audited with axe-core in headless Chromium (issue 19).

Every language version and verdict a shopper can meet, the large lot's summary and a
later page of its events, the error page and the label page: at 320 px (the narrowest
phone WCAG 1.4.10 reflow asks for) and at desktop width, with axe-core's WCAG 2.0/2.1
A and AA rules and best practices (no serious or critical finding), plus what axe does
not check by itself: the ``lang`` of each language version, headings that never skip
a level, and a verdict a screen reader reads as words.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from .axe import AxeMissing, assert_accessible, axe_source, run_axe
from .conftest import DESKTOP, Browse, Server
from .test_browser import EN, VI, open_page

pytestmark = pytest.mark.slow

NARROW = {"width": 320, "height": 640}
BY_LANG = {"en": EN, "vi": VI}
TITLES = {
    ("verified", "en"): "Verified and anchored on the blockchain",
    ("verified", "vi"): "Đã xác minh và neo trên blockchain",
    ("pending", "en"): "Waiting for anchoring",
    ("pending", "vi"): "Đang chờ neo lên blockchain",
    ("recalled", "en"): "THIS LOT HAS BEEN RECALLED",
    ("recalled", "vi"): "LÔ HÀNG ĐÃ BỊ THU HỒI",
    ("failed", "en"): "Verification failed",
    ("failed", "vi"): "Xác minh thất bại",
}
HEADINGS = "[...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]))"


def assert_structure(page: Any, lang: str) -> None:
    """``lang`` of the version, one h1 first, headings in order, and no sideways scrolling."""
    assert page.locator("html").get_attribute("lang") == lang
    levels = page.evaluate(HEADINGS)
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    skips = [(a, b) for a, b in pairwise(levels) if b - a > 1]
    assert not skips, f"headings skip levels: {levels}"
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"the page scrolls sideways at {viewport} px: {width} px wide"


def assert_verdict_in_words(page: Any, status: str, lang: str) -> None:
    """The verdict is a named region whose heading says it; the icon is decoration."""
    box = page.locator("#verdict")
    assert box.get_attribute("data-status") == status
    title = TITLES[(status, lang)]
    region = page.get_by_role("region", name=title)
    assert region.count() == 1, f"no region named {title!r} for a screen reader"
    assert region.get_by_role("heading", name=title, level=2).count() == 1
    assert box.locator("svg.icon").get_attribute("aria-hidden") == "true"
    snapshot = box.aria_snapshot()
    assert title in snapshot, snapshot


SIGNED_FOR = {  # docs/epcis.md §6: said in words, the badge colour only sets it apart
    "en": (
        "Signed by the node for the producer",
        "records were signed by the node for the producer",
    ),
    "vi": ("Nút ký thay nhà sản xuất", "bản ghi do nút ký thay nhà sản xuất"),
}


def assert_signer_in_words(page: Any, lang: str) -> None:
    """A lot the node signed for its producer says so in text a screen reader reads: in
    the verdict region, and on each record."""
    badge, verdict = SIGNED_FOR[lang]
    snapshot = page.locator("#verdict").aria_snapshot()
    assert verdict in snapshot, snapshot
    badges = page.locator(".event .badge--custodial")
    assert badges.count() >= 1
    assert {b.strip() for b in badges.all_inner_texts()} == {badge}
    assert page.locator(".event").count() == badges.count()


def audit_both_widths(page: Any, name: str, lang: str, status: str | None = None) -> None:
    """Audit at 320 px as loaded, then at 320 px and desktop width with every fold open.

    axe skips hidden content, so the folded record and technical details are opened
    for the later audits: their code, labels and links are checked too.
    """
    steps = (("320", NARROW, False), ("320-open", NARROW, True), ("desktop-open", DESKTOP, True))
    for label, viewport, unfold in steps:
        page.set_viewport_size(viewport)
        if unfold:
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert_structure(page, lang)
        if status is not None:
            assert_verdict_in_words(page, status, lang)
        assert_accessible(page, f"{name}-{label}")


@pytest.mark.parametrize(
    ("state", "status", "lang"),
    [
        ("verified", "verified", "en"),
        ("verified", "verified", "vi"),
        ("pending", "pending", "vi"),
        ("recalled", "recalled", "en"),
        ("recalled", "recalled", "vi"),
        ("tampered", "failed", "en"),
        ("tampered", "failed", "vi"),
        ("custodial", "verified", "en"),
        ("custodial", "verified", "vi"),
    ],
)
def test_small_lot_is_accessible(
    server: Server, browse: Browse, state: str, status: str, lang: str
) -> None:
    page, watch = open_page(
        browse, server.lot_url(state, f"?lang={lang}"), viewport=NARROW, **BY_LANG[lang]
    )
    audit_both_widths(page, f"{state}-{lang}", lang, status)
    if state == "custodial":
        assert_signer_in_words(page, lang)
    watch.assert_clean(server.url)


@pytest.mark.parametrize(
    ("query", "lang"),
    [("?lang=en", "en"), ("?lang=vi&stage=harvest&page=2#stage-harvest", "vi")],
    ids=["summary-en", "harvest-page-2-vi"],
)
def test_large_lot_is_accessible(server: Server, browse: Browse, query: str, lang: str) -> None:
    page, watch = open_page(browse, server.lot_url("coop", query), viewport=NARROW, **BY_LANG[lang])
    assert page.locator(".stage-list").count() == 1  # the summary of a large lot
    if "page=2" in query:
        assert page.locator("#stage-harvest .paging a[rel=prev]").count() == 1
    audit_both_widths(page, f"coop-{'page2' if 'page=2' in query else 'summary'}-{lang}", lang)
    assert_verdict_in_words(page, "verified", lang)
    watch.assert_clean(server.url)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_error_page_is_accessible(server: Server, browse: Browse, lang: str) -> None:
    url = f"{server.url}/01/{server.seeded.gtin}/10/NO-SUCH-LOT?lang={lang}"
    page = browse(viewport=NARROW, **BY_LANG[lang]).new_page()
    response = page.goto(url)
    assert response is not None and response.status == 404
    audit_both_widths(page, f"error-404-{lang}", lang)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Lot not found" if lang == "en" else "Không tìm thấy lô hàng"
    )


def test_label_page_is_accessible(server: Server, browse: Browse) -> None:
    lot = server.seeded.lots["verified"]
    url = f"{server.url}/v1/lots/{server.seeded.gtin}/{lot}/label?copies=2&lang=vi"
    page, watch = open_page(browse, url, viewport=NARROW, **VI)
    audit_both_widths(page, "label-vi", "vi")
    watch.assert_clean(server.url)


def test_copy_is_announced(server: Server, browse: Browse) -> None:
    """The copy button's "Copied" reaches a screen reader through a status region."""
    context = browse(viewport=NARROW, permissions=["clipboard-read", "clipboard-write"], **EN)
    page = context.new_page()
    page.goto(server.lot_url("verified", "?lang=en"))
    status = page.locator(".check").get_by_role("status")
    assert status.count() == 1 and status.inner_text() == ""
    page.locator(".check").get_by_role("button", name="Copy").click()
    page.wait_for_function("document.querySelector('.copy__status').textContent !== ''")
    assert status.inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()").startswith("vntrace verify --node")
    assert_accessible(page, "verified-en-copied")


def test_the_audit_finds_violations(server: Server, browse: Browse) -> None:
    """axe really runs: an image without text and grey-on-white text are reported."""
    page, _ = open_page(browse, server.lot_url("verified"), viewport=NARROW, **EN)
    page.evaluate(
        """() => {
            const img = document.createElement('img');
            img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
            const faint = document.createElement('p');
            faint.textContent = 'faint text';
            faint.style.color = '#c8c8c8';
            faint.style.background = '#ffffff';
            document.querySelector('main').append(img, faint);
        }"""
    )
    found = {v["id"]: v["impact"] for v in run_axe(page)[0]}
    assert found.get("image-alt") == "critical" and found.get("color-contrast") == "serious"
    with pytest.raises(AssertionError, match=r"\[critical\] image-alt: .*\n    img: Fix any"):
        assert_accessible(page, "self-test")


def test_a_missing_axe_core_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(AxeMissing, match=r"axe-core is not installed .*npm ci"):
        axe_source(tmp_path / "axe.min.js")


# WCAG 2.1 understanding of 1.4.12's test: the spacing a reader may set for themselves
TEXT_SPACING = [
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
    " word-spacing: 0.16em !important; }",
    "p { margin-bottom: 2em !important; }",
]


@pytest.mark.parametrize(("state", "lang"), [("tampered", "vi"), ("coop", "vi")])
def test_wider_text_spacing_at_320_px(
    server: Server, browse: Browse, state: str, lang: str
) -> None:
    """WCAG 1.4.12: the reader's own wider spacing must not push the page sideways."""
    page, _ = open_page(browse, server.lot_url(state), viewport=NARROW, **BY_LANG[lang])
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    # through the CSSOM: the page's CSP refuses an inline <style>
    page.evaluate(
        "rules => rules.forEach(r => document.styleSheets[0].insertRule(r, 0))", TEXT_SPACING
    )
    spacing = page.evaluate("getComputedStyle(document.querySelector('h1')).letterSpacing")
    assert spacing != "normal", "the text-spacing rule did not apply"
    assert_structure(page, lang)
