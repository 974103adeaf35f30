"""Several writers at once, on every backend: what several gateway processes do.

Threads stand in for processes here (each store call is its own transaction on its own
pooled connection, as it would be in another process); the multi-process tests are in
``tests/multinode``. Sealers and anchorers must never share a record or an epoch, even
without the anchorer lock that normally keeps them to one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from vntrace.node.store import ConflictError, EpochRow, EpochStatus, NewRecord, Store

from .helpers import World, assert_consistent


def _parallel(n: int, fn: Callable[[int], object]) -> list[object]:
    """Run ``fn(0..n-1)`` on ``n`` threads released together; results in index order."""
    start = threading.Barrier(n)

    def run(i: int) -> object:
        start.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_intake_with_overlapping_batches(world: World) -> None:
    store = world.store
    lots = [world.lot(f"L{i}") for i in range(4)]
    shared = [world.record(lots[0], 1000 + i) for i in range(10)]  # sent by every thread
    own = [[world.record(lots[t], t * 100 + i) for i in range(40)] for t in range(4)]

    def intake(t: int) -> list[bytes]:
        acked: list[bytes] = []
        for k in range(0, 40, 8):
            rows = store.add_records([*own[t][k : k + 8], *shared[k // 8 * 2 : k // 8 * 2 + 2]])
            acked += [r.leaf for r in rows]
        return acked

    results = _parallel(4, intake)
    acked = {leaf for r in results for leaf in r}  # type: ignore[union-attr]
    assert len(acked) == 4 * 40 + 10
    assert store.pending_count() == len(acked)
    ids = [store.get_record(leaf).id for leaf in acked]  # type: ignore[union-attr]
    assert len(set(ids)) == len(ids)


def test_concurrent_lot_creation_has_one_winner(world: World) -> None:
    from .helpers import lot_key_of

    key = lot_key_of("08930000000017", "RACE")
    results = _parallel(
        6,
        lambda _i: world.store.create_or_get_lot(key, "08930000000017", "RACE", world.producer.id),
    )
    created = [c for _row, c in results]  # type: ignore[misc]
    assert created.count(True) == 1
    assert len({row.id for row, _c in results}) == 1  # type: ignore[misc]


def test_concurrent_sealers_never_share_a_record(world: World) -> None:
    """Several sealers and a writer at once: epochs 1..n, each record in one epoch."""
    store = world.store
    lots = [world.lot(f"L{i}") for i in range(3)]
    store.add_records([world.record(lots[i % 3], i) for i in range(150)])
    late: list[NewRecord] = [world.record(lots[i % 3], 1000 + i) for i in range(60)]
    errors: list[BaseException] = []

    def work(i: int) -> list[EpochRow]:
        sealed: list[EpochRow] = []
        try:
            if i == 0:  # a gateway keeps taking records meanwhile
                for k in range(0, len(late), 10):
                    store.add_records(late[k : k + 10])
                return sealed
            for _ in range(40):
                epoch = store.seal_epoch(17)
                if epoch is not None:
                    sealed.append(epoch)
        except BaseException as e:  # collected: a ConflictError here is the bug
            errors.append(e)
        return sealed

    results = _parallel(4, work)
    assert errors == []
    while (epoch := store.seal_epoch(17)) is not None:  # what arrived after the sealers
        results.append([epoch])
    numbers = sorted(e.number for r in results for e in r)  # type: ignore[union-attr]
    assert numbers == list(range(1, len(numbers) + 1))
    seen: set[bytes] = set()
    for n in numbers:
        leaves = [r.leaf for r in store.records_in_epoch(n)]
        assert not seen & set(leaves), "a record sealed into two epochs"
        seen |= set(leaves)
    assert len(seen) == 210 and store.pending_count() == 0
    assert_consistent(store)


def test_two_anchorers_of_one_epoch_cannot_both_win(world: World) -> None:
    store = world.store
    lot = world.lot("A")
    store.add_records([world.record(lot, i) for i in range(5)])
    assert store.seal_epoch(10) is not None
    hashes = [bytes([1 + i]) * 32 for i in range(4)]
    for i, h in enumerate(hashes):
        store.record_signed_tx(1, b"raw%d" % i, h, 7)

    def anchor(i: int) -> object:
        try:
            return store.mark_anchored(1, hashes[i], 100 + i, 1_700_000_000)
        except ConflictError as e:
            return e

    results = _parallel(4, anchor)
    won = [r for r in results if isinstance(r, EpochRow)]
    assert len(won) == 1 and sum(isinstance(r, ConflictError) for r in results) == 3
    epoch = store.get_epoch(1)
    assert epoch is not None and epoch.status is EpochStatus.ANCHORED
    assert epoch.tx_hash == won[0].tx_hash
    statuses = sorted(r.status.value for r in store.outbox_for_epoch(1))
    assert statuses == ["confirmed", "replaced", "replaced", "replaced"]
    assert_consistent(store)


@pytest.mark.parametrize("workers", [3])
def test_sending_and_anchoring_race_keeps_the_outbox_consistent(world: World, workers: int) -> None:
    """mark_sent racing mark_anchored never turns a confirmed transaction back to sent."""
    store: Store = world.store
    lot = world.lot("A")
    store.add_records([world.record(lot, i) for i in range(3)])
    store.seal_epoch(10)
    h = b"\x09" * 32
    store.record_signed_tx(1, b"raw", h, 1)

    def act(i: int) -> object:
        try:
            if i == 0:
                return store.mark_anchored(1, h, 5, 1_700_000_000)
            return store.mark_sent(h)
        except ConflictError as e:
            return e

    _parallel(workers, act)
    row = store.get_outbox(h)
    epoch = store.get_epoch(1)
    assert row is not None and row.status.value == "confirmed"
    assert epoch is not None and epoch.status is EpochStatus.ANCHORED
    assert_consistent(store)
