"""After faults: is every stored record anchored exactly once, under the right root?

The checks of ``tests/node/anchoring/test_crash.py`` as a function, run on a data folder
whose node has stopped: every epoch anchored, its members at leaf indexes 0..n-1, its
stored tree's root equal to the root recomputed from the stored leaves and to the root
anchored on chain (same epoch number, same record count, not revoked), no record in two
epochs, one ``RootAnchored`` event per epoch, nothing pending, no half-applied
transaction (``Store.check_integrity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from vntrace.node.chain import EmbeddedChain
from vntrace.node.merkle import make_tree
from vntrace.node.store import Store
from vntrace.node.store.types import EpochStatus, RecordStatus


@dataclass(frozen=True)
class AnchoredState:
    """What the folder holds once the invariants passed."""

    epochs: int
    records: int
    leaves: frozenset[str]
    """Every stored record id (``0x`` + leaf hex), each anchored exactly once."""


def count_records(store: Store) -> int:
    """Rows in ``records`` (pending, sealed and anchored)."""
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM records")).scalar_one())


def check_anchored_exactly_once(data_dir: Path, database_url: str | None = None) -> AnchoredState:
    """Assert the invariants on a stopped node's folder (embedded chain; SQLite in the
    folder unless ``database_url`` says where the database is)."""
    store = Store.open(database_url) if database_url else Store.for_data_dir(data_dir)
    chain = EmbeddedChain(data_dir)
    try:
        assert store.check_integrity() == []
        assert store.pending_count() == 0, "records left pending"
        epochs = store.list_epochs(limit=1_000_000)
        seen: dict[bytes, int] = {}
        for epoch in epochs:
            assert epoch.status is EpochStatus.ANCHORED, f"epoch {epoch.number} {epoch.status}"
            members = store.records_in_epoch(epoch.number)
            assert [r.leaf_index for r in members] == list(range(len(members)))
            tree = make_tree([r.leaf for r in members])
            assert tree[0] == epoch.root == bytes(store.epoch_tree(epoch.number)[0])
            on_chain = chain.get_anchor(epoch.root)
            assert on_chain is not None and not on_chain.revoked, f"epoch {epoch.number}"
            assert (on_chain.epoch, on_chain.record_count) == (epoch.number, len(members))
            for r in members:
                assert r.leaf not in seen, "a record sits in two epochs"
                seen[r.leaf] = epoch.number
                assert r.status is RecordStatus.ANCHORED
        assert [e.number for e in epochs] == list(range(1, len(epochs) + 1))
        assert chain.last_epoch() == len(epochs)
        anchored = [e for e in chain.events_since(0) if e.name == "RootAnchored"]
        assert len(anchored) == len(epochs), "a root was anchored twice (or never)"
        assert sorted(bytes(e.args["root"]) for e in anchored) == sorted(e.root for e in epochs)
        total = count_records(store)
        assert total == len(seen), f"{total} stored records, {len(seen)} in epochs"
        return AnchoredState(len(epochs), total, frozenset("0x" + leaf.hex() for leaf in seen))
    finally:
        chain.close()
        store.close()
