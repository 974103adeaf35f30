"""Sealing, the outbox and anchoring cycle, and proofs read from stored trees."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vntrace.node.merkle import make_tree, verify_multiproof, verify_proof
from vntrace.node.store import (
    ConflictError,
    EpochStatus,
    InvalidInputError,
    NotFoundError,
    RecordStatus,
    Store,
    TxStatus,
)
from vntrace.node.store.proofs import BlobTree, TreeCache, order_for_tree

from .helpers import World, assert_consistent, make_world

TX1, TX2 = b"\x01" * 32, b"\x02" * 32
CONTRACT = b"\xcc" * 20


def _intake(world: World, lots_in_order: str) -> dict[str, list[bytes]]:
    """Add one record per letter (a letter names a lot); leaves per lot, in intake order."""
    lots = {name: world.lot(name) for name in dict.fromkeys(lots_in_order)}
    new = [world.record(lots[name], i) for i, name in enumerate(lots_in_order)]
    world.store.add_records(new)
    out: dict[str, list[bytes]] = {}
    for name, rec in zip(lots_in_order, new, strict=True):
        out.setdefault(name, []).append(rec.leaf)
    return out


def test_seal_groups_by_lot_in_insertion_order(world: World) -> None:
    s = world.store
    leaves = _intake(world, "ABACBA")
    epoch = s.seal_epoch(100)
    assert epoch is not None
    assert (epoch.number, epoch.record_count, epoch.status) == (1, 6, EpochStatus.SEALED)
    expected = leaves["A"] + leaves["B"] + leaves["C"]
    in_epoch = s.records_in_epoch(1)
    assert [r.leaf for r in in_epoch] == expected
    assert [r.leaf_index for r in in_epoch] == list(range(6))
    assert all(r.status is RecordStatus.SEALED and r.epoch == 1 for r in in_epoch)
    tree = s.epoch_tree(1)
    assert tree == make_tree(expected)
    assert epoch.root == tree[0]
    assert s.pending_count() == 0
    assert_consistent(s)


def test_seal_takes_the_oldest_pending_first(world: World) -> None:
    s = world.store
    leaves = _intake(world, "ABAB")  # ids: A1 B2 A3 B4
    first = s.seal_epoch(3)
    assert first is not None and first.record_count == 3
    assert [r.leaf for r in s.records_in_epoch(1)] == [
        leaves["A"][0],
        leaves["A"][1],
        leaves["B"][0],
    ]
    second = s.seal_epoch(3)
    assert second is not None and second.number == 2
    assert [r.leaf for r in s.records_in_epoch(2)] == [leaves["B"][1]]
    assert s.seal_epoch(3) is None
    assert_consistent(s)


def test_seal_is_idempotent_and_none_when_nothing_pending(world: World) -> None:
    s = world.store
    assert s.seal_epoch(10) is None
    _intake(world, "AAB")
    first = s.seal_epoch(10)
    assert first is not None
    assert s.seal_epoch(10) is None
    assert s.latest_epoch() == first
    assert s.list_epochs() == [first]
    # New intake goes to the next epoch; sealed records never move.
    _intake(world, "C")
    second = s.seal_epoch(10)
    assert second is not None and second.number == 2 and second.record_count == 1
    assert [r.epoch for r in s.records_in_epoch(1)] == [1, 1, 1]
    with pytest.raises(InvalidInputError):
        s.seal_epoch(0)


def test_seal_calls_the_builder_with_ordered_leaves(world: World) -> None:
    s = world.store
    leaves = _intake(world, "BAB")
    seen: list[list[bytes]] = []

    def build(ls: list[bytes]) -> tuple[bytes, list[bytes]]:
        seen.append(list(ls))
        nodes = make_tree(ls)
        return nodes[0], nodes

    epoch = s.seal_epoch(10, build=build)
    assert seen == [leaves["B"] + leaves["A"]]
    assert epoch is not None and epoch.root == make_tree(seen[0])[0]


@pytest.mark.parametrize(
    "build",
    [
        lambda ls: (b"\x00" * 32, make_tree(ls)),  # root is not node 0
        lambda ls: (make_tree(ls[::-1])[0], make_tree(ls[::-1])),  # leaves reordered
        lambda ls: (make_tree(ls)[0], make_tree(ls)[:-1]),  # wrong length
    ],
)
def test_a_wrong_builder_seals_nothing(world: World, build) -> None:
    _intake(world, "AB")
    with pytest.raises(InvalidInputError):
        world.store.seal_epoch(10, build=build)
    assert world.store.pending_count() == 2
    assert world.store.latest_epoch() is None


def test_a_failing_builder_seals_nothing(world: World) -> None:
    _intake(world, "A")

    def build(ls: list[bytes]) -> tuple[bytes, list[bytes]]:
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        world.store.seal_epoch(10, build=build)
    assert world.store.pending_count() == 1
    assert world.store.seal_epoch(10) is not None


@pytest.mark.parametrize("n", [1, 2, 3, 7, 33])
def test_proof_for_verifies_against_the_stored_root(world: World, n: int) -> None:
    s = world.store
    leaves = _intake(world, "".join("ABC"[i % 3] for i in range(n)))
    epoch = s.seal_epoch(1000)
    assert epoch is not None
    for lot_leaves in leaves.values():
        for leaf in lot_leaves:
            p = s.proof_for(leaf)
            assert p is not None
            assert (p.epoch, p.record.leaf, p.leaf_index) == (epoch, leaf, p.record.leaf_index)
            assert verify_proof(epoch.root, leaf, p.proof)
            assert not verify_proof(epoch.root, leaf, p.proof[::-1]) or len(p.proof) < 2


def test_proof_for_pending_and_unknown(world: World) -> None:
    leaves = _intake(world, "A")
    assert world.store.proof_for(leaves["A"][0]) is None
    with pytest.raises(NotFoundError):
        world.store.proof_for(b"\x42" * 32)


def test_multiproof_for_a_lot(world: World) -> None:
    s = world.store
    leaves = _intake(world, "ABACABADA")
    epoch = s.seal_epoch(100)
    assert epoch is not None
    for name, lot_leaves in leaves.items():
        mp = s.multiproof_for(world.lot(name).lot_key, 1)
        assert mp.epoch == epoch
        assert sorted(mp.leaves) == sorted(lot_leaves)
        assert [r.leaf for r in mp.records] == mp.leaves
        assert [r.leaf for r in mp.records] == lot_leaves  # intake order
        assert verify_multiproof(epoch.root, mp.leaves, mp.proof, mp.proof_flags)
    with pytest.raises(NotFoundError):
        s.multiproof_for(world.lot("Z").lot_key, 1)
    with pytest.raises(NotFoundError):
        s.multiproof_for(world.lot("A").lot_key, 2)


def test_full_cycle_sealed_sent_anchored(world: World) -> None:
    s = world.store
    _intake(world, "AAB")
    epoch = s.seal_epoch(10)
    assert epoch is not None
    assert s.unfinished_epochs() == [epoch]
    signed = s.record_signed_tx(1, b"raw-1", TX1, nonce=7)
    assert (signed.status, signed.attempts, signed.nonce) == (TxStatus.SIGNED, 0, 7)
    assert s.record_signed_tx(1, b"raw-1", TX1, nonce=7) == signed  # idempotent
    with pytest.raises(ConflictError):
        s.record_signed_tx(1, b"other bytes", TX1, nonce=7)
    sent = s.mark_sent(TX1)
    assert (sent.status, sent.attempts) == (TxStatus.SENT, 1)
    assert s.mark_sent(TX1).attempts == 2  # a resend after a restart
    after_send = s.get_epoch(1)
    assert after_send is not None
    assert (after_send.status, after_send.tx_hash) == (EpochStatus.SENT, TX1)
    assert s.unfinished_epochs() == [after_send]
    # A fee bump: a replacement with the same nonce; the replacement is the one mined.
    s.record_signed_tx(1, b"raw-2", TX2, nonce=7)
    s.mark_sent(TX2)
    assert s.record_tx_error(TX1, "underpriced").last_error == "underpriced"
    assert s.mark_mined(TX2).status is TxStatus.MINED
    anchored = s.mark_anchored(1, TX2, 123, 1_750_000_000, chain_id=31337, contract=CONTRACT)
    assert (anchored.status, anchored.tx_hash, anchored.block_number) == (
        EpochStatus.ANCHORED,
        TX2,
        123,
    )
    assert (anchored.block_timestamp, anchored.chain_id, anchored.contract) == (
        1_750_000_000,
        31337,
        CONTRACT,
    )
    assert anchored.anchored_at is not None
    assert all(r.status is RecordStatus.ANCHORED for r in s.records_in_epoch(1))
    statuses = {o.tx_hash: o.status for o in s.outbox_for_epoch(1)}
    assert statuses == {TX1: TxStatus.REPLACED, TX2: TxStatus.CONFIRMED}
    assert s.unfinished_epochs() == []
    assert s.mark_anchored(1, TX2, 123, 1_750_000_000) == anchored  # idempotent
    with pytest.raises(ConflictError):
        s.mark_anchored(1, TX1, 124, 1_750_000_012)
    with pytest.raises(ConflictError):
        s.record_signed_tx(1, b"raw-3", b"\x03" * 32, nonce=8)
    with pytest.raises(ConflictError):
        s.mark_sent(TX1)
    assert s.get_epoch_by_root(anchored.root) == anchored
    assert s.list_epochs(status="anchored") == [anchored]
    p = s.proof_for(s.records_in_epoch(1)[0].leaf)
    assert p is not None and p.epoch == anchored
    assert_consistent(s)


def test_outbox_lookups_and_missing_rows(world: World) -> None:
    s = world.store
    with pytest.raises(NotFoundError):
        s.record_signed_tx(1, b"raw", TX1, nonce=0)
    with pytest.raises(NotFoundError):
        s.mark_sent(TX1)
    with pytest.raises(NotFoundError):
        s.mark_anchored(1, TX1, 1, 1)
    with pytest.raises(NotFoundError):
        s.epoch_tree(1)
    _intake(world, "A")
    s.seal_epoch(1)
    row = s.record_signed_tx(1, b"raw", TX1, nonce=0)
    assert s.get_outbox(TX1) == row
    assert s.get_outbox(TX2) is None
    failed = s.record_tx_error(TX1, "nonce too low", failed=True)
    assert (failed.status, failed.last_error) == (TxStatus.FAILED, "nonce too low")
    with pytest.raises(ConflictError):
        s.mark_sent(TX1)
    assert s.get_epoch(2) is None and s.get_epoch_by_root(bytes(32)) is None


def test_anchoring_without_an_outbox_row(world: World) -> None:
    """Recovery may learn of the anchor from chain events alone."""
    _intake(world, "AB")
    world.store.seal_epoch(10)
    ep = world.store.mark_anchored(1, TX1, 9, 1_700_000_000)
    assert ep.status is EpochStatus.ANCHORED
    assert_consistent(world.store)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=40))
def test_order_for_tree_properties(lot_ids: list[int]) -> None:
    pending = [(rid, lot) for rid, lot in enumerate(lot_ids, start=1)]
    order = order_for_tree(pending)
    assert sorted(order) == [rid for rid, _ in pending]
    lot_of = dict(pending)
    seq = [lot_of[rid] for rid in order]
    # Each lot is one contiguous run, lots in order of first appearance, ids ascending.
    runs = [lot for i, lot in enumerate(seq) if i == 0 or seq[i - 1] != lot]
    assert runs == list(dict.fromkeys(lot_ids))
    for lot in set(lot_ids):
        ids = [rid for rid in order if lot_of[rid] == lot]
        assert ids == sorted(ids)


def test_many_records_seal_and_prove(store: Store, world: World) -> None:
    lots = [world.lot(f"L{i}") for i in range(20)]
    new = [world.record(lots[(i * 7) % 20], i) for i in range(2000)]
    store.add_records(new)
    epoch = store.seal_epoch(5000)
    assert epoch is not None and epoch.record_count == 2000
    for rec in new[::97]:
        p = store.proof_for(rec.leaf)
        assert p is not None and verify_proof(epoch.root, rec.leaf, p.proof)
    mp = store.multiproof_for(lots[3].lot_key, 1)
    assert len(mp.leaves) == 100
    assert verify_multiproof(epoch.root, mp.leaves, mp.proof, mp.proof_flags)
    assert_consistent(store)


def test_proofs_without_a_tree_cache_and_after_reopening(store_url: str) -> None:
    with Store.open(store_url, tree_cache_bytes=0) as s:
        w = make_world(s)
        leaves = _intake(w, "ABABC")
        epoch = s.seal_epoch(10)
        assert epoch is not None
        for leaf in leaves["A"]:
            p = s.proof_for(leaf)
            assert p is not None and verify_proof(epoch.root, leaf, p.proof)
    with Store.open(store_url) as s:
        for leaf in leaves["B"] * 2:  # cold, then from the cache
            p = s.proof_for(leaf)
            assert p is not None and verify_proof(epoch.root, leaf, p.proof)
        mp = s.multiproof_for(w.lot("A").lot_key, 1)
        assert verify_multiproof(epoch.root, mp.leaves, mp.proof, mp.proof_flags)


def test_tree_cache_is_bounded_and_keyed_by_root() -> None:
    cache = TreeCache(max_bytes=100)
    cache.put(1, b"r1", b"a" * 60)
    cache.put(2, b"r2", b"b" * 60)  # evicts epoch 1
    assert cache.get(1, b"r1") is None
    assert cache.get(2, b"r2") == b"b" * 60
    assert cache.get(2, b"other root") is None
    cache.put(3, b"r3", b"c" * 101)  # larger than the budget: not cached
    assert cache.get(3, b"r3") is None
    cache.clear()
    assert cache.get(2, b"r2") is None


def test_blob_tree_is_a_node_sequence() -> None:
    nodes = make_tree([bytes([i]) * 32 for i in range(5)])
    view = BlobTree(b"".join(nodes))
    assert len(view) == 9 and list(view) == nodes
    assert view[-1] == nodes[-1] and view[2:4] == nodes[2:4]
    with pytest.raises(IndexError):
        view[9]
