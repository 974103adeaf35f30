"""Receipts, auditing a node that drops records, and confidential fields, end to end."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_account import Account

from vntrace.node.audit import RootAnchor, audit_receipts
from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.errors import InvalidInputError
from vntrace.node.receipts import verify_receipt
from vntrace.node.records import check_disclosure, prepare_record
from vntrace.node.service import Submission, TraceNode

NOW = datetime.now(UTC)


def _settings(data: Path, **kw: object) -> Settings:
    return Settings(data_dir=data, epoch_seconds=0.05, _env_file=None, **kw)  # type: ignore[arg-type]


def _shipping() -> dict:
    return next(e for e in season_events(NOW) if e["kind"] == "shipping")


def _submit(node: TraceNode, acct, lot: str, events: list[dict], *, disclose: bool = True):  # type: ignore[no-untyped-def]
    gtin = node.profile.gtins[0]
    subs, opened = [], []
    for event in events:
        rec = prepare_record(node.profile, gtin, lot, event).sign(
            acct, node.chain.chain_id, node.chain.registry_address
        )
        subs.append(
            Submission(rec.event, rec.salt, rec.signature, rec.disclosures if disclose else None)
        )
        opened.append(rec)
    return node.submit(node.producer(acct.address), gtin, lot, subs), opened


def _root_reader(node: TraceNode):  # type: ignore[no-untyped-def]
    def read(root: bytes) -> RootAnchor | None:
        info = node.chain.get_anchor(root)
        return None if info is None else RootAnchor(info.timestamp, info.revoked)

    return read


def _finder(node: TraceNode):  # type: ignore[no-untyped-def]
    def find(rid: str):  # type: ignore[no-untyped-def]
        try:
            return node.bundle(rid)
        except Exception:
            return None

    return find


def test_identity_is_published_and_receipts_verify(tmp_path: Path) -> None:
    with TraceNode.open(_settings(tmp_path / "n")) as node:
        doc = node.identity_document()
        meta = node.chain.anchorer_metadata(node.chain.operator_address)
        assert doc["nodeId"] in meta and doc["ed25519"] in meta
        acct = Account.create()
        node.register_producer(acct.address, "Coop")
        acks, _ = _submit(node, acct, "R-1", season_events(NOW)[:2])
        for ack in acks:
            assert ack.receipt is not None
            verify_receipt(ack.receipt, node.identity.public_key)
            assert ack.receipt["leaf"] == ack.record_id
        node.anchor_now()
        report = audit_receipts(
            [a.receipt for a in acks],
            node.identity.public_key,
            _finder(node),
            _root_reader(node),
        )
        assert [e.status for e in report] == ["in_time", "in_time"]


def test_a_node_that_drops_an_acknowledged_record_is_caught(tmp_path: Path) -> None:
    data = tmp_path / "n"
    with TraceNode.open(_settings(data)) as node:
        acct = Account.create()
        node.register_producer(acct.address, "Coop")
        acks, _ = _submit(node, acct, "R-2", season_events(NOW)[:3])
        key = node.identity.public_key
    # The operator deletes one acknowledged record before it is anchored.
    with sqlite3.connect(data / "vntrace.db") as db:
        db.execute("DELETE FROM records WHERE leaf = ?", (bytes.fromhex(acks[1].record_id[2:]),))
    with TraceNode.open(_settings(data)) as node:
        node.anchor_now()
        receipts = [a.receipt for a in acks]
        early = audit_receipts(receipts, key, _finder(node), _root_reader(node))
        assert [e.status for e in early] == ["in_time", "pending", "in_time"]
        later = audit_receipts(
            receipts, key, _finder(node), _root_reader(node), now=NOW + timedelta(days=1)
        )
        assert [e.status for e in later] == ["in_time", "never", "in_time"]
        assert "no such record" in later[1].detail
        forged = dict(receipts[0], anchorDeadline="2099-01-01T00:00:00.000Z")
        bad = audit_receipts([forged], key, _finder(node), _root_reader(node))
        assert bad[0].status == "invalid_receipt"


def test_confidential_values_are_sealed_checked_and_rotatable(tmp_path: Path) -> None:
    data = tmp_path / "n"
    k1, k2 = os.urandom(32).hex(), os.urandom(32).hex()
    acct = Account.create()
    with TraceNode.open(_settings(data, vault_keys=f"k1:{k1}")) as node:
        node.register_producer(acct.address, "Coop")
        acks, _ = _submit(node, acct, "R-3", [_shipping()])
        rid = acks[0].record_id
        public = node.bundle(rid)["event"]
        assert "commitment" in public["price"] and "16740" not in str(public)
        opened = node.disclosures(rid)
        assert opened["price"]["value"] == {"amount": "16740.00", "currency": "USD"}
        for path, d in opened.items():
            assert check_disclosure(public, path, d["value"], d["salt"])
        assert not check_disclosure(
            public, "price", {"amount": "1.00", "currency": "USD"}, opened["price"]["salt"]
        )
        # A disclosure that does not open the commitment is refused, nothing stored.
        rec = prepare_record(node.profile, node.profile.gtins[0], "R-4", _shipping()).sign(
            acct, node.chain.chain_id, node.chain.registry_address
        )
        lie = {
            **rec.disclosures,
            "price": {**rec.disclosures["price"], "value": {"amount": "1.00", "currency": "USD"}},
        }
        with pytest.raises(InvalidInputError) as err:
            node.submit(
                node.producer(acct.address),
                node.profile.gtins[0],
                "R-4",
                [Submission(rec.event, rec.salt, rec.signature, lie)],
            )
        assert err.value.errors[0]["code"] == "disclosure_mismatch"
    raw = (data / "vntrace.db").read_bytes() + b"".join(
        p.read_bytes() for p in data.glob("vntrace.db-*")
    )
    assert b"16740" not in raw and b"Hamburg Kaffee" not in raw
    # Rotation: a new active key; the old record stays readable, new ones use k2.
    with TraceNode.open(_settings(data, vault_keys=f"k1:{k1},k2:{k2}")) as node:
        assert node.disclosures(rid)["price"]["value"]["amount"] == "16740.00"
        acks2, _ = _submit(node, acct, "R-5", [_shipping()])
        kid, _blob = node.store.get_sealed_disclosures(bytes.fromhex(acks2[0].record_id[2:]))
        assert kid == "k2"
