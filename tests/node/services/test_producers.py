"""ProducerService: who may write, and into which lot."""

from __future__ import annotations

import pytest
from eth_account import Account

from vntrace.node.errors import ForbiddenError, InvalidInputError, NotFoundError
from vntrace.node.records import lot_key
from vntrace.node.services import NodeContext, ProducerService


@pytest.fixture(scope="module")
def producers(ctx: NodeContext) -> ProducerService:
    return ProducerService(ctx)


def test_registers_on_node_and_chain_idempotently(
    producers: ProducerService, ctx: NodeContext
) -> None:
    acct = Account.create()
    first = producers.register_producer(acct.address, "HTX Krông Năng")
    again = producers.register_producer(acct.address.lower(), "another name")
    assert first.id == again.id and again.name == "HTX Krông Năng"
    assert first.registered_onchain
    assert ctx.chain.get_producer(acct.address) is not None
    assert producers.producer(acct.address).id == first.id


def test_refuses_zero_and_malformed_addresses(producers: ProducerService) -> None:
    with pytest.raises(InvalidInputError, match="zero address"):
        producers.register_producer("0x" + "00" * 20, "nobody")
    with pytest.raises(InvalidInputError, match="not an Ethereum address"):
        producers.producer("0x1234")
    with pytest.raises(NotFoundError):
        producers.producer(Account.create().address)


def test_lot_identity_normalises_and_checks_the_profile(
    producers: ProducerService, ctx: NodeContext
) -> None:
    gtin = ctx.profile.gtins[0]
    gtin14, lot, key = producers.lot_identity(gtin.lstrip("0"), "LOT-ID-1")
    assert (gtin14, lot, key) == (gtin, "LOT-ID-1", lot_key(gtin, "LOT-ID-1"))
    with pytest.raises(InvalidInputError, match="not a product of profile"):
        producers.lot_identity("00012345600012", "LOT-ID-1")
    with pytest.raises(InvalidInputError):
        producers.lot_identity(gtin, "")


def test_a_lot_is_its_first_producers_and_deactivation_stops_writes(
    producers: ProducerService, ctx: NodeContext
) -> None:
    gtin = ctx.profile.gtins[0]
    owner = producers.register_producer(Account.create().address, "owner")
    other = producers.register_producer(Account.create().address, "other")
    row, created = producers.register_lot(owner, gtin, "LOT-OWN-1")
    assert created and row.producer_id == owner.id
    assert producers.register_lot(owner, gtin, "LOT-OWN-1") == (row, False)
    assert producers.own_lot(owner, gtin, "LOT-OWN-1").id == row.id
    with pytest.raises(ForbiddenError, match="belongs to another producer"):
        producers.own_lot(other, gtin, "LOT-OWN-1")
    inactive = ctx.store.set_producer_active(owner.id, False)
    with pytest.raises(ForbiddenError, match="deactivated"):
        producers.own_lot(inactive, gtin, "LOT-OWN-2")
    assert ctx.store.get_lot(lot_key(gtin, "LOT-OWN-2")) is None
