"""Request rate limit per API key or client address."""

from __future__ import annotations

from pathlib import Path

from vntrace.api.ratelimit import TokenBuckets

from .conftest import open_gateway
from .helpers import assert_problem


def test_token_bucket() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("a", now=0.0) for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a", now=0.0) == 0.5
    assert buckets.take("b", now=0.0) == 0  # callers do not share a bucket
    assert buckets.take("a", now=1.0) == 0  # refilled at 2 per second


def test_over_the_limit_gets_429(tmp_path: Path) -> None:
    for gw in open_gateway(tmp_path, rate_limit_per_second=0.5, rate_limit_burst=4):
        # open_gateway already spent one anonymous request (GET /v1/info)
        statuses = [gw.client.get("/v1/info").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        r = gw.client.get("/v1/info")
        body = assert_problem(r, 429, "rate-limited")
        assert int(r.headers["retry-after"]) >= 1 and "per second" in body["detail"]
        # an unknown or forged key does not buy a fresh budget: it counts as the address
        forged = {"Authorization": "Bearer vnt_0123456789abcdef_" + "A" * 43}
        assert_problem(gw.client.get("/v1/info", headers=forged), 429)
        assert_problem(gw.client.get("/v1/me", headers=gw.admin), 429)
        health_checks = [gw.client.get("/healthz").status_code for _ in range(10)]
        assert health_checks == [200] * 10
        assert 'status="429"' in gw.client.get("/metrics").text


def test_authenticated_keys_get_their_own_budget(tmp_path: Path) -> None:
    for gw in open_gateway(tmp_path, rate_limit_per_second=0.5, rate_limit_burst=3):
        producer = gw.producer()  # two admin requests: the admin key is now known
        assert gw.client.get("/v1/me", headers=producer.headers).status_code == 200
        anonymous = [gw.client.get("/v1/info").status_code for _ in range(3)]
        assert anonymous[-1] == 429  # the address spent its budget...
        assert gw.client.get("/v1/me", headers=producer.headers).status_code == 200
