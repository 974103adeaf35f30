"""Anchoring listeners: told of every anchored epoch; a failing one never stops anchoring."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account

from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.records import prepare_record
from vntrace.node.service import TraceNode
from vntrace.node.services import Submission
from vntrace.node.store.types import EpochRow


def _submit(node: TraceNode, lot: str) -> None:
    acct = Account.create()
    producer = node.register_producer(acct.address, "coop")
    gtin = node.profile.gtins[0]
    subs = []
    for event in season_events(datetime.now(UTC)):
        rec = prepare_record(node.profile, gtin, lot, event).sign(
            acct, node.chain.chain_id, node.chain.registry_address
        )
        subs.append(Submission(rec.event, rec.salt, rec.signature, rec.disclosures))
    node.submit(producer, gtin, lot, subs)


def test_listeners_hear_every_epoch_and_a_failing_one_is_contained(tmp_path: Path) -> None:
    heard: list[int] = []

    def broken(done: list[EpochRow]) -> None:
        raise RuntimeError("a follower that always fails")

    settings = Settings(data_dir=tmp_path, epoch_seconds=0.05, _env_file=None)
    with TraceNode.open(settings) as node:
        node.loop.listeners += [broken, lambda done: heard.extend(e.number for e in done)]
        _submit(node, "LOT-L-1")
        assert node.anchor_now() == 1
        assert heard == [1]
        node.loop.tick = 0.05
        node.start()
        _submit(node, "LOT-L-2")
        deadline = time.monotonic() + 30
        while heard == [1] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heard == [1, 2]
        assert not node.loop.status.halted and node.loop.status.epochs_anchored == 1
