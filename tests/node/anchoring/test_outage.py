"""A chain outage stops anchoring, never intake; records anchor when the chain is back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eth_account import Account

from tests.support.anvil import ANVIL_KEYS, Anvil, require_anvil
from vntrace.node.anchoring import AnchoringPipeline, EpochPolicy
from vntrace.node.chain import ChainUnavailableError, RetryPolicy, RpcChain
from vntrace.node.merkle import pair_leaf_hash
from vntrace.node.store import Store
from vntrace.node.store.types import EpochStatus, NewRecord, RecordStatus

pytestmark = pytest.mark.anvil


def _records(store: Store, n: int) -> list[bytes]:
    address = bytes.fromhex("22" * 20)
    producer = store.get_producer_by_address(address) or store.add_producer(address, "Coop")
    lot, _ = store.create_or_get_lot(bytes(31) + b"\x07", "08930000000017", "L7", producer.id)
    new = []
    for _ in range(n):
        digest = os.urandom(32)
        new.append(
            NewRecord(
                leaf=pair_leaf_hash(lot.lot_key, digest),
                lot_id=lot.id,
                producer_id=producer.id,
                digest=digest,
                salt=os.urandom(32),
                event_json=b"{}",
                signature=bytes(65),
            )
        )
    return [r.leaf for r in store.add_records(new)]


def test_outage_then_recovery_on_anvil(tmp_path: Path) -> None:
    require_anvil()
    state = tmp_path / "anvil-state.json"
    anvil = Anvil(state=state).start()
    store = Store.for_data_dir(tmp_path / "node")
    try:
        chain = RpcChain(
            anvil.url,
            Account.from_key(ANVIL_KEYS[1]),
            admin=Account.from_key(ANVIL_KEYS[0]),
            poll_interval=0.01,
            receipt_timeout=10.0,
            retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
        )
        pipeline = AnchoringPipeline(store, chain, EpochPolicy(seconds=0, max_records=5))
        first = _records(store, 4)
        assert [e.status for e in pipeline.step(force=True)] == [EpochStatus.ANCHORED]

        anvil.stop()  # the chain goes away (clean stop keeps its state file)
        during = _records(store, 7)  # intake goes on
        with pytest.raises(ChainUnavailableError):
            pipeline.step(force=True)
        assert all(store.get_record(leaf) is not None for leaf in during)

        anvil = Anvil(port=anvil.port, state=state).start()  # back, same port and state
        pipeline.drain()
        for leaf in first + during:
            row = store.get_record(leaf)
            assert row is not None and row.status is RecordStatus.ANCHORED
        epochs = store.list_epochs()
        assert chain.last_epoch() == len(epochs) == 3  # 4 | 5 + 2: max 5 per epoch
        for epoch in epochs:
            info = chain.get_anchor(epoch.root)
            assert info is not None and info.epoch == epoch.number
        chain.close()
    finally:
        anvil.stop()
