"""kill -9 a real node process at every step of anchoring; nothing is lost or doubled.

One data folder lives through a series of crashes, each at a different point of the
pipeline (inside the sealing transaction, after sealing, after signing, after sending,
after the receipt, inside the anchored-marking transaction, after it), each run adding
records first. A last clean run resumes. Then every acknowledged record must be
anchored, exactly once, under an on-chain root equal to the root recomputed from the
stored leaves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vntrace.node.chain import EmbeddedChain
from vntrace.node.merkle import make_tree
from vntrace.node.store import Store
from vntrace.node.store.types import EpochStatus, RecordStatus

ROOT = Path(__file__).resolve().parents[3]
POINTS = [
    "seal:selected:1",
    "seal:epoch_inserted:1",
    "seal:records_updated:1",
    "after_seal:1",
    "after_sign:1",
    "after_send:1",
    "after_receipt:1",
    "anchor:epoch_updated:1",
    "after_anchored:1",
    "after_sign:2",
    "after_send:2",
]


def _run(data_dir: Path, records: int, faults: str) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.node.anchoring.crash_worker",
            str(data_dir),
            str(records),
            faults,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ETH_HASH_BACKEND": "pysha3"},
    )
    acks = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("ACK ")]
    if proc.returncode not in (0, -9):
        pytest.fail(f"worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode, acks


@pytest.mark.slow
def test_every_acknowledged_record_is_anchored_exactly_once_after_crashes(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    acknowledged: set[str] = set()
    killed = 0
    for point in POINTS:
        name, _, nth = point.rpartition(":")
        code, acks = _run(data_dir, 5, f"{name}:{nth}")
        acknowledged.update(acks)
        killed += code == -9
    code, acks = _run(data_dir, 2, "")
    assert code == 0
    acknowledged.update(acks)
    print(
        f"crash points tried: {len(POINTS)}, processes killed: {killed}, "
        f"acknowledged records: {len(acknowledged)}"
    )
    assert killed == len(POINTS), "every planned crash point must have been reached"

    store = Store.for_data_dir(data_dir)
    chain = EmbeddedChain(data_dir)
    try:
        epochs = store.list_epochs()
        seen: dict[bytes, int] = {}
        for epoch in epochs:
            assert epoch.status is EpochStatus.ANCHORED
            members = store.records_in_epoch(epoch.number)
            assert [r.leaf_index for r in members] == list(range(len(members)))
            tree = make_tree([r.leaf for r in members])
            assert tree[0] == epoch.root == bytes(store.epoch_tree(epoch.number)[0])
            on_chain = chain.get_anchor(epoch.root)
            assert on_chain is not None and not on_chain.revoked
            assert (on_chain.epoch, on_chain.record_count) == (epoch.number, len(members))
            for r in members:
                assert r.leaf not in seen, "a record sits in two epochs"
                seen[r.leaf] = epoch.number
                assert r.status is RecordStatus.ANCHORED
        assert {leaf.hex() for leaf in seen} == acknowledged
        assert chain.last_epoch() == len(epochs)
        anchored_events = [e for e in chain.events_since(0) if e.name == "RootAnchored"]
        assert len(anchored_events) == len(epochs)
        assert store.pending_count() == 0
    finally:
        chain.close()
