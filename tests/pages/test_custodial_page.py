"""The consumer page of a lot a plain EPCIS client captured: each record the node signed
for the producer says so, in both languages, and the verdict counts them; a lot the
producer signed itself says nothing of the kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.api.conftest import Gateway
from tests.api.helpers import new_lot
from vntrace.node.demo import season_events
from vntrace.node.epcis.mapping import epcis_document, to_epcis

from .test_routes import page, submit


def test_custodial_records_say_who_signed(gw: Gateway) -> None:
    producer, lot = gw.producer("HTX Ea Kiết"), new_lot()
    r = gw.client.post(f"/v1/producers/{producer.address}/custodial-key", headers=producer.headers)
    assert r.status_code == 201, r.text
    custodian = r.json()["custodians"][0]
    events = season_events(datetime.now(UTC))
    plain = epcis_document(
        [to_epcis(gw.node.profile, gw.gtin, lot, e) for e in events], gw.node.profile
    )
    r = gw.client.post(
        "/epcis/capture",
        content=json.dumps(plain, ensure_ascii=False).encode(),
        headers={**producer.headers, "Content-Type": "application/ld+json"},
    )
    assert r.status_code == 202, r.text
    gw.node.anchor_now()

    en = page(gw, lot, "?lang=en").text
    assert 'data-status="verified"' in en
    assert en.count('data-signer="custodial"') == len(events) + 1  # each record, and the verdict
    assert en.count("Signed by the node for the producer") >= len(events)
    assert f"{len(events)} of {len(events)} records were signed by the node for the producer" in en
    assert "signed by the registered producer or by the node for the producer" in en
    assert custodian in en  # the key, in each record's details
    vi = page(gw, lot, "?lang=vi").text
    assert vi.count("Nút ký thay nhà sản xuất") >= len(events)
    assert "do nút ký thay nhà sản xuất" in vi

    own = new_lot()
    submit(gw, producer, own, events[:2])
    gw.node.anchor_now()
    mine = page(gw, own, "?lang=en").text
    assert 'data-status="verified"' in mine and 'data-signer="custodial"' not in mine
    assert "The producer, with its own key" in mine
    assert "signed by the registered producer and anchored" in mine
