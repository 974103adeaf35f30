"""One plan, two runners: ``Client`` and ``AsyncClient`` run the same steps and agree.

The node here is a small in-memory gateway behind ``httpx.MockTransport`` (the
swappable transport both clients take), so each scenario can be replayed exactly
through the blocking and the async client and their requests and results compared;
the same operations against a real node are in test_sdk.py and test_accountability.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vntrace.client import (
    AnchorTimeoutError,
    AsyncChainReader,
    AsyncClient,
    ChainReader,
    Client,
    NotFoundError,
    TransportError,
    UploadError,
)
from vntrace.client._runner import Gather, Plan, Sleep, arun, one, run
from vntrace.client.chain import MAX_BATCH_CALLS, RpcCall

GTIN = "08936099000015"
INFO = {
    "chainId": 31337,
    "registry": "0x" + "11" * 20,
    "gtins": [GTIN],
    "rpc": "/rpc",
    "limits": {"maxEventsPerRequest": 2, "maxBatchBodyBytes": 1_000_000},
}


class FakeNode:
    """Answers like a gateway; ``seen`` is every request as ``METHOD path body``."""

    def __init__(self, *, fail_batch: int | None = None, pending_polls: int = 1) -> None:
        self.seen: list[str] = []
        self.fail_batch = fail_batch
        self.polls: dict[str, int] = {}
        self.pending_polls = pending_polls
        self.batches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append(f"{request.method} {request.url.path} {json.dumps(body)}")
        path = request.url.path
        if path == "/v1/info":
            return httpx.Response(200, json=INFO)
        if path.endswith("/events") and request.method == "POST":
            self.batches += 1
            if self.batches == self.fail_batch:
                return _problem(422, "event 0 is invalid", errors=[{"index": 0, "detail": "x"}])
            ids = [f"0x{e['n']:064x}" for e in body["events"]]
            return httpx.Response(
                201,
                json={
                    "gtin": GTIN,
                    "lot": "L1",
                    "recordIds": ids,
                    "records": [{"recordId": i, "status": "pending"} for i in ids],
                },
            )
        if path.startswith("/v1/records/") and path.endswith("/bundle"):
            return _problem(404, "no such record")
        if path.startswith("/v1/records/"):
            rid = path.rsplit("/", 1)[1]
            self.polls[rid] = self.polls.get(rid, 0) + 1
            status = "anchored" if self.polls[rid] > self.pending_polls else "pending"
            return httpx.Response(200, json={"recordId": rid, "status": status})
        return _problem(404, "not here")


def _problem(status: int, detail: str, **extra: Any) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": "x", "status": status, "detail": detail, **extra},
        headers={"Content-Type": "application/problem+json", "Retry-After": "0"},
    )


def both(node_factory: Callable[[], FakeNode], op: str, *args: Any, **kwargs: Any) -> Any:
    """``op`` through a fresh Client and a fresh AsyncClient; asserts they sent the same
    requests and got the same result (or the same error), and returns it."""
    sync_node, async_node = node_factory(), node_factory()
    outcome: list[tuple[str, Any]] = []
    with Client("http://node.test", transport=httpx.MockTransport(sync_node)) as client:
        try:
            outcome.append(("ok", getattr(client, op)(*args, **kwargs)))
        except Exception as exc:
            outcome.append(("error", exc))

    async def go() -> Any:
        transport = httpx.MockTransport(async_node)
        async with AsyncClient("http://node.test", transport=transport) as client:
            return await getattr(client, op)(*args, **kwargs)

    try:
        outcome.append(("ok", asyncio.run(go())))
    except Exception as exc:
        outcome.append(("error", exc))
    (kind_s, sync_out), (kind_a, async_out) = outcome
    assert kind_s == kind_a
    if kind_s == "error":
        assert type(sync_out) is type(async_out) and str(sync_out) == str(async_out)
    else:
        assert sync_out == async_out
    assert sorted(sync_node.seen) == sorted(async_node.seen)
    return sync_out


def _events(n: int) -> list[dict[str, Any]]:
    return [{"n": i} for i in range(n)]


def test_upload_batches_and_reports_progress() -> None:
    done: list[tuple[int, int]] = []
    written = both(
        FakeNode, "upload_events", GTIN, "L1", _events(5), progress=lambda d, t: done.append((d, t))
    )
    assert written.record_ids == [f"0x{i:064x}" for i in range(5)]
    assert [len(r.record_id) for r in written.records] == [66] * 5
    # info once, then 3 batches of at most 2 events, for each client
    assert done == [(2, 5), (4, 5), (5, 5)] * 2


def test_a_failing_batch_says_what_was_stored_in_both_clients() -> None:
    error = both(lambda: FakeNode(fail_batch=2), "upload_events", GTIN, "L1", _events(5))
    assert isinstance(error, UploadError)
    assert (error.stored, error.total) == (2, 5)
    assert error.written is not None and len(error.written.record_ids) == 2
    assert error.errors[0].index == 2  # the batch's event 0 is the upload's event 2


def test_wait_anchored_polls_until_anchored() -> None:
    ids = ["0x" + "ab" * 32, "0x" + "cd" * 32]
    statuses = both(lambda: FakeNode(pending_polls=2), "wait_anchored", ids, interval=0)
    assert [s.status for s in statuses] == ["anchored", "anchored"]
    assert [s.record_id for s in statuses] == ids


def test_wait_anchored_times_out_the_same_way() -> None:
    error = both(
        lambda: FakeNode(pending_polls=10**6), "wait_anchored", ["0x" + "ab" * 32], timeout=0
    )
    assert isinstance(error, AnchorTimeoutError)
    assert "1 record(s) not anchored" in str(error)


def test_errors_are_mapped_once() -> None:
    error = both(FakeNode, "verify_record", "0x" + "ab" * 32)
    assert isinstance(error, NotFoundError) and error.status == 404


class Down(FakeNode):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        raise httpx.ConnectError("refused", request=request)


def test_connection_errors_are_retried_then_reported() -> None:
    down = Down()
    client = Client("http://node.test", transport=httpx.MockTransport(down))
    with client, pytest.raises(TransportError):
        client.info()
    assert len(down.seen) == 3  # the call and its two retries
    error = both(Down, "info")
    assert isinstance(error, TransportError)
    assert "cannot reach the node at http://node.test" in str(error)


# -- the runners themselves -----------------------------------------------------------


def _plan(log: list[str]) -> Plan[int]:
    """Effects of every kind, an error thrown in and caught, and a returned value."""
    first = yield "a"
    yield Sleep(0)
    pair = yield Gather((one("b"), one("c")), limit=1)
    try:
        yield "boom"
    except KeyError as exc:
        log.append(f"caught {exc.args[0]}")
    return len(first) + sum(len(p) for p in pair)


def _perform(log: list[str]) -> Callable[[Any], Any]:
    def perform(effect: Any) -> Any:
        log.append(effect)
        if effect == "boom":
            raise KeyError("boom")
        return effect * 3

    return perform


def test_the_same_plan_through_both_runners() -> None:
    sync_log: list[str] = []
    async_log: list[str] = []
    sync_result = run(_plan(sync_log), _perform(sync_log))

    async def go() -> int:
        perform = _perform(async_log)

        async def aperform(effect: Any) -> Any:
            return perform(effect)

        return await arun(_plan(async_log), aperform)

    assert sync_result == asyncio.run(go()) == 9
    assert sync_log == async_log == ["a", "b", "c", "boom", "caught boom"]


def test_an_uncaught_error_leaves_both_runners_and_closes_the_plan() -> None:
    closed: list[bool] = []

    def plan() -> Plan[None]:
        try:
            yield "boom"
        finally:
            closed.append(True)

    def fail(effect: Any) -> Any:
        raise ValueError(effect)

    async def afail(effect: Any) -> Any:
        raise ValueError(effect)

    with pytest.raises(ValueError, match="boom"):
        run(plan(), fail)
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(arun(plan(), afail))
    assert closed == [True, True]


# -- chain readers: one plan of a round -----------------------------------------------


def _rpc_without_batches(seen: list[int]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(len(body) if isinstance(body, list) else 1)
        if isinstance(body, list):
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": None, "result": "no"})
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": "0x7a69"})

    return httpx.MockTransport(handler)


def _rpc_with_batches(seen: list[int]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(len(body))
        return httpx.Response(
            200, json=[{"jsonrpc": "2.0", "id": c["id"], "result": c["method"]} for c in body]
        )

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("transport", "calls", "requests"),
    [
        (_rpc_without_batches, 3, [3, 1, 1, 1]),
        (_rpc_with_batches, MAX_BATCH_CALLS + 5, [MAX_BATCH_CALLS, 5]),
    ],
)
def test_both_chain_readers_run_the_same_round(
    transport: Callable[[list[int]], httpx.MockTransport], calls: int, requests: list[int]
) -> None:
    batch = [RpcCall("eth_chainId") for _ in range(calls)]
    sync_seen: list[int] = []
    async_seen: list[int] = []
    with ChainReader("http://node.test/rpc", transport=transport(sync_seen)) as reader:
        sync_out = reader.execute(batch)

    async def go() -> list[Any]:
        url, t = "http://node.test/rpc", transport(async_seen)
        async with AsyncChainReader(url, transport=t) as reader:
            return await reader.execute(batch)

    assert sync_out == asyncio.run(go())
    assert len(sync_out) == calls
    assert sync_seen == async_seen == requests
