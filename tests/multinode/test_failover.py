"""Three real node processes on one PostgreSQL and one chain; the anchorer is killed twice.

All three take intake at once (shared lots). Process A starts its anchoring loop first
and leads; fault injection kills it (SIGKILL) right after it broadcast its third anchor
transaction, before the receipt. B or C takes the lock and must finish that epoch from
the stored transaction. Once the new leader has anchored an epoch of its own, the test
kills it with kill -9 from outside, mid-work, while intake goes on; the last process
takes over and anchors the rest.

Then, from the database and the chain themselves: every acknowledged record sits in
exactly one epoch and is anchored; every epoch's root recomputed from its stored leaves
is the root on chain under the same epoch number; the chain's last epoch equals the
store's; each epoch went out in exactly one transaction; and the leadership intervals
the processes logged never overlap, with every epoch anchored by the process that held
the lock at that moment.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account

from tests.multinode.cluster import OPERATOR_KEY, Cluster, NodeProcess, bootstrap, wait_for
from tests.support.anvil import require_anvil, running_anvil
from vntrace.node.chain import open_backend
from vntrace.node.merkle import make_tree
from vntrace.node.store import Store
from vntrace.node.store.types import EpochStatus, RecordStatus, TxStatus

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

RECORDS, BATCH, PAUSE = 90, 5, 0.1


def test_kill_the_active_anchorer_twice_every_record_anchored_once(
    tmp_path: Path, pg_database: str
) -> None:
    require_anvil()
    began = time.monotonic()
    with running_anvil() as anvil:
        cluster = bootstrap(pg_database, anvil.url, tmp_path / "bootstrap")
        nodes: list[NodeProcess] = []
        try:
            a = NodeProcess.start(
                "A", cluster, tmp_path / "A", records=RECORDS, batch=BATCH, pause=PAUSE,
                env={"VNTRACE_FAULT_POINTS": "after_send:3"},
            )  # fmt: skip
            nodes.append(a)
            for name in "BC":  # their loops start later, so A leads first
                node = NodeProcess.start(
                    name, cluster, tmp_path / name, records=RECORDS, batch=BATCH,
                    pause=PAUSE, loop_delay=1.5,
                )  # fmt: skip
                nodes.append(node)
            b, c = nodes[1], nodes[2]

            wait_for(lambda: a.became_leader() != [], 60, "A leads", nodes)
            wait_for(lambda: a.proc.poll() is not None, 60, "A dies at its 3rd send", nodes)
            assert a.proc.returncode == -9
            second = _next_leader([b, c], nodes)
            wait_for(lambda: second.anchored_epochs() != [], 30, "the 2nd leader anchors", nodes)
            assert not _all_intake_done(nodes[1:]), "intake should still be going on"
            killed_at = second.kill9()
            third = c if second is b else b
            wait_for(lambda: third.became_leader() != [], 30, "the 3rd leader takes over", nodes)
            wait_for(lambda: third.said("INTAKE-DONE"), 60, "intake finishes", nodes)
            with Store.open(pg_database) as store:
                wait_for(
                    lambda: store.pending_count() == 0 and not store.unfinished_epochs(),
                    60,
                    "everything is anchored",
                    nodes,
                )
            assert third.terminate() == 0
            assert third.said("CLOSED")
        finally:
            for n in nodes:
                n.cleanup()

        acked = {leaf for n in nodes for leaf in n.acked()}
        _check_anchored_exactly_once(cluster, acked)
        _check_one_anchorer_at_a_time(a, second, third, killed_at)
        print(
            f"records acknowledged: {len(acked)} (A {len(a.acked())}, "
            f"{second.name} {len(second.acked())}, {third.name} {len(third.acked())}); "
            f"fail-over after kill -9: "
            f"{1000 * (third.became_leader()[0] - killed_at):.0f} ms; "
            f"test time {time.monotonic() - began:.1f} s"
        )


def _next_leader(candidates: list[NodeProcess], nodes: list[NodeProcess]) -> NodeProcess:
    wait_for(
        lambda: any(n.became_leader() for n in candidates), 30, "a new leader takes over", nodes
    )
    [leader] = [n for n in candidates if n.became_leader()]
    return leader


def _all_intake_done(nodes: list[NodeProcess]) -> bool:
    return all(n.said("INTAKE-DONE") for n in nodes)


def _check_anchored_exactly_once(cluster: Cluster, acked: set[str]) -> None:
    chain = open_backend(
        "rpc",
        url=cluster.rpc_url,
        account=Account.from_key(OPERATOR_KEY),
        registry_address=cluster.registry,
    )
    try:
        with Store.open(cluster.database_url) as store:
            assert store.check_integrity() == []
            epochs = store.list_epochs(limit=10_000)
            assert [e.number for e in epochs] == list(range(1, len(epochs) + 1))
            seen: dict[str, int] = {}
            for epoch in epochs:
                assert epoch.status is EpochStatus.ANCHORED
                members = store.records_in_epoch(epoch.number)
                assert [r.leaf_index for r in members] == list(range(len(members)))
                assert make_tree([r.leaf for r in members])[0] == epoch.root
                on_chain = chain.get_anchor(epoch.root)
                assert on_chain is not None and not on_chain.revoked
                assert (on_chain.epoch, on_chain.record_count) == (epoch.number, len(members))
                for r in members:
                    key = "0x" + r.leaf.hex()
                    assert key not in seen, f"{key} is in epochs {seen[key]} and {epoch.number}"
                    seen[key] = epoch.number
                    assert r.status is RecordStatus.ANCHORED
                # One transaction per epoch: the new leader resumed the stored one.
                txs = store.outbox_for_epoch(epoch.number)
                confirmed = [t for t in txs if t.status is TxStatus.CONFIRMED]
                assert len(confirmed) == 1 and confirmed[0].tx_hash == epoch.tx_hash
                assert [t for t in txs if t.status is not TxStatus.CONFIRMED] == []
            assert acked <= set(seen), "an acknowledged record was not anchored"
            assert store.pending_count() == 0
        assert chain.last_epoch() == len(epochs)
        all_events = chain.events_since(0)
        # The processes share one identity: none re-published the anchorer metadata.
        assert [e.name for e in all_events].count("AnchorerMetadataUpdated") == 1
        events = [e for e in all_events if e.name == "RootAnchored"]
        assert sorted(int(e.args["epoch"]) for e in events) == [e.number for e in epochs]
        by_epoch = {int(e.args["epoch"]): e for e in events}
        for epoch in epochs:
            assert bytes(by_epoch[epoch.number].args["root"]) == epoch.root
            assert by_epoch[epoch.number].tx_hash == epoch.tx_hash
    finally:
        chain.close()


def _check_one_anchorer_at_a_time(
    a: NodeProcess, second: NodeProcess, third: NodeProcess, killed_at: float
) -> None:
    """Leadership intervals from the processes' own logs never overlap, and every epoch
    was anchored inside its anchorer's interval, in one contiguous run per leader."""
    assert [len(n.became_leader()) for n in (a, second, third)] == [1, 1, 1]
    a_last = max(t for t, _ in a.logs(""))  # A was alive (and leading) until at least here
    assert second.became_leader()[0] > a_last
    assert third.became_leader()[0] > killed_at
    intervals = {
        a.name: (a.became_leader()[0], a_last),
        second.name: (second.became_leader()[0], killed_at),
        third.name: (third.became_leader()[0], float("inf")),
    }
    runs: list[str] = []
    for node in (a, second, third):
        start, end = intervals[node.name]
        for at, _number in node.anchored_epochs():
            assert start <= at <= end, f"{node.name} anchored outside its leadership"
    ordered = sorted((num, n.name) for n in (a, second, third) for _, num in n.anchored_epochs())
    for _, name in ordered:
        if not runs or runs[-1] != name:
            runs.append(name)
    assert runs == [a.name, second.name, third.name], runs
