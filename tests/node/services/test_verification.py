"""VerificationService: where a record is verified, offline then against the chain."""

from __future__ import annotations

import copy

import pytest
from eth_account.signers.local import LocalAccount

from vntrace.node.service import TraceNode
from vntrace.node.services import VerificationService
from vntrace.node.services.verification import KNOWN_FROM

from .conftest import Signer


@pytest.fixture(scope="module")
def verification(node: TraceNode) -> VerificationService:
    return VerificationService(node.context, node.roots, node.proofs)


@pytest.fixture(scope="module")
def record_ids(node: TraceNode, coop: LocalAccount, sign: Signer) -> list[str]:
    producer = node.producers.producer(coop.address)
    acks = node.intake.submit(producer, node.profile.gtins[0], "LOT-VER-1", sign(coop, "LOT-VER-1"))
    node.anchor_now()
    return [a.record_id for a in acks]


def test_stored_records_verify_and_unknown_ones_fail(
    verification: VerificationService, record_ids: list[str]
) -> None:
    unknown = "0x" + "cd" * 32
    verdicts = verification.verify_records([*record_ids, unknown])
    assert [v.status for v in verdicts[:-1]] == ["verified"] * len(record_ids)
    assert verdicts[-1].status == "failed" and verdicts[-1].reasons == ("unknown_record",)
    assert verdicts[0].anchor is not None and verdicts[0].record_id == record_ids[0]


def test_a_changed_event_or_a_claimed_anchor_time_fails(
    verification: VerificationService, node: TraceNode, record_ids: list[str]
) -> None:
    bundle = node.proofs.bundle(record_ids[0])
    changed = copy.deepcopy(bundle)
    changed["event"]["eventTime"] = "2020-01-01T00:00:00Z"
    lying = copy.deepcopy(bundle)
    lying["anchor"]["blockTimestamp"] += 3600
    good, bad_event, bad_anchor = verification.verify_bundles([bundle, changed, lying])
    assert good.ok
    assert bad_event.status == "failed" and "digest_mismatch" in bad_event.reasons
    assert bad_anchor.status == "failed" and bad_anchor.reasons == ("anchor_mismatch",)
    assert "blockTimestamp" in bad_anchor.details[0]


def test_malformed_input_is_a_verdict_not_an_exception(
    verification: VerificationService,
) -> None:
    verdicts = verification.verify_bundles([{}, {"leaf": "nope"}])
    assert [v.status for v in verdicts] == ["failed", "failed"]
    assert all("malformed" in v.reasons for v in verdicts)


def test_signatures_intake_recovered_are_not_recovered_again(
    verification: VerificationService,
    node: TraceNode,
    record_ids: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vntrace.node import bundles

    calls: list[str] = []
    real = bundles.verify_record_signature

    def counting(*args: object) -> None:
        calls.append("recovered")
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bundles, "verify_record_signature", counting)
    stored = [node.proofs.bundle(rid) for rid in record_ids]
    batch = (stored * KNOWN_FROM)[:KNOWN_FROM]  # large enough to ask the store
    assert all(v.ok for v in verification.verify_bundles(batch))
    assert calls == []  # every one was verified at intake, byte for byte

    # Any byte that differs from the stored record gets the full check again.
    other = copy.deepcopy(stored[0])
    other["signature"] = stored[1]["signature"]  # a real signature, of another record
    upper = copy.deepcopy(stored[0])
    upper["signature"] = "0x" + upper["signature"][2:].upper()  # same bytes: still known
    foreign = copy.deepcopy(stored[0])
    foreign["registry"] = "0x" + "11" * 20
    verdicts = verification.verify_bundles([other, upper, foreign, *batch])
    assert len(calls) == 2
    assert "bad_signature" in verdicts[0].reasons
    assert verdicts[1].ok
    assert "bad_signature" in verdicts[2].reasons
    assert all(v.ok for v in verdicts[3:])

    # A small batch recovers every signature (cheaper than the store read), same verdicts.
    calls.clear()
    small = verification.verify_bundles([other, upper, foreign])
    assert len(calls) == 3
    assert [v.reasons for v in small] == [v.reasons for v in verdicts[:3]]


def test_verify_records_takes_what_intake_checked_from_the_rows_it_read(
    verification: VerificationService,
    node: TraceNode,
    record_ids: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One store read: the bundles' rows carry the digest, signature and signer, so
    ``intake_signatures`` is not asked and no signature is recovered, whatever the size."""
    from vntrace.node import bundles

    recovered: list[str] = []
    real = bundles.verify_record_signature

    def counting(*args: object) -> None:
        recovered.append("recovered")
        real(*args)  # type: ignore[arg-type]

    def no_second_read(*_: object) -> None:
        raise AssertionError("intake_signatures read again")

    monkeypatch.setattr(bundles, "verify_record_signature", counting)
    monkeypatch.setattr(node.store, "intake_signatures", no_second_read)
    for ids in (record_ids[:1], record_ids * KNOWN_FROM):
        verdicts = verification.verify_records(ids)
        assert [v.status for v in verdicts] == ["verified"] * len(ids)
    assert recovered == []


def _as_records(verdicts: list) -> list[tuple[str, tuple[str, ...], str | None]]:
    return [(v.status, v.reasons, v.record_id) for v in verdicts]


def test_a_lot_verified_with_one_multiproof_per_epoch_agrees_with_record_by_record(
    verification: VerificationService, node: TraceNode, coop: LocalAccount, sign: Signer
) -> None:
    producer = node.producers.producer(coop.address)
    gtin = node.profile.gtins[0]
    node.intake.submit(producer, gtin, "LOT-VER-MP", sign(coop, "LOT-VER-MP")[:3])
    node.anchor_now()  # one epoch
    node.intake.submit(producer, gtin, "LOT-VER-MP", sign(coop, "LOT-VER-MP")[3:])
    node.anchor_now()  # a second epoch
    node.intake.submit(producer, gtin, "LOT-VER-MP", sign(coop, "LOT-VER-MP")[:1])  # pending
    reading = node.proofs.read_lot(gtin, "LOT-VER-MP")
    assert len(reading.multiproofs) == 2
    ids = [r["recordId"] for r in reading.provenance["records"]]
    by_lot = verification.verify_lot(reading)
    assert _as_records(by_lot) == _as_records(verification.verify_records(ids))
    assert [v.status for v in by_lot].count("verified") == len(ids) - 1
    assert by_lot[-1].status == "pending"
    assert by_lot[0].anchor == verification.verify_records(ids[:1])[0].anchor


def test_a_tampered_stored_event_fails_the_lot_with_the_bundles_reason(
    verification: VerificationService,
    node: TraceNode,
    coop: LocalAccount,
    sign: Signer,
) -> None:
    from sqlalchemy import text

    producer = node.producers.producer(coop.address)
    gtin = node.profile.gtins[0]
    acks = node.intake.submit(producer, gtin, "LOT-VER-TAMPER", sign(coop, "LOT-VER-TAMPER"))
    node.anchor_now()
    victim = bytes.fromhex(acks[1].record_id[2:])
    with node.store._engine.begin() as conn:  # the operator edits a stored event
        raw = conn.execute(
            text("SELECT event_json FROM records WHERE leaf = :l"), {"l": victim}
        ).scalar_one()
        changed = bytes(raw).replace(b'"eventTime":"', b'"eventTime":"1', 1)
        assert changed != bytes(raw)
        conn.execute(
            text("UPDATE records SET event_json = :e WHERE leaf = :l"), {"e": changed, "l": victim}
        )
    reading = node.proofs.read_lot(gtin, "LOT-VER-TAMPER")
    verdicts = verification.verify_lot(reading)
    assert verdicts[1].status == "failed" and "digest_mismatch" in verdicts[1].reasons
    assert [v.status for i, v in enumerate(verdicts) if i != 1] == ["verified"] * (len(acks) - 1)
    ids = [r["recordId"] for r in reading.provenance["records"]]
    assert _as_records(verdicts) == _as_records(verification.verify_records(ids))


def test_a_stored_tree_that_no_longer_proves_the_lot_fails_every_record_of_its_epoch(
    verification: VerificationService,
    node: TraceNode,
    coop: LocalAccount,
    sign: Signer,
) -> None:
    from sqlalchemy import text

    producer = node.producers.producer(coop.address)
    gtin = node.profile.gtins[0]
    acks = node.intake.submit(producer, gtin, "LOT-VER-ROOT", sign(coop, "LOT-VER-ROOT"))
    node.anchor_now()
    epoch = node.proofs.record(acks[0].record_id).epoch
    root = node.store.get_epoch(epoch).root

    def set_root(value: bytes) -> None:
        with node.store._engine.begin() as conn:
            conn.execute(
                text("UPDATE epochs SET root = :r WHERE number = :n"), {"r": value, "n": epoch}
            )

    set_root(b"\x01" * 32)  # the stored root is no longer the one anchored
    try:
        reading = node.proofs.read_lot(gtin, "LOT-VER-ROOT")
        verdicts = verification.verify_lot(reading)
        assert all(v.status == "failed" and "proof_mismatch" in v.reasons for v in verdicts)
        ids = [r["recordId"] for r in reading.provenance["records"]]
        assert _as_records(verdicts) == _as_records(verification.verify_records(ids))
    finally:
        set_root(root)  # the node is shared by the package's tests


def test_a_recalled_lot_judged_once_per_epoch_matches_record_by_record_exactly(
    verification: VerificationService, node: TraceNode, coop: LocalAccount, sign: Signer
) -> None:
    from vntrace.node.services import ProducerService, RecallService

    producer = node.producers.producer(coop.address)
    gtin, lot = node.profile.gtins[0], "LOT-VER-RECALL"
    node.intake.submit(producer, gtin, lot, sign(coop, lot)[:3])
    node.anchor_now()
    node.intake.submit(producer, gtin, lot, sign(coop, lot)[3:])
    node.anchor_now()  # two epochs of several records each: facts shared within each
    RecallService(node.context, ProducerService(node.context)).recall(
        producer, gtin, lot, "aflatoxin above limit"
    )
    reading = node.proofs.read_lot(gtin, lot)
    assert len(reading.multiproofs) == 2
    ids = [r["recordId"] for r in reading.provenance["records"]]
    by_lot = verification.verify_lot(reading)
    assert by_lot == verification.verify_records(ids)  # every field: reasons, details, anchor
    assert {v.status for v in by_lot} == {"recalled"}
    assert all(v.reasons == ("lot_recalled",) and v.signed_by == "producer" for v in by_lot)
    assert len({v.record_id for v in by_lot}) == len(ids)
    assert len({v.anchor["txHash"] for v in by_lot if v.anchor}) == 2  # each epoch's own
