"""The page, QR and label endpoints through the real app (no browser)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image

from tests.api.conftest import Gateway
from tests.api.helpers import Producer, new_lot
from vntrace.api.pages.qr import qr_code
from vntrace.node.demo import season_events
from vntrace.node.errors import UnavailableError
from vntrace.node.records import prepare_record

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
XSS = '<script>alert("x")</script>'


def submit(gw: Gateway, producer: Producer, lot: str, events: list[dict[str, Any]]) -> None:
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
    body = {"gtin": gw.gtin, "lot": lot, "events": items}
    r = gw.client.post("/v1/lots", json=body, headers=producer.headers)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def lots(gw: Gateway) -> dict[str, str]:
    producer = gw.producer("HTX <b>Ea Tu</b>")
    events = season_events(datetime.now(UTC))
    out = {"anchored": new_lot(), "pending": new_lot()}
    submit(gw, producer, out["anchored"], [dict(events[0], note=XSS), *events[1:]])
    gw.node.anchor_now()
    submit(gw, producer, out["pending"], events[:2])
    return out


def page(gw: Gateway, lot: str, query: str = "", **headers: str) -> Any:
    r = gw.client.get(f"/01/{gw.gtin}/10/{lot}{query}", headers={**HTML, **headers})
    assert r.headers["content-type"].startswith("text/html")
    return r


def test_verified_page_in_both_languages(gw: Gateway, lots: dict[str, str]) -> None:
    en = page(gw, lots["anchored"])
    assert en.status_code == 200
    assert "Verified and anchored on the blockchain" in en.text
    assert "Harvest" in en.text and "Shipping" in en.text
    assert "confidential (committed)" in en.text  # buyer and price of the shipping event
    assert "16740" not in en.text and "Hamburg" not in en.text
    assert f"vntrace verify --node http://testserver http://127.0.0.1:8080/01/{gw.gtin}" in en.text
    assert '<svg class="map"' in en.text and "plot__shape" in en.text and "plot__marker" in en.text
    assert en.headers["content-language"] == "en"
    vi = page(gw, lots["anchored"], **{"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert 'lang="vi"' in vi.text and "Đã xác minh và neo trên blockchain" in vi.text
    assert "Thu hoạch" in vi.text and "bảo mật (đã cam kết)" in vi.text
    assert 'href="?lang=en"' in vi.text
    forced = page(gw, lots["anchored"], "?lang=en", **{"Accept-Language": "vi"})
    assert "Verified and anchored" in forced.text


def test_pending_page(gw: Gateway, lots: dict[str, str]) -> None:
    assert "Waiting for anchoring" in page(gw, lots["pending"]).text
    assert "Đang chờ neo lên blockchain" in page(gw, lots["pending"], "?lang=vi").text


def test_headers_and_escaping(gw: Gateway, lots: dict[str, str]) -> None:
    r = page(gw, lots["anchored"])
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert r.headers["vary"] == "Accept, Accept-Language"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert XSS not in r.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.text
    assert "<b>Ea Tu</b>" not in r.text and "&lt;b&gt;Ea Tu&lt;/b&gt;" in r.text
    assert "<script>" not in r.text and " style=" not in r.text
    assert "http://" not in r.text.split("<body")[0].replace("http://testserver", "")
    json = gw.client.get(f"/01/{gw.gtin}/10/{lots['anchored']}")  # no Accept: JSON, as before
    assert json.headers["content-type"].startswith("application/json")


def test_unknown_and_invalid_lots_get_a_page(gw: Gateway) -> None:
    missing = gw.client.get(f"/01/{gw.gtin}/10/{new_lot()}", headers=HTML)
    assert missing.status_code == 404 and "Lot not found" in missing.text
    assert "content-security-policy" in missing.headers
    invalid = gw.client.get("/01/123/10/L1?lang=vi", headers=HTML)
    assert invalid.status_code == 422 and "GS1 Digital Link hợp lệ" in invalid.text


def test_assets(gw: Gateway) -> None:
    text = page(gw, new_lot()).text  # the 404 page links them too
    href = text.split('rel="stylesheet" href="')[1].split('"')[0]
    css = gw.client.get(href)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    again = gw.client.get(href, headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    js = gw.client.get("/assets/page.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "immutable" not in js.headers["cache-control"]
    assert gw.client.get("/assets/../main.py").status_code == 404
    assert gw.client.get("/assets/secret.txt").status_code == 404


def decode_png(data: bytes) -> str:
    import zxingcpp

    image = Image.open(io.BytesIO(data)).convert("L")
    (result,) = zxingcpp.read_barcodes(image)
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def test_qr_codes_decode_to_the_digital_link(gw: Gateway, lots: dict[str, str]) -> None:
    lot = lots["anchored"]
    uri = gw.client.get(f"/01/{gw.gtin}/10/{lot}?format=json").json()["digitalLink"]
    png = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/qr?format=png&scale=6")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decode_png(png.content) == uri
    assert png.headers["x-digital-link"] == uri
    svg = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/qr")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<?xml") and "<svg" in svg.text
    assert qr_code(uri).error == "Q"
    cached = gw.client.get(
        f"/v1/lots/{gw.gtin}/{lot}/qr", headers={"If-None-Match": svg.headers["etag"]}
    )
    assert cached.status_code == 304
    assert gw.client.get(f"/v1/lots/{gw.gtin}/{new_lot()}/qr").status_code == 404
    assert gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/qr?format=gif").status_code == 422


def test_lot_with_slash_gets_its_own_code(gw: Gateway) -> None:
    lot = "A/" + new_lot()[2:]
    submit(gw, gw.producer(), lot, season_events(datetime.now(UTC))[:1])
    encoded = lot.replace("/", "%2F")
    png = gw.client.get(f"/v1/lots/{gw.gtin}/{encoded}/qr?format=png")
    assert decode_png(png.content).endswith(f"/10/{encoded}")
    assert page(gw, encoded).status_code == 200


def test_label_page(gw: Gateway, lots: dict[str, str]) -> None:
    lot = lots["anchored"]
    r = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/label?copies=4&lang=vi")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text.count('class="label"') == 4
    assert r.text.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox=') == 4
    assert "Cà phê Robusta Việt Nam" in r.text and lot in r.text and gw.gtin in r.text
    assert 'Quét để xác minh nguồn gốc · <span lang="en">Scan to verify origin</span>' in r.text
    assert "label.css" in r.text and "content-security-policy" in r.headers
    assert gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/label?copies=0").status_code == 422
    assert gw.client.get(f"/v1/lots/{gw.gtin}/{new_lot()}/label").status_code == 404


def test_page_when_the_chain_cannot_be_read(
    gw: Gateway, lots: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(reading: object) -> None:
        raise UnavailableError("the chain could not be read: connection refused")

    monkeypatch.setattr(gw.node, "verify_lot", down)
    r = page(gw, lots["anchored"])
    assert r.status_code == 200
    assert "Cannot verify right now" in r.text and 'data-status="unavailable"' in r.text
    assert "Not checked" in r.text and "Harvest" in r.text


def test_eudr_facts_on_the_page(gw: Gateway, lots: dict[str, str]) -> None:
    en = page(gw, lots["anchored"], "?lang=en").text
    assert "EU deforestation rules (EUDR)" in en
    assert "<dt>Plots</dt><dd>2</dd>" in en and "<dd>VN</dd>" in en
    assert "<dt>Total area</dt><dd>8.29 ha</dd>" in en  # 1.8 ha point + 6.49 ha polygon
    assert "none recorded yet" in en
    producer = gw.producer()
    lot = new_lot()
    notice = {
        "kind": "regulatory_notification",
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "regulation": "EUDR",
        "ddsReferenceNumber": "25DEAB12CD34EF",
        "ddsVerificationNumber": "K7Q2M9XZ",
        "activityType": "IMPORT",
    }
    submit(gw, producer, lot, [*season_events(datetime.now(UTC)), notice])
    vi = page(gw, lot, "?lang=vi").text
    assert "số tham chiếu 25DEAB12CD34EF, số xác minh K7Q2M9XZ" in vi
    assert "<dt>Tổng diện tích</dt><dd>8,29 ha</dd>" in vi


def test_a_lot_captured_as_epcis_reads_like_any_other(gw: Gateway) -> None:
    """Its events are signed EPCIS 2.0 (bundle version 2); the page shows them in the
    profile's words, with their plots, and verifies them."""
    import json

    from vntrace.client.epcis import profile_events_document

    producer, lot = gw.producer("HTX Cư Kuin"), new_lot()
    events = season_events(datetime.now(UTC))
    doc = profile_events_document(
        gw.node.profile,
        gw.gtin,
        lot,
        events,
        producer.account,
        chain_id=gw.info["chainId"],
        registry=gw.info["registry"],
    )
    r = gw.client.post(
        "/epcis/capture",
        content=json.dumps(doc).encode(),
        headers={**producer.headers, "Content-Type": "application/ld+json"},
    )
    assert r.status_code == 202, r.text
    gw.node.anchor_now()
    html = page(gw, lot, "?lang=en").text
    assert 'data-status="verified"' in html
    assert "Harvest" in html and "Drying" in html
    assert 'class="plot-map"' in html or "<svg" in html
    assert "no plots" not in html.lower()
