"""The SDK keeps a producer's verified custodians statement for a while (docs/epcis.md §6).

Verifying many records the node signed for one producer asks the node for its
custodians statement once per ``custodians_ttl`` (the blocking and the async client
alike: the cache lives in their shared plans); a statement is checked with the node's
key when it is fetched, a bad one is never kept, and a key the node revokes stops being
accepted once the entry is older than the TTL. Requests are counted by a transport
wrapped around the real node app (in process: embedded chain, SQLite), so revoking a
key is one call on the node.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.conftest import Gateway, open_gateway
from tests.api.helpers import Producer, new_lot
from tests.support.epcis import gs1_example
from vntrace.client import AsyncClient, Client
from vntrace.client.errors import ConfigurationError
from vntrace.client.settings import DEFAULT_CUSTODIANS_TTL, ClientSettings

STATEMENT = "/custodians"
IDENTITY = "/.well-known/vntrace-node.json"
Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(tmp_path_factory.mktemp("custodians-cache"))


@dataclass
class CustodialLots:
    """A producer whose plain EPCIS captures the node signed, anchored."""

    producer: Producer
    custodian: str
    lots: list[str]
    record_ids: list[str]


def custodial_lots(gw: Gateway, name: str, lots: int = 2) -> CustodialLots:
    producer = gw.producer(name)
    r = gw.client.post(f"/v1/producers/{producer.address}/custodial-key", headers=producer.headers)
    assert r.status_code == 201, r.text
    made = CustodialLots(producer, r.json()["custodians"][0], [], [])
    for _ in range(lots):
        lot = new_lot()
        doc = gs1_example(gw.node.profile, gw.gtin, lot)
        for event in doc["epcisBody"]["eventList"]:
            event.pop("eventID", None)  # a plain client: no signature, no eventID
        r = gw.client.post(
            "/epcis/capture",
            content=json.dumps(doc, ensure_ascii=False).encode(),
            headers={**producer.headers, "Content-Type": "application/ld+json"},
        )
        assert r.status_code == 202, r.text
        made.lots.append(lot)
        made.record_ids += [a["recordId"] for a in r.json()["records"]]
    gw.node.anchor_now()
    return made


@pytest.fixture(scope="module")
def lots(gw: Gateway) -> CustodialLots:
    return custodial_lots(gw, "HTX Cư M'gar")


@dataclass
class Seen:
    """Paths the client asked for, and an optional rewrite of the statements served."""

    paths: list[str] = field(default_factory=list)
    rewrite: Rewrite | None = None

    def count(self, suffix: str) -> int:
        return sum(p.endswith(suffix) for p in self.paths)

    def answer(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.rewrite is None or not request.url.path.endswith(STATEMENT):
            return response
        body = self.rewrite(json.loads(response.content))
        return httpx.Response(response.status_code, json=body, request=request)


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, seen: Seen) -> None:
        self.inner, self.seen = inner, seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self.seen.answer(request, response)


class AsyncCounting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, seen: Seen) -> None:
        self.inner, self.seen = inner, seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self.seen.answer(request, response)


def client(gw: Gateway, seen: Seen, **kwargs: Any) -> Client:
    """An SDK client over the in-process app (its /rpc too), counting into ``seen``."""
    return Client("http://testserver", transport=Counting(gw.client._transport, seen), **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_many_custodial_records_one_statement(gw: Gateway, lots: CustodialLots) -> None:
    seen = Seen()
    with client(gw, seen) as sdk:
        assert sdk.settings.custodians_ttl == DEFAULT_CUSTODIANS_TTL == 60.0
        for rid in lots.record_ids:
            result = sdk.verify_record(rid)
            assert (result.status, result.signed_by) == ("verified", "custodial"), result.details
        for lot in lots.lots:
            whole = sdk.verify_lot(gw.gtin, lot)
            assert whole.status == "verified", whole.details
            assert {r.signed_by for r in whole.records} == {"custodial"}
    assert len(lots.record_ids) == 4
    assert seen.count(STATEMENT) == 1, seen.paths
    assert seen.count(IDENTITY) == 1  # the node's key too: a cached statement was checked


def test_the_async_client_keeps_it_too(gw: Gateway, lots: CustodialLots) -> None:
    seen = Seen()

    async def run() -> list[Any]:
        transport = AsyncCounting(httpx.ASGITransport(app=gw.client.app), seen)
        async with AsyncClient("http://testserver", transport=transport) as sdk:
            out = [await sdk.verify_record(rid) for rid in lots.record_ids]
            whole = await sdk.verify_lot(gw.gtin, lots.lots[0])
            assert whole.status == "verified", whole.details
            return out + list(whole.records)

    results = asyncio.run(run())
    assert [(r.status, r.signed_by) for r in results] == [("verified", "custodial")] * 6
    assert seen.count(STATEMENT) == 1, seen.paths


def test_after_the_ttl_it_is_fetched_again_and_a_revocation_shows(gw: Gateway) -> None:
    made = custodial_lots(gw, "HTX Krông Búk", lots=1)
    rid = made.record_ids[0]
    seen, clock = Seen(), Clock()
    with client(gw, seen, custodians_ttl=30) as sdk:
        sdk._plans.custodians.clock = clock
        assert sdk.verify_record(rid).status == "verified"
        clock.now += 29.9
        assert sdk.verify_record(made.record_ids[1]).status == "verified"
        assert seen.count(STATEMENT) == 1
        clock.now += 0.1  # 30 s after it was fetched: stale
        assert sdk.verify_record(rid).status == "verified"
        assert seen.count(STATEMENT) == 2

        producer = gw.node.producer(made.producer.address)
        gw.node.custodial.revoke(producer, made.custodian)
        # Within the TTL the client still trusts what it verified (the bound it accepts)...
        clock.now += 10
        assert sdk.verify_record(rid).status == "verified"
        assert seen.count(STATEMENT) == 2
        # ...and once the entry is older, the node's new statement leaves the key out.
        clock.now += 20
        revoked = sdk.verify_record(rid)
        assert (revoked.status, revoked.signed_by) == ("failed", "custodial")
        assert "bad_signature" in revoked.reasons
        assert seen.count(STATEMENT) == 3
        # A statement that lists nobody is never a reason to stop asking.
        assert sdk.verify_record(rid).status == "failed"
        assert seen.count(STATEMENT) == 4


def test_a_statement_that_does_not_verify_is_not_kept(gw: Gateway, lots: CustodialLots) -> None:
    def forged(statement: dict[str, Any]) -> dict[str, Any]:
        return {**statement, "issuedAt": "2099-01-01T00:00:00.000Z"}  # signature no longer fits

    seen = Seen(rewrite=forged)
    with client(gw, seen) as sdk:
        bad = sdk.verify_record(lots.record_ids[0])
        assert bad.status == "failed" and "bad_signature" in bad.reasons
        seen.rewrite = None
        assert sdk.verify_record(lots.record_ids[0]).status == "verified"
        assert sdk.verify_record(lots.record_ids[1]).status == "verified"
    assert seen.count(STATEMENT) == 2


def test_a_ttl_of_zero_asks_every_time(gw: Gateway, lots: CustodialLots) -> None:
    seen = Seen()
    with client(gw, seen, custodians_ttl=0) as sdk:
        for rid in lots.record_ids[:3]:
            assert sdk.verify_record(rid).status == "verified"
    assert seen.count(STATEMENT) == 3


def test_a_producer_signed_record_needs_no_statement(gw: Gateway, lots: CustodialLots) -> None:
    own = gw.lot_with_events(lots.producer, new_lot(), 1)
    gw.node.anchor_now()
    seen = Seen()
    with client(gw, seen) as sdk:
        mine = sdk.verify_record(own["records"][0]["recordId"])
        assert (mine.status, mine.signed_by) == ("verified", "producer")
    assert seen.count(STATEMENT) == 0


def test_the_ttl_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="custodians_ttl"):
        ClientSettings(custodians_ttl=-1)
    with pytest.raises(ConfigurationError, match="custodians_ttl"):
        Client("http://testserver", custodians_ttl=float("nan"))
