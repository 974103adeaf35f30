"""VerificationService: where a record is verified, offline then against the chain."""

from __future__ import annotations

import copy

import pytest
from eth_account.signers.local import LocalAccount

from vntrace.node.service import TraceNode
from vntrace.node.services import VerificationService

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
    assert all(v.ok for v in verification.verify_bundles(stored))
    assert calls == []  # every one was verified at intake, byte for byte

    # Any byte that differs from the stored record gets the full check again.
    other = copy.deepcopy(stored[0])
    other["signature"] = stored[1]["signature"]  # a real signature, of another record
    upper = copy.deepcopy(stored[0])
    upper["signature"] = "0x" + upper["signature"][2:].upper()  # same bytes: still known
    foreign = copy.deepcopy(stored[0])
    foreign["registry"] = "0x" + "11" * 20
    verdicts = verification.verify_bundles([other, upper, foreign])
    assert len(calls) == 2
    assert "bad_signature" in verdicts[0].reasons
    assert verdicts[1].ok
    assert "bad_signature" in verdicts[2].reasons
