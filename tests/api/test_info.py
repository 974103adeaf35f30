"""``GET /v1/info`` (public) and ``GET /v1/me``."""

from __future__ import annotations

from .conftest import Gateway
from .helpers import assert_problem


def test_info_is_public(gw: Gateway) -> None:
    info = gw.client.get("/v1/info").json()
    assert info["chainId"] == gw.node.chain.chain_id
    assert info["registry"] == gw.node.chain.registry_address
    assert info["operator"] == gw.node.chain.operator_address
    assert info["profile"] == "robusta-vn" and info["chain"] == "embedded"
    assert info["rpc"] == "/rpc"
    assert info["limits"]["maxEventsPerRequest"] == gw.node.settings.max_events_per_request


def test_me_needs_a_key(gw: Gateway) -> None:
    assert_problem(gw.client.get("/v1/me"), 401)
