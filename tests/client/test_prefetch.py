"""Reading the chain while a large batch is checked offline (``verify._prefetching``).

What the bundles claim to need is read during their offline checks; whatever the checked
jobs need beyond it is read after. So the verdicts are those of reading after, whatever
the bundles claim, and an honest batch costs one round of chain reads, not two.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from vntrace.client import verify as verify_module
from vntrace.client import verify_bundles, verify_bundles_async
from vntrace.client._runner import Overlap, Sleep, arun, one, run
from vntrace.client.chain import ChainReader, RpcCall
from vntrace.client.errors import TransportError

from .conftest import Node, Producer, anchored_lot

pytestmark = pytest.mark.usefixtures("node")


class CountingReader(ChainReader):
    """The real reader over the node's /rpc, counting its rounds (and failing the first
    ``fail`` of them, as an unreachable chain would)."""

    def __init__(self, url: str, fail: int = 0) -> None:
        super().__init__(url)
        self.rounds: list[int] = []
        self.threads: set[int] = set()
        self.fail = fail

    def execute(self, calls: Sequence[RpcCall]) -> list[Any]:
        self.threads.add(threading.get_ident())
        self.rounds.append(len(calls))
        if self.fail:
            self.fail -= 1
            raise TransportError("the chain is not reachable (test)")
        return super().execute(calls)


@pytest.fixture(scope="module")
def batch(producer: Producer) -> list[dict[str, Any]]:
    """Two lots' bundles, enough of them to be read ahead."""
    first, second = anchored_lot(producer, 4), anchored_lot(producer, 3)
    bundles = [producer.client.bundle(r) for r in first.record_ids + second.record_ids]
    times = verify_module.PREFETCH_FROM // len(bundles) + 1
    return [copy.deepcopy(b) for b in bundles * times]


def _read_after(node: Node, items: list[Any]) -> list[dict[str, Any]]:
    """The verdicts with no read ahead (every batch read after its checks)."""
    saved = verify_module.PREFETCH_FROM
    verify_module.PREFETCH_FROM = 10**9
    try:
        return [r.to_dict() for r in verify_bundles(items, rpc_url=node.rpc_url, workers=1)]
    finally:
        verify_module.PREFETCH_FROM = saved


def test_an_honest_batch_is_read_once_while_it_is_checked(
    node: Node, batch: list[dict[str, Any]]
) -> None:
    with CountingReader(node.rpc_url) as reader:
        results = verify_bundles(batch, reader=reader, workers=1)
    assert all(r.status == "verified" for r in results)
    assert len(reader.rounds) == 1  # the read ahead covered every fact
    assert threading.get_ident() not in reader.threads  # it ran beside the checks
    assert [r.to_dict() for r in results] == _read_after(node, batch)


def test_bundles_that_lie_about_their_needs_get_the_verdicts_of_reading_after(
    node: Node, batch: list[dict[str, Any]]
) -> None:
    lying = copy.deepcopy(batch)
    lying[0]["lotKey"] = "0x" + "11" * 32  # claims another lot (and fails lot_mismatch)
    lying[1]["root"] = "0x" + "22" * 32  # claims an unknown root
    lying[2]["producer"] = "0x" + "33" * 20  # claims another producer
    lying[3]["anchor"] = {"txHash": "0x" + "44" * 32}  # a transaction nobody sent
    lying[4]["chainId"] = "not a number"
    with CountingReader(node.rpc_url) as reader:
        results = verify_bundles(lying, reader=reader, workers=1)
    assert [r.to_dict() for r in results] == _read_after(node, lying)
    assert {r.status for r in results[:5]} == {"failed"}
    assert all(r.status == "verified" for r in results[5:])
    # The lot the first bundle really belongs to was claimed by the others: one round
    # covers it; the producer of the third is really the same; nothing else to read.
    assert len(reader.rounds) == 1


def test_a_root_only_the_checks_find_is_read_in_a_second_round(
    node: Node, batch: list[dict[str, Any]]
) -> None:
    items = [b for b in batch if b["lot"] == batch[0]["lot"]]
    items = (items * (verify_module.PREFETCH_FROM // len(items) + 1))[: verify_module.PREFETCH_FROM]
    items = copy.deepcopy(items)
    other = next(b for b in batch if b["lot"] != batch[0]["lot"])
    items[0] = copy.deepcopy(other)
    items[0]["lotKey"] = batch[0]["lotKey"]  # claims the first lot: its own is not read ahead
    with CountingReader(node.rpc_url) as reader:
        results = verify_bundles(items, reader=reader, workers=1)
    assert len(reader.rounds) == 2
    assert [r.to_dict() for r in results] == _read_after(node, items)


def test_a_read_ahead_that_fails_is_read_again(node: Node, batch: list[dict[str, Any]]) -> None:
    with CountingReader(node.rpc_url, fail=1) as reader:
        results = verify_bundles(batch, reader=reader, workers=1)
    assert len(reader.rounds) == 2
    assert [r.to_dict() for r in results] == _read_after(node, batch)
    with CountingReader(node.rpc_url, fail=2) as reader, pytest.raises(TransportError):
        verify_bundles(batch, reader=reader, workers=1)  # unreachable after: the caller's


def test_async_reads_ahead_too(node: Node, batch: list[dict[str, Any]]) -> None:
    async def go() -> list[dict[str, Any]]:
        results = await verify_bundles_async(batch, rpc_url=node.rpc_url, workers=1)
        return [r.to_dict() for r in results]

    assert asyncio.run(go()) == _read_after(node, batch)


# -- the runner's Overlap effect -----------------------------------------------------------


def _overlapping(work: Any, effect: Any) -> Any:
    return (yield Overlap(work, one(effect)))


def test_overlap_runs_the_work_beside_the_plan() -> None:
    seen: list[int] = []

    def perform(effect: Any) -> Any:
        seen.append(threading.get_ident())
        return "read"

    assert run(_overlapping(lambda: "checked", "an effect"), perform) == ("checked", "read")
    assert seen and seen[0] != threading.get_ident()


def test_overlap_raises_the_first_error() -> None:
    def boom() -> None:
        raise ValueError("work failed")

    def failing(effect: Any) -> Any:
        raise TransportError("read failed")

    with pytest.raises(ValueError, match="work failed"):
        run(_overlapping(boom, "x"), lambda e: "read")
    with pytest.raises(TransportError, match="read failed"):
        run(_overlapping(lambda: 1, "x"), failing)

    async def aperform(effect: Any) -> Any:
        raise TransportError("read failed")

    with pytest.raises(TransportError):
        asyncio.run(arun(_overlapping(lambda: 1, "x"), aperform))


def test_async_overlap_runs_the_work_off_the_loop() -> None:
    loop_thread: list[int] = []

    async def aperform(effect: Any) -> Any:
        loop_thread.append(threading.get_ident())
        return "read"

    def plan() -> Any:
        worked = yield Overlap(threading.get_ident, one(Sleep(0)))
        return worked, (yield "after")

    (worker, slept), after = asyncio.run(arun(plan(), aperform))
    assert worker != loop_thread[0] and slept is None and after == "read"
