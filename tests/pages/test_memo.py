"""The page memo: what a lot's events alone determine, kept per stored bytes, including
its EPCIS events read in the profile's terms (``memoised_profile_provenance``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from eth_account import Account

from tests.api.conftest import Gateway
from tests.api.helpers import new_lot
from vntrace.api.pages import Derived, PageMemo, content_key, memoised_profile_provenance
from vntrace.node.demo import season_events
from vntrace.node.epcis.records import profile_provenance
from vntrace.node.services.provenance import LotReading

from .seed import _capture_plain


def test_content_key_covers_every_byte_and_the_boundaries() -> None:
    assert content_key([b"ab", b"c"]) == content_key([b"ab", b"c"])
    assert content_key([b"ab", b"c"]) != content_key([b"a", b"bc"])  # length-prefixed
    assert content_key([b"ab", b"c"]) != content_key([b"ab", b"d"])


def test_profile_events_are_kept_and_the_rest_is_read_now(gw: Gateway) -> None:
    node, memo, lot = gw.node, PageMemo(), new_lot()
    producer = node.register_producer(Account.create().address, "HTX Cư Kuin")
    _capture_plain(node, producer, gw.gtin, lot, season_events(datetime.now(UTC)))  # EPCIS
    pending = node.read_lot(gw.gtin, lot)
    assert all("kind" not in r["event"] for r in pending.provenance["records"])  # EPCIS

    def shown(reading: LotReading) -> dict:
        key = content_key(r.event_json for r in reading.rows)
        return memoised_profile_provenance(Derived(memo, key), node.profile, reading.provenance)

    first = shown(pending)
    assert first == profile_provenance(node.profile, pending.provenance)
    assert all("kind" in r["event"] for r in first["records"])  # in the profile's terms
    assert {r["status"] for r in first["records"]} == {"pending"}

    node.anchor_now()
    anchored = node.read_lot(gw.gtin, lot)
    second = shown(anchored)
    assert second == profile_provenance(node.profile, anchored.provenance)
    assert {r["status"] for r in second["records"]} == {"anchored"}  # not the memo's
    # the same stored bytes: the events come from the memo, not from a new mapping
    assert all(
        a["event"] is b["event"] for a, b in zip(first["records"], second["records"], strict=True)
    )

    # one changed byte in one stored event: another key, the events mapped afresh
    rows = list(anchored.rows)
    rows[0] = dataclasses.replace(rows[0], event_json=rows[0].event_json + b" ")
    changed = dataclasses.replace(anchored, rows=tuple(rows))
    third = shown(changed)
    assert third == second and third["records"][0]["event"] is not second["records"][0]["event"]


def test_a_lot_without_epcis_events_is_shown_as_it_is(gw: Gateway) -> None:
    lot = new_lot()
    gw.lot_with_events(gw.producer(), lot, 2)
    reading = gw.node.read_lot(gw.gtin, lot)
    derived = Derived(PageMemo(), content_key(r.event_json for r in reading.rows))
    for _ in range(2):  # built, then from the memo
        out = memoised_profile_provenance(derived, gw.node.profile, reading.provenance)
        assert out is reading.provenance
    assert memoised_profile_provenance(None, gw.node.profile, reading.provenance) == (
        profile_provenance(gw.node.profile, reading.provenance)
    )
