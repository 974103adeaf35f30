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
