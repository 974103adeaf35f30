"""The swappable transport: error mapping and safe retries, without a node."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from vntrace.client import AsyncClient, Client, RateLimitError, ServerError, TransportError

PROBLEM = {
    "type": "https://vntrace.example/problems/unavailable",
    "title": "Service unavailable",
    "status": 503,
    "detail": "the chain is unavailable; try again shortly",
    "instance": "/v1/lots",
}
LOT = {"gtin": "08936099000015", "lot": "L1", "lotKey": "0x" + "00" * 32, "recordIds": []}


def _flaky(fail: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= fail:
            return httpx.Response(
                503,
                json=PROBLEM,
                headers={"Retry-After": "0", "Content-Type": "application/problem+json"},
            )
        return httpx.Response(201, json=LOT)

    return httpx.MockTransport(handler)


def test_write_retried_with_the_same_idempotency_key() -> None:
    seen: list[httpx.Request] = []
    with Client("http://node.test", api_key="vnt_x", transport=_flaky(2, seen)) as client:
        written = client.register_lot("08936099000015", "L1")
    assert written.lot == "L1" and len(seen) == 3
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(keys) == 1  # one key for the call, reused by every retry
    assert seen[0].headers["Authorization"] == "Bearer vnt_x"


def test_each_call_gets_its_own_key_and_problems_are_parsed() -> None:
    seen: list[httpx.Request] = []
    with Client("http://node.test", transport=_flaky(10, seen), retries=1) as client:
        with pytest.raises(ServerError) as err:
            client.register_lot("08936099000015", "L1")
        assert err.value.status == 503 and err.value.retry_after == 0
        assert err.value.detail == PROBLEM["detail"] and err.value.instance == "/v1/lots"
        with pytest.raises(ServerError):
            client.register_lot("08936099000015", "L1")
    assert len({r.headers["Idempotency-Key"] for r in seen}) == 2


def test_async_client_behaves_the_same() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(429, json={**PROBLEM, "status": 429}, headers={"Retry-After": "0"})

    async def run() -> None:
        transport = httpx.MockTransport(handler)
        async with AsyncClient("http://node.test", transport=transport, retries=2) as client:
            with pytest.raises(RateLimitError):
                await client.info()

    asyncio.run(run())
    assert len(seen) == 3


def test_unreachable_node_is_a_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(refuse)
    with (
        Client("http://node.test", transport=transport, retries=0) as client,
        pytest.raises(TransportError, match="cannot reach the node"),
    ):
        client.info()
