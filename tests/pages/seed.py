"""Lots in every state a shopper can meet, written through a real :class:`TraceNode`.

Seeding happens in-process before the server starts on the same data folder (the
embedded chain's folder is locked by one process at a time). The tampered lot is
altered afterwards, directly in SQLite, with no node running: exactly what an operator
with database access could do, and what the node's own verification must catch.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.bench.page import coop_lot_events
from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.epcis.mapping import epcis_document, to_epcis
from vntrace.node.records import prepare_record
from vntrace.node.service import Submission, TraceNode

XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
RECALL_REASON = "Ochratoxin A above the EU limit"


@dataclass(frozen=True)
class Seeded:
    gtin: str
    lots: dict[str, str]  # state -> lot number
    producer: str


def _submit(
    node: TraceNode, account: LocalAccount, producer: Any, gtin: str, lot: str, events: list
) -> list[str]:
    info = node.info()
    subs = []
    for event in events:
        prepared = prepare_record(node.profile, gtin, lot, event)
        signed = prepared.sign(account, info["chainId"], info["registry"])
        subs.append(Submission(signed.event, signed.salt, signed.signature))
    return [a.record_id for a in node.submit(producer, gtin, lot, subs)]


def _capture_plain(node: TraceNode, producer: Any, gtin: str, lot: str, events: list) -> None:
    """The events as a plain EPCIS client sends them (no signatures, no eventIDs): the
    node signs them with the producer's custodial key (docs/epcis.md §6)."""
    node.custodial.create(producer)
    doc = epcis_document([to_epcis(node.profile, gtin, lot, e) for e in events], node.profile)
    node.epcis.capture(producer, json.dumps(doc, ensure_ascii=False).encode())


def seed(data_dir: Path) -> Seeded:
    """Verified, recalled, tampered, pending, hostile-text, large and custodial-signed lots
    in ``data_dir``."""
    settings = Settings(data_dir=data_dir, rate_limit_per_second=0)
    now = datetime.now(UTC)
    events = season_events(now)
    stamp = f"{now:%H%M%S}"
    lots = {
        "verified": f"EA-{stamp}-OK",
        "recalled": f"EA-{stamp}-RC",
        "tampered": f"EA-{stamp}-TX",
        "hostile": f"EA-{stamp}-XS",
        "pending": f"EA-{stamp}-PD",
        "coop": f"EA-{stamp}-CO",  # 995 harvest plots and 4 processing events (issue 19)
        "custodial": f"EA-{stamp}-CU",  # captured as plain EPCIS, signed by the node
    }
    account = Account.create()
    with TraceNode.open(settings) as node:
        producer = node.register_producer(account.address, "HTX Nông nghiệp Ea Tu")
        gtin = node.profile.gtins[0]
        for state in ("verified", "recalled", "tampered"):
            _submit(node, account, producer, gtin, lots[state], events)
        hostile = [dict(events[0], note=XSS, plotId="<b>P-1</b>"), events[2]]
        _submit(node, account, producer, gtin, lots["hostile"], hostile)
        _submit(node, account, producer, gtin, lots["coop"], coop_lot_events(now))
        _capture_plain(node, producer, gtin, lots["custodial"], events)
        node.anchor_now()
        node.recall(None, gtin, lots["recalled"], RECALL_REASON)
        _submit(node, account, producer, gtin, lots["pending"], events[:3])
    tamper(data_dir, gtin, lots["tampered"])
    return Seeded(gtin, lots, producer.name)


def tamper(data_dir: Path, gtin: str, lot: str) -> None:
    """Change the harvested quantity of the lot's first record in the database."""
    db = sqlite3.connect(data_dir / "vntrace.db")
    try:
        (lot_id,) = db.execute(
            "SELECT id FROM lots WHERE gtin = ? AND lot_number = ?", (gtin, lot)
        ).fetchone()
        row_id, raw = db.execute(
            "SELECT id, event_json FROM records WHERE lot_id = ? ORDER BY id LIMIT 1", (lot_id,)
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
