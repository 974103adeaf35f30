"""IntakeService: all or nothing, duplicates answered from the store, signed receipts."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.errors import InvalidInputError
from vntrace.node.receipts import verify_receipt
from vntrace.node.records import lot_key
from vntrace.node.services import (
    DisclosureService,
    IntakeService,
    NodeContext,
    ProducerService,
    Submission,
)

from .conftest import Signer


@pytest.fixture(scope="module")
def intake(ctx: NodeContext) -> IntakeService:
    return IntakeService(ctx, ProducerService(ctx), DisclosureService(ctx))


def test_accepts_a_season_and_answers_a_retry_with_the_stored_rows(
    intake: IntakeService, ctx: NodeContext, coop: LocalAccount, sign: Signer
) -> None:
    producer = ctx.store.get_producer_by_address(bytes.fromhex(coop.address[2:]))
    assert producer is not None
    gtin = ctx.profile.gtins[0]
    subs = sign(coop, "LOT-IN-1")
    acks = intake.submit(producer, gtin, "LOT-IN-1", subs)
    assert len(acks) == len(subs) and not any(a.duplicate for a in acks)
    assert all(a.anchor_deadline > a.received_at for a in acks)
    for ack in acks:
        assert ack.receipt is not None
        verify_receipt(ack.receipt, ctx.identity.public_key)
    again = intake.submit(producer, gtin, "LOT-IN-1", subs[:2])
    assert [a.duplicate for a in again] == [True, True]
    assert [a.record_id for a in again] == [a.record_id for a in acks[:2]]


def test_one_bad_record_stores_nothing(
    intake: IntakeService, ctx: NodeContext, coop: LocalAccount, sign: Signer
) -> None:
    producer = ctx.store.get_producer_by_address(bytes.fromhex(coop.address[2:]))
    assert producer is not None
    gtin = ctx.profile.gtins[0]
    subs = sign(coop, "LOT-IN-2")
    forged = sign(Account.create(), "LOT-IN-2")[0]
    bad = [*subs[:2], Submission(subs[2].event, forged.salt, forged.signature)]
    with pytest.raises(InvalidInputError, match="nothing was stored") as caught:
        intake.submit(producer, gtin, "LOT-IN-2", bad)
    assert {e["index"] for e in caught.value.errors} == {2}
    assert ctx.store.list_records_by_lot(lot_key(gtin, "LOT-IN-2"), limit=10) == []
    with pytest.raises(InvalidInputError, match="no records"):
        intake.submit(producer, gtin, "LOT-IN-2", [])


def test_intake_times_never_repeat(intake: IntakeService) -> None:
    times = [intake.intake_time() for _ in range(200)]
    assert times == sorted(times) and len(set(times)) == len(times)
