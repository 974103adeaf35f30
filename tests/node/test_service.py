"""The node's service layer end to end: intake rules, proofs, verification verdicts."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.bundles import check_lot_multiproof
from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.errors import ForbiddenError, InvalidInputError, NotFoundError
from vntrace.node.records import prepare_record
from vntrace.node.service import Submission, TraceNode

NOW = __import__("datetime").datetime.now(__import__("datetime").UTC)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceNode]:
    data = tmp_path_factory.mktemp("node")
    with TraceNode.open(Settings(data_dir=data, epoch_seconds=0.05, _env_file=None)) as n:
        yield n


@pytest.fixture(scope="module")
def coop(node: TraceNode) -> LocalAccount:
    acct = Account.create()
    node.register_producer(acct.address, "HTX Ea Tu")
    return acct


def sign(
    node: TraceNode,
    acct: LocalAccount,
    lot: str,
    events: list[dict],
    *,
    chain_id: int | None = None,
    registry: str | None = None,
) -> list[Submission]:
    gtin = node.profile.gtins[0]
    out = []
    for event in events:
        rec = prepare_record(node.profile, gtin, lot, event).sign(
            acct, chain_id or node.chain.chain_id, registry or node.chain.registry_address
        )
        out.append(Submission(rec.event, rec.salt, rec.signature))
    return out


def test_producer_is_registered_on_node_and_chain(node: TraceNode, coop: LocalAccount) -> None:
    row = node.producer(coop.address)
    assert row.registered_onchain
    on_chain = node.chain.get_producer(coop.address)
    assert on_chain is not None and on_chain.active
    with pytest.raises(NotFoundError):
        node.producer(Account.create().address)


def test_intake_is_idempotent_and_anchors(node: TraceNode, coop: LocalAccount) -> None:
    gtin = node.profile.gtins[0]
    subs = sign(node, coop, "LOT-A", season_events(NOW))
    acks = node.submit(node.producer(coop.address), gtin, "LOT-A", subs)
    assert len(acks) == len(subs) and not any(a.duplicate for a in acks)
    again = node.submit(node.producer(coop.address), gtin, "LOT-A", subs[:2])
    assert [a.duplicate for a in again] == [True, True]
    assert [a.record_id for a in again] == [a.record_id for a in acks[:2]]
    pending = node.bundle(acks[0].record_id)
    assert pending["status"] == "pending" and pending["proof"] is None
    assert node.verify_bundles([pending])[0].status == "pending"

    assert node.anchor_now() >= 1
    bundle = node.bundle(acks[0].record_id)
    assert bundle["status"] == "anchored" and bundle["anchor"]["blockNumber"] > 0
    verdicts = node.verify_records([a.record_id for a in acks])
    assert all(v.status == "verified" for v in verdicts), verdicts

    prov = node.provenance(gtin, "LOT-A")
    assert len(prov["records"]) == len(subs)
    for mp in prov["multiproofs"]:
        assert check_lot_multiproof(mp["root"], mp["leaves"], mp["proof"], mp["proofFlags"])
        assert mp["anchor"] is not None


def test_forged_wrong_producer_and_wrong_domain_signatures_are_refused(
    node: TraceNode, coop: LocalAccount
) -> None:
    gtin = node.profile.gtins[0]
    producer = node.producer(coop.address)
    events = season_events(NOW)[:1]
    other = Account.create()
    cases = {
        "signed by someone else": sign(node, other, "LOT-B", events),
        "another chain id": sign(node, coop, "LOT-B", events, chain_id=1),
        "another registry (replay)": sign(node, coop, "LOT-B", events, registry="0x" + "12" * 20),
    }
    for label, subs in cases.items():
        with pytest.raises(InvalidInputError) as err:
            node.submit(producer, gtin, "LOT-B", subs)
        assert err.value.errors and err.value.errors[0]["index"] == 0, label
    good = sign(node, coop, "LOT-B", events)
    sig = bytearray(good[0].signature)
    sig[10] ^= 0x01  # a forged r
    forged = Submission(good[0].event, good[0].salt, bytes(sig))
    with pytest.raises(InvalidInputError):
        node.submit(producer, gtin, "LOT-B", [forged])
    assert node.store.get_lot(node.lot_identity(gtin, "LOT-B")[2]) is not None  # lot only
    assert node.store.list_records_by_lot(node.lot_identity(gtin, "LOT-B")[2]) == []


def test_all_or_none_and_field_errors(node: TraceNode, coop: LocalAccount) -> None:
    gtin = node.profile.gtins[0]
    events = season_events(NOW)[:2]
    bad = copy.deepcopy(events[1])
    bad["geolocation"]["coordinates"][0][0] = [108.0612345678, 12.691234]
    subs = sign(node, coop, "LOT-C", [events[0]])
    bad_sub = Submission(bad, subs[0].salt, subs[0].signature)
    with pytest.raises(InvalidInputError) as err:
        node.submit(node.producer(coop.address), gtin, "LOT-C", [subs[0], bad_sub])
    fields = {e["field"] for e in err.value.errors}
    assert any("geolocation" in f for f in fields), err.value.errors
    assert node.store.list_records_by_lot(node.lot_identity(gtin, "LOT-C")[2]) == []


def test_producers_cannot_write_to_each_others_lots(node: TraceNode, coop: LocalAccount) -> None:
    rival = Account.create()
    node.register_producer(rival.address, "Rival")
    gtin = node.profile.gtins[0]
    node.register_lot(node.producer(coop.address), gtin, "LOT-D")
    with pytest.raises(ForbiddenError):
        node.submit(
            node.producer(rival.address),
            gtin,
            "LOT-D",
            sign(node, rival, "LOT-D", season_events(NOW)[:1]),
        )
    with pytest.raises(ForbiddenError):
        node.recall(node.producer(rival.address), gtin, "LOT-D", "not mine")
    with pytest.raises(InvalidInputError):
        node.register_lot(node.producer(coop.address), "00000000000000", "X")


def test_tampering_is_caught_with_the_right_reason(node: TraceNode, coop: LocalAccount) -> None:
    gtin = node.profile.gtins[0]
    acks = node.submit(
        node.producer(coop.address),
        gtin,
        "LOT-E",
        sign(node, coop, "LOT-E", season_events(NOW)[:3]),
    )
    node.anchor_now()
    bundle = node.bundle(acks[1].record_id)

    def variant(edit) -> list[str]:  # type: ignore[no-untyped-def]
        b = copy.deepcopy(bundle)
        edit(b)
        return list(node.verify_bundles([b])[0].reasons)

    assert node.verify_bundles([bundle])[0].status == "verified"
    assert "digest_mismatch" in variant(lambda b: b["event"].update(plotAreaHa=99))
    assert "digest_mismatch" in variant(lambda b: b.update(salt="0x" + "00" * 32))
    assert "bad_signature" in variant(
        lambda b: b.update(
            signature=b["signature"][:-2] + ("1b" if b["signature"][-2:] == "1c" else "1c")
        )
    )
    if bundle["proof"]:
        assert "proof_mismatch" in variant(lambda b: b["proof"].__setitem__(0, "0x" + "ab" * 32))
    assert "root_not_anchored" in variant(
        lambda b: (b.update(root="0x" + "cd" * 32), b.update(proof=[]))
    )
    assert variant(lambda b: b.pop("event")) == ["malformed"]
    assert node.verify_bundles(["not a bundle"])[0].reasons == ("malformed",)  # type: ignore[list-item]
    assert node.verify_records(["0x" + "00" * 32])[0].reasons == ("unknown_record",)


def test_recall_and_revocation_show_in_verdicts(node: TraceNode, coop: LocalAccount) -> None:
    gtin = node.profile.gtins[0]
    acks = node.submit(
        node.producer(coop.address),
        gtin,
        "LOT-F",
        sign(node, coop, "LOT-F", season_events(NOW)[:2]),
    )
    node.anchor_now()
    rid = acks[0].record_id
    assert node.verify_records([rid])[0].status == "verified"
    lot = node.recall(node.producer(coop.address), gtin, "LOT-F", "aflatoxin above limit")
    assert lot.recall_tx_hash is not None and node.chain.is_recalled(lot.lot_key)
    verdict = node.verify_records([rid])[0]
    assert verdict.status == "recalled" and verdict.reasons == ("lot_recalled",)

    acks = node.submit(
        node.producer(coop.address),
        gtin,
        "LOT-G",
        sign(node, coop, "LOT-G", season_events(NOW)[:1]),
    )
    node.anchor_now()
    bundle = node.bundle(acks[0].record_id)
    node.chain.revoke_root(bytes.fromhex(bundle["root"][2:]), "operator error")
    node.roots.refresh()
    verdict = node.verify_bundles([bundle])[0]
    assert verdict.status == "failed" and "root_revoked" in verdict.reasons


def test_deactivated_producer_cannot_submit(node: TraceNode) -> None:
    acct = Account.create()
    row = node.register_producer(acct.address, "Leaving coop")
    node.store.set_producer_active(row.id, False)
    with pytest.raises(ForbiddenError):
        node.submit(
            node.producer(acct.address),
            node.profile.gtins[0],
            "LOT-H",
            sign(node, acct, "LOT-H", season_events(NOW)[:1]),
        )


def test_demo_runs_on_a_fresh_folder(tmp_path: Path) -> None:
    from vntrace.node.demo import run_demo

    lines: list[str] = []
    assert run_demo(tmp_path / "demo", out=lines.append) == 0
    assert any("6/6 records verified" in line for line in lines), lines
    assert any("failed (digest_mismatch" in line for line in lines), lines
    assert oct((tmp_path / "demo" / "demo-producers.json").stat().st_mode)[-3:] == "600"
