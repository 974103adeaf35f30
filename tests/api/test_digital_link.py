"""The GS1 Digital Link resolver and its content negotiation."""

from __future__ import annotations

import pytest

from vntrace.api.negotiation import negotiate

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "choice"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        (BROWSER, "html"),
        ("text/html;q=0.5, application/json", "json"),
        ("application/json;q=0.2, text/*", "html"),
        ("application/ld+json", "json"),
        ("image/png", None),
        ("text/html;q=0, application/json;q=0", None),
        ("garbage", "json"),
    ],
)
def test_negotiate(accept: str | None, choice: str | None) -> None:
    assert negotiate(accept) == choice


def test_json_and_html(gw: Gateway, producer: Producer) -> None:
    lot = new_lot()
    gw.lot_with_events(producer, lot, 2)
    url = f"/01/{gw.gtin}/10/{lot}"
    as_json = gw.client.get(url, headers={"Accept": "application/json"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.headers["vary"] == "Accept"
    assert as_json.json() == gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()
    page = gw.client.get(url, headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert f"Lot {lot}" in page.text and "2 events" in page.text
    forced = gw.client.get(url + "?format=json", headers={"Accept": BROWSER})
    assert forced.json()["lot"] == lot
    short_gtin = gw.client.get(f"/01/{gw.gtin[1:]}/10/{lot}?format=json")
    assert short_gtin.json()["gtin"] == gw.gtin


def test_html_escapes_producer_data(gw: Gateway) -> None:
    tricky = gw.producer("<script>alert(1)</script>")
    lot = new_lot()
    gw.lot_with_events(tricky, lot, 1)
    page = gw.client.get(f"/01/{gw.gtin}/10/{lot}", headers={"Accept": "text/html"}).text
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_refusals(gw: Gateway) -> None:
    url = f"/01/{gw.gtin}/10/{new_lot()}"
    assert_problem(gw.client.get(url, headers={"Accept": "image/png"}), 406)
    assert_problem(gw.client.get(url), 404)
    assert_problem(gw.client.get(url + "?format=xml"), 422)
    assert_problem(gw.client.get("/01/123/10/L1"), 422)
