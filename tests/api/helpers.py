"""Signing helpers for the gateway tests: real keys, real EIP-712 signatures."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from vntrace.node.demo import season_events
from vntrace.node.profile import Profile
from vntrace.node.records import prepare_record


@dataclass
class Producer:
    """A registered producer: its signing account and its API key headers."""

    account: LocalAccount
    token: str
    key_id: str

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_lot() -> str:
    """A fresh lot number (GS1 AI 10: at most 20 characters)."""
    return "T-" + secrets.token_hex(6).upper()


def register_producer(client: TestClient, admin: dict[str, str], name: str = "Coop") -> Producer:
    account = Account.create()
    r = client.post("/v1/producers", json={"address": account.address, "name": name}, headers=admin)
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/producers/{account.address}/keys", json={}, headers=admin)
    assert r.status_code == 201, r.text
    return Producer(account, r.json()["token"], r.json()["keyId"])


def signed_events(
    profile: Profile,
    info: dict[str, Any],
    account: LocalAccount,
    gtin: str,
    lot: str,
    count: int = 3,
    *,
    chain_id: int | None = None,
) -> list[dict[str, Any]]:
    """``count`` valid events of the demo season, signed for ``(gtin, lot)``."""
    events = season_events(datetime.now(UTC))
    out = []
    for i in range(count):
        event = dict(events[i % len(events)])
        prepared = prepare_record(profile, gtin, lot, event)
        signed = prepared.sign(account, chain_id or info["chainId"], info["registry"])
        out.append(
            {
                "event": signed.event,
                "salt": "0x" + signed.salt.hex(),
                "signature": "0x" + signed.signature.hex(),
            }
        )
    return out


def assert_problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and type slug)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if slug is not None:
        assert body["type"] == f"https://vntrace.example/problems/{slug}", body
    return body
