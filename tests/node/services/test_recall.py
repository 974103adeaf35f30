"""RecallService: the lot's producer or the administrator; relayed on chain once."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.errors import ForbiddenError, InvalidInputError, NotFoundError
from vntrace.node.service import TraceNode
from vntrace.node.services import ProducerService, RecallService

from .conftest import Signer


@pytest.fixture(scope="module")
def recalls(node: TraceNode) -> RecallService:
    return RecallService(node.context, ProducerService(node.context))


def test_recall_rules_and_the_verdict_after_it(
    recalls: RecallService, node: TraceNode, coop: LocalAccount, sign: Signer
) -> None:
    gtin = node.profile.gtins[0]
    producer = node.producers.producer(coop.address)
    acks = node.intake.submit(producer, gtin, "LOT-REC-1", sign(coop, "LOT-REC-1")[:2])
    node.anchor_now()
    stranger = node.producers.register_producer(Account.create().address, "stranger")
    with pytest.raises(ForbiddenError):
        recalls.recall(stranger, gtin, "LOT-REC-1", "not mine")
    with pytest.raises(InvalidInputError, match="needs a reason"):
        recalls.recall(producer, gtin, "LOT-REC-1", "   ")
    with pytest.raises(NotFoundError):
        recalls.recall(None, gtin, "LOT-REC-NONE", "no such lot")
    row = recalls.recall(producer, gtin, "LOT-REC-1", "aflatoxin above limit")
    assert row.recalled_at is not None and row.recall_tx_hash is not None
    again = recalls.recall(None, gtin, "LOT-REC-1", "a second reason")
    assert again.recall_reason == "aflatoxin above limit"
    assert again.recall_tx_hash == row.recall_tx_hash
    verdicts = node.verification.verify_records([a.record_id for a in acks])
    assert {v.status for v in verdicts} == {"recalled"}
