"""The consumer page in a real browser: headless Chromium against a real ``vntrace serve``.

Checks what a person would read (verdicts in both languages, the journey, the plot
map), a phone-sized screen, the page with JavaScript off, that hostile event text stays
text, that nothing is fetched from anywhere but the node, and that the printed label's
QR code scans back to the lot's Digital Link. Screenshots go to test-output/pages/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import PHONE, Browse, Server
from .seed import RECALL_REASON
from .test_routes import decode_png

pytestmark = pytest.mark.slow

VI = {"locale": "vi-VN", "extra_http_headers": {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}}
EN = {"locale": "en-US", "extra_http_headers": {"Accept-Language": "en-US,en;q=0.9"}}


class Watch:
    """Everything a page asked for and complained about while it loaded."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def assert_clean(self, base: str) -> None:
        foreign = [u for u in self.requests if not u.startswith((base, "data:"))]
        assert not foreign, f"the page fetched from outside the node: {foreign}"
        assert not self.errors, self.errors
        problems = [c for c in self.console if c.startswith("error")]
        assert not problems, problems


def open_page(browse: Browse, url: str, **options: Any) -> tuple[Any, Watch]:
    page = browse(**options).new_page()
    watch = Watch(page)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page, watch


def verdict(page: Any) -> tuple[str, str]:
    box = page.locator("#verdict")
    return box.get_attribute("data-status"), box.inner_text()


def kinds(page: Any) -> list[str]:
    return page.locator(".event .event__kind").all_inner_texts()


def test_verified_lot(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(browse, server.lot_url("verified"), **EN)
    status, text = verdict(page)
    assert status == "verified"
    assert "Verified and anchored on the blockchain" in text
    assert "All 6 records are unchanged" in text and "Last anchored in block" in text
    assert kinds(page) == ["Harvest", "Harvest", "Drying", "Hulling", "Packing", "Shipping"]
    assert page.locator(".badge--verified").count() == 6
    body = page.locator("main").inner_text()
    assert "HTX Nông nghiệp Ea Tu" in body and "5,200 kg" in body and "Germany (DE)" in body
    assert body.count("confidential (committed)") == 2  # buyer and price
    assert "this node's own check" in body
    command = page.locator(".command code").inner_text()
    lot = server.seeded.lots["verified"]
    assert command == f"vntrace verify --node {server.url} {server.lot_url('verified')}"
    assert lot in command
    # the plot map: one marker (Point) and one shape (Polygon), drawn inline
    svg = page.locator("svg.map")
    assert svg.is_visible()
    assert svg.locator(".plot__marker").count() == 1 and svg.locator(".plot__shape").count() == 1
    assert svg.locator("text.plot__label").all_text_contents() == ["EA-TU-017", "EA-TU-042"]
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    # details fold out
    digest = page.locator(".event").first.locator(".proof dd code").first
    assert not digest.is_visible()
    page.locator(".event").first.locator(".proof summary").click()
    assert digest.is_visible() and digest.inner_text().startswith("0x")
    page.locator(".techinfo summary").first.click()
    assert "Multiproof of epoch" in page.locator(".techinfo").inner_text()
    page.screenshot(path=str(shots / "verified-desktop-en.png"), full_page=True)
    watch.assert_clean(server.url)


def test_verified_lot_in_vietnamese_on_a_phone(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(browse, server.lot_url("verified"), viewport=PHONE, **VI)
    assert page.locator("html").get_attribute("lang") == "vi"
    status, text = verdict(page)
    assert status == "verified" and "Đã xác minh và neo trên blockchain" in text
    assert kinds(page) == ["Thu hoạch", "Thu hoạch", "Phơi sấy", "Xay xát", "Đóng gói", "Xuất hàng"]
    body = page.locator("main").inner_text()
    assert "5.200 kg" in body and "bảo mật (đã cam kết)" in body
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    assert page.locator("svg.map").bounding_box()["width"] <= PHONE["width"]
    page.screenshot(path=str(shots / "verified-phone-vi.png"), full_page=True)
    # switch language with the link
    page.locator("nav.lang a").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Verified and anchored" in verdict(page)[1]
    watch.assert_clean(server.url)


def test_pending_lot(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(browse, server.lot_url("pending"), viewport=PHONE, **EN)
    status, text = verdict(page)
    assert status == "pending"
    assert "Waiting for anchoring" in text and "3 of 3 records" in text
    assert page.locator(".badge--pending").count() == 3
    page.screenshot(path=str(shots / "pending-phone-en.png"), full_page=True)
    page.goto(server.lot_url("pending", "?lang=vi"))
    assert "Đang chờ neo lên blockchain" in verdict(page)[1]
    page.screenshot(path=str(shots / "pending-phone-vi.png"), full_page=True)
    watch.assert_clean(server.url)


def test_recalled_lot(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(browse, server.lot_url("recalled"), viewport=PHONE, **VI)
    status, text = verdict(page)
    assert status == "recalled"
    assert "LÔ HÀNG ĐÃ BỊ THU HỒI" in text and RECALL_REASON in text
    # prominent: the first thing after the product, and in the first screen
    box = page.locator("#verdict").bounding_box()
    assert box is not None and box["y"] + box["height"] < PHONE["height"]
    assert page.locator(".event--notice").count() == 1  # the recall on the timeline
    page.screenshot(path=str(shots / "recalled-phone-vi.png"), full_page=True)
    page.goto(server.lot_url("recalled", "?lang=en"))
    status, text = verdict(page)
    assert "THIS LOT HAS BEEN RECALLED" in text and "Do not use products from this lot" in text
    page.screenshot(path=str(shots / "recalled-phone-en.png"), full_page=True)
    watch.assert_clean(server.url)


def test_tampered_lot(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(browse, server.lot_url("tampered"), viewport=PHONE, **EN)
    status, text = verdict(page)
    assert status == "failed"
    assert "Verification failed" in text and "1 of 6 records failed" in text
    assert text.index("changed after it was signed") < text.index("signature")
    failed = page.locator(".event--failed")
    assert failed.count() == 1
    assert "52,000 kg" in failed.inner_text()  # what the database now says, flagged
    assert "changed after it was signed" in failed.locator(".event__reasons").inner_text()
    failed.locator(".proof summary").click()
    assert "digest_mismatch" in failed.locator(".proof").inner_text()
    page.screenshot(path=str(shots / "tampered-phone-en.png"), full_page=True)
    page.goto(server.lot_url("tampered", "?lang=vi"))
    assert "Xác minh thất bại" in verdict(page)[1]
    page.screenshot(path=str(shots / "tampered-phone-vi.png"), full_page=True)
    watch.assert_clean(server.url)


def test_hostile_event_text_stays_text(server: Server, browse: Browse, shots: Path) -> None:
    from .seed import XSS

    page, watch = open_page(browse, server.lot_url("hostile"), **EN)
    assert XSS in page.locator(".event").first.inner_text()
    assert "<b>P-1</b>" in page.locator("main").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main script, main img").count() == 0
    assert page.locator("script").count() == 1  # ours, from /assets
    page.screenshot(path=str(shots / "hostile-desktop-en.png"), full_page=True)
    watch.assert_clean(server.url)


def test_readable_without_javascript(server: Server, browse: Browse, shots: Path) -> None:
    page, watch = open_page(
        browse, server.lot_url("verified"), viewport=PHONE, java_script_enabled=False, **EN
    )
    status, text = verdict(page)
    assert status == "verified" and "Verified and anchored" in text
    assert len(kinds(page)) == 6
    assert page.locator("svg.map .plot").count() == 2
    assert page.locator(".command .copy").count() == 0  # the copy button is JS-only
    time = page.locator(".event__time").first.inner_text()
    assert time.endswith("UTC")
    page.locator(".event").first.locator(".proof summary").click()  # <details> needs no JS
    assert page.locator(".event").first.locator(".proof dd code").first.is_visible()
    page.screenshot(path=str(shots / "verified-phone-en-nojs.png"), full_page=True)
    watch.assert_clean(server.url)


def test_javascript_enhances(server: Server, browse: Browse) -> None:
    page, watch = open_page(browse, server.lot_url("verified"), **EN)
    assert page.locator(".command .copy").count() == 1
    first = page.locator(".event__time").first
    assert first.get_attribute("title", timeout=5000).endswith("UTC")
    watch.assert_clean(server.url)


def test_label_page_scans_to_the_lot(server: Server, browse: Browse, shots: Path) -> None:
    lot = server.seeded.lots["verified"]
    url = f"{server.url}/v1/lots/{server.seeded.gtin}/{lot}/label?copies=4"
    page, watch = open_page(browse, url, **VI)
    assert page.locator("article.label").count() == 4
    label = page.locator("article.label").first
    assert lot in label.inner_text() and "Quét để xác minh nguồn gốc" in label.inner_text()
    page.screenshot(path=str(shots / "label-screen-vi.png"), full_page=True)
    qr = label.locator(".label__qr")
    assert decode_png(qr.screenshot()) == server.lot_url("verified")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    assert not page.locator(".controls").is_visible()
    page.screenshot(path=str(shots / "label-print-vi.png"), full_page=True)
    pdf = page.pdf(path=str(shots / "label-print-vi.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
    watch.assert_clean(server.url)
