"""A lot captured as EPCIS 2.0 reads like any other: bundles say version 2, EUDR sees its
plots, the consumer page its stages, and the lot verifies with one multiproof per epoch."""

from __future__ import annotations

import json
import secrets

from eth_account import Account

from vntrace.client.epcis import profile_events_document
from vntrace.node.demo import season_events
from vntrace.node.epcis.records import profile_provenance
from vntrace.node.service import TraceNode

from .conftest import NOW


def test_a_captured_lot_reads_as_profile_events_and_verifies(node: TraceNode) -> None:
    acct = Account.create()
    producer = node.producers.register_producer(acct.address, "HTX Cư Kuin")
    gtin, lot = node.profile.gtins[0], "EV-" + secrets.token_hex(4).upper()
    events = season_events(NOW)
    doc = profile_events_document(
        node.profile,
        gtin,
        lot,
        events,
        acct,
        chain_id=node.chain.chain_id,
        registry=node.chain.registry_address,
    )
    acks = node.epcis.capture(producer, json.dumps(doc).encode()).acknowledgements
    node.anchor_now()

    bundle = node.bundle(acks[0].record_id)
    assert bundle["version"] == 2 and "kind" not in bundle["event"]  # the signed EPCIS event
    assert all(v.status == "verified" for v in node.verify_bundles([bundle]))

    reading = node.read_lot(gtin, lot)
    assert [v.status for v in node.verify_lot(reading)] == ["verified"] * len(events)
    shown = profile_provenance(node.profile, reading.provenance)
    assert [r["event"]["kind"] for r in shown["records"]] == [e["kind"] for e in events]
    assert shown["records"][0]["event"]["eventTime"] == events[0]["eventTime"]
    assert reading.provenance["records"][0]["event"]["type"] == "ObjectEvent"  # unchanged

    harvests = [e for e in events if e["kind"] == "harvest"]
    facts = node.eudr.facts(gtin, lot)
    assert facts["plots"] == len(harvests) > 0
    assert facts["totalAreaHa"] > 0 and facts["countries"] == ["VN"]
