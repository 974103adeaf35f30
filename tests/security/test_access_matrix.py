"""Who may do what: every refusal, in one matrix, over HTTP against a real node.

Each row is one attempt that must be refused, with the status and problem type it must
get, and the records it tried to write, which must not be stored (nor may the store's
record count move). The last rows ask the registry contract itself, through the node's
read-only ``/rpc`` (``eth_call``, which runs the contract exactly as a transaction
would), whether a stranger may anchor a root or the node's operator may register a
producer; and check that ``/rpc`` does not relay transactions at all. Sending real
transactions from unauthorised accounts is covered on chain in
``tests/contracts/test_registry.py``.

docs/security.md ("Access control, tested") lists the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import pytest
import sha3
from eth_abi import encode
from eth_account import Account

from tests.reliability.serve import HttpProducer, is_problem

from .conftest import Node


@dataclass
class World:
    """Two producers with a lot each, an auditor, a revoked key, and a stored record."""

    node: Node
    a: HttpProducer
    b: HttpProducer
    a_lot: str
    b_lot: str
    a_record: str
    a_items: list[dict[str, Any]]
    auditor: dict[str, str]
    revoked: dict[str, str]
    stranger: Any = field(default_factory=Account.create)

    def lot_body(self, lot: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"gtin": self.node.gtin, "lot": lot, "events": items}


@pytest.fixture(scope="module")
def world(node: Node) -> World:
    a, b = node.producer("A"), node.producer("B")
    lots = []
    for p in (a, b):
        lot = "M-" + p.key_id[:8].upper()
        items, ids = node.signer.sign(p.account, lot, 1)
        r = node.http.post("/v1/lots", json=_body(node, lot, items), headers=p.headers)
        assert r.status_code == 201, r.text
        lots.append((lot, items, ids))
    r = node.http.post("/v1/auditors/keys", json={}, headers=node.admin)
    assert r.status_code == 201, r.text
    auditor = {"Authorization": f"Bearer {r.json()['token']}"}
    c = node.producer("C")
    r = node.http.delete(f"/v1/producers/{c.address}/keys/{c.key_id}", headers=node.admin)
    assert r.status_code == 200, r.text
    return World(node, a, b, lots[0][0], lots[1][0], lots[0][2][0], lots[0][1], auditor, c.headers)


def _body(node: Node, lot: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"gtin": node.gtin, "lot": lot, "events": items}


Attempt = Callable[[World], tuple[httpx.Response, list[str]]]


@dataclass(frozen=True)
class Row:
    who: str
    tries: str
    attempt: Attempt
    status: int
    slug: str


class Caller(Protocol):
    """Whoever sends a request: a signing key and the credentials sent with it."""

    @property
    def account(self) -> Any: ...

    @property
    def headers(self) -> dict[str, str]: ...


def _append(
    w: World, producer: Caller, lot: str, signer: Any = None, **sign: Any
) -> tuple[httpx.Response, list[str]]:
    items, ids = w.node.signer.sign(signer or producer.account, lot, 1, start=2, **sign)
    r = w.node.http.post(
        f"/v1/lots/{w.node.gtin}/{lot}/events", json={"events": items}, headers=producer.headers
    )
    return r, ids


def _new_lot(
    w: World, headers: dict[str, str], signer: Any, lot: str = "", **sign: Any
) -> tuple[httpx.Response, list[str]]:
    lot = lot or "N-" + Account.create().address[2:12].upper()
    items, ids = w.node.signer.sign(signer, lot, 1, **sign)
    return w.node.http.post("/v1/lots", json=w.lot_body(lot, items), headers=headers), ids


def _forged_signature(w: World) -> tuple[httpx.Response, list[str]]:
    items, ids = w.node.signer.sign(w.a.account, w.a_lot, 1, start=3)
    sig = bytearray(bytes.fromhex(items[0]["signature"][2:]))
    sig[10] ^= 0x01  # another r: recovers to some other address, or to none
    items[0]["signature"] = "0x" + sig.hex()
    url = f"/v1/lots/{w.node.gtin}/{w.a_lot}/events"
    return w.node.http.post(url, json={"events": items}, headers=w.a.headers), ids


def _b_replays_a_record_in_own_lot(w: World) -> tuple[httpx.Response, list[str]]:
    """A's signed record (bound to A's lot) sent by B to B's lot."""
    url = f"/v1/lots/{w.node.gtin}/{w.b_lot}/events"
    return w.node.http.post(url, json={"events": w.a_items}, headers=w.b.headers), []


def _a_replays_into_another_own_lot(w: World) -> tuple[httpx.Response, list[str]]:
    """A's record of one lot replayed into another lot of A: the lot key is signed."""
    return w.node.http.post(
        "/v1/lots", json=w.lot_body("R-" + w.a.key_id[:8].upper(), w.a_items), headers=w.a.headers
    ), []


def _rpc(w: World, method: str, params: list[Any]) -> httpx.Response:
    return w.node.http.post(
        "/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    )


def _call(
    w: World, sender: str, signature: str, types: list[str], args: list[Any]
) -> httpx.Response:
    data = sha3.keccak_256(signature.encode()).digest()[:4] + encode(types, args)
    tx = {"from": sender, "to": w.node.info["registry"], "data": "0x" + data.hex()}
    return _rpc(w, "eth_call", [tx, "latest"])


def _unauthorized_selector() -> str:
    sig = "AccessControlUnauthorizedAccount(address,bytes32)"
    return "0x" + sha3.keccak_256(sig.encode()).hexdigest()[:8]


H = dict[str, str]
NO_KEY: H = {}
BAD_KEY: H = {"Authorization": "Bearer vnt_0123456789abcdef_" + "A" * 43}
NOT_A_TOKEN: H = {"Authorization": "Basic YWRtaW46YWRtaW4="}
Who = Callable[[World], H]
A: Who = lambda w: w.a.headers  # noqa: E731
B: Who = lambda w: w.b.headers  # noqa: E731
AUDITOR: Who = lambda w: w.auditor  # noqa: E731
ADMIN: Who = lambda w: w.node.admin  # noqa: E731
NOBODY: Who = lambda w: NO_KEY  # noqa: E731
REVOKED: Who = lambda w: w.revoked  # noqa: E731
RECALL_A = "/v1/lots/{w.node.gtin}/{w.a_lot}/recall"
DISCLOSE_A = "/v1/records/{w.a_record}/disclosures"
CUSTODIAL_KEY_A = "/v1/producers/{w.a.address}/custodial-key"
CUSTODIANS_A = "/v1/producers/{w.a.address}/custodians"
# revoking is checked before the key is looked up: any address will do
REVOKE_CUSTODIAN_A = CUSTODIANS_A + "/{w.stranger.address}"


def post(path: str, who: Who, body: Any = None) -> Attempt:
    """POST ``path`` (formatted with the world ``w``) as ``who``; writes no record."""

    def attempt(w: World) -> tuple[httpx.Response, list[str]]:
        data = {"address": w.stranger.address, "name": "x"} if body == "producer" else body
        return w.node.http.post(path.format(w=w), json=data, headers=who(w)), []

    return attempt


def get(path: str, who: Who) -> Attempt:
    return lambda w: (w.node.http.get(path.format(w=w), headers=who(w)), [])


def delete(path: str, who: Who) -> Attempt:
    return lambda w: (w.node.http.delete(path.format(w=w), headers=who(w)), [])


def options(path: str, who: Who) -> Attempt:
    return lambda w: (w.node.http.options(path.format(w=w), headers=who(w)), [])


def append_to_a(who: Who, signer: Any = None, **sign: Any) -> Attempt:
    """Sign an event for A's lot (with A's key unless ``signer``) and send it as ``who``."""
    return lambda w: _append(w, _Creds(w.a.account, who(w)), w.a_lot, signer, **sign)


def new_lot(who: Who, lot: Callable[[World], str] | None = None) -> Attempt:
    return lambda w: _new_lot(w, who(w), Account.create(), lot(w) if lot else "")


ROWS: list[Row] = [
    # who may write to a lot
    Row("producer B", "register A's lot as its own (POST /v1/lots)",
        lambda w: _new_lot(w, w.b.headers, w.b.account, w.a_lot), 403, "forbidden"),
    Row("producer B", "append events to A's lot", append_to_a(B), 403, "forbidden"),
    Row("producer B", "recall A's lot", post(RECALL_A, B, {"reason": "x"}), 403, "forbidden"),
    Row("producer B", "read the disclosures of A's record", get(DISCLOSE_A, B), 403, "forbidden"),
    # which credentials count
    Row("no key", "append events", append_to_a(NOBODY), 401, "unauthorized"),
    Row("unknown key", "append events", append_to_a(lambda w: BAD_KEY), 401, "unauthorized"),
    Row("not a bearer token", "append events", append_to_a(lambda w: NOT_A_TOKEN), 401,
        "unauthorized"),
    Row("revoked producer key", "register a lot", new_lot(REVOKED), 401, "unauthorized"),
    # what a signature binds
    Row("producer A", "submit an event signed by another key",
        append_to_a(A, signer=Account.create()), 422, "invalid-input"),
    Row("producer A", "submit a forged signature (one byte of r changed)", _forged_signature,
        422, "invalid-input"),
    Row("producer A", "submit a signature for another chain id", append_to_a(A, chain_id=1),
        422, "invalid-input"),
    Row("producer A", "replay a signature made for another registry (deployment)",
        append_to_a(A, registry="0x" + "12" * 20), 422, "invalid-input"),
    Row("producer A", "replay its record of one lot into another of its lots",
        _a_replays_into_another_own_lot, 422, "invalid-input"),
    Row("producer B", "replay A's signed record into B's own lot",
        _b_replays_a_record_in_own_lot, 422, "invalid-input"),
    # roles
    Row("producer A", "register a producer", post("/v1/producers", A, "producer"), 403,
        "forbidden"),
    Row("producer A", "issue itself another API key", post("/v1/producers/{w.a.address}/keys", A),
        403, "forbidden"),
    Row("producer A", "issue an auditor key", post("/v1/auditors/keys", A), 403, "forbidden"),
    Row("producer A", "revoke B's key",
        lambda w: (w.node.http.delete(f"/v1/producers/{w.b.address}/keys/{w.b.key_id}",
                                      headers=w.a.headers), []), 403, "forbidden"),
    Row("auditor", "register a producer", post("/v1/producers", AUDITOR, "producer"), 403,
        "forbidden"),
    Row("auditor", "register a lot with events", new_lot(AUDITOR), 403, "forbidden"),
    Row("auditor", "append events to A's lot", append_to_a(AUDITOR), 403, "forbidden"),
    Row("auditor", "recall A's lot", post(RECALL_A, AUDITOR, {"reason": "x"}), 403, "forbidden"),
    Row("admin", "write events (only producers sign events)", new_lot(ADMIN), 403, "forbidden"),
    Row("no key", "register a producer", post("/v1/producers", NOBODY, "producer"), 401,
        "unauthorized"),
    Row("no key", "read a record's disclosures", get(DISCLOSE_A, NOBODY), 401, "unauthorized"),
    # custodial keys (docs/epcis.md §6): the producer itself or the administrator makes one,
    # only the administrator revokes one
    Row("producer B", "make a custodial key for A", post(CUSTODIAL_KEY_A, B), 403, "forbidden"),
    Row("auditor", "make a custodial key for A", post(CUSTODIAL_KEY_A, AUDITOR), 403,
        "forbidden"),
    Row("no key", "make a custodial key", post(CUSTODIAL_KEY_A, NOBODY), 401, "unauthorized"),
    Row("revoked producer key", "make a custodial key", post(CUSTODIAL_KEY_A, REVOKED), 401,
        "unauthorized"),
    Row("producer A", "revoke its own custodial key", delete(REVOKE_CUSTODIAN_A, A), 403,
        "forbidden"),
    Row("auditor", "revoke A's custodial key", delete(REVOKE_CUSTODIAN_A, AUDITOR), 403,
        "forbidden"),
    Row("no key", "revoke a custodial key", delete(REVOKE_CUSTODIAN_A, NOBODY), 401,
        "unauthorized"),
    # EPCIS discovery of one subscription is its owner's, as GET (other OPTIONS are public)
    Row("no key", "discover a subscription (OPTIONS /epcis/queries/…/subscriptions/…)",
        options("/epcis/queries/q/subscriptions/sub_0", NOBODY), 401, "unauthorized"),
    Row("producer A", "discover a subscription it does not hold",
        options("/epcis/queries/q/subscriptions/sub_0", A), 404, "not-found"),
]  # fmt: skip


@dataclass
class _Creds:
    account: Any
    _headers: H

    @property
    def headers(self) -> H:
        return self._headers


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.who}: {r.tries}" for r in ROWS])
def test_refused(world: World, row: Row) -> None:
    before = world.node.records()
    response, ids = row.attempt(world)
    assert response.status_code == row.status, response.text[:400]
    assert is_problem(response), response.text[:400]
    assert response.json()["type"].endswith("/" + row.slug), response.json()
    if row.status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    for rid in ids:
        assert world.node.http.get(f"/v1/records/{rid}").status_code == 404
    assert world.node.records() == before, "a refused request stored something"


def test_custodial_keys_who_may(world: World) -> None:
    """The other side of the custodial rows: the statement is public (no key, or any
    key), the producer makes its own key and the administrator anyone's; the refused
    attempts above made none."""
    http, w = world.node.http, world
    statement = http.get(CUSTODIANS_A.format(w=w))
    assert statement.status_code == 200, statement.text
    assert statement.json()["custodians"] == [] and "signature" in statement.json()
    for who in (AUDITOR, B):
        assert http.get(CUSTODIANS_A.format(w=w), headers=who(w)).status_code == 200
    made = http.post(CUSTODIAL_KEY_A.format(w=w), headers=w.a.headers)
    assert made.status_code == 201, made.text
    custodian = made.json()["custodians"][0]
    again = http.post(CUSTODIAL_KEY_A.format(w=w), headers=w.node.admin)
    assert again.status_code == 200 and again.json()["custodians"] == [custodian]
    for_b = http.post(f"/v1/producers/{w.b.address}/custodial-key", headers=w.node.admin)
    assert for_b.status_code == 201, for_b.text
    assert http.get(CUSTODIANS_A.format(w=w)).json()["custodians"] == [custodian]
    revoked = http.delete(f"{CUSTODIANS_A.format(w=w)}/{custodian}", headers=w.node.admin)
    assert revoked.status_code == 200 and revoked.json()["custodians"] == []


def test_replaying_an_accepted_record_stores_nothing_twice(world: World) -> None:
    before = world.node.records()
    r = world.node.http.post(
        f"/v1/lots/{world.node.gtin}/{world.a_lot}/events",
        json={"events": world.a_items},
        headers=world.a.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["records"][0]["duplicate"] is True
    assert r.json()["recordIds"] == [world.a_record]
    assert world.node.records() == before


def test_a_stranger_cannot_anchor_and_the_operator_cannot_register(world: World) -> None:
    """The registry refuses, whatever the node does: asked through eth_call at /rpc."""
    root = b"\x42" * 32
    refused = _call(world, world.stranger.address, "anchor(bytes32,uint64,uint32)",
                    ["bytes32", "uint64", "uint32"], [root, 1, 1])  # fmt: skip
    _assert_reverted_unauthorized(refused)
    operator = world.node.info["operator"]
    refused = _call(world, operator, "registerProducer(address,string)",
                    ["address", "string"], [world.stranger.address, ""])  # fmt: skip
    _assert_reverted_unauthorized(refused)
    # the node's operator may anchor (the same call succeeds in simulation)
    epoch = _last_epoch(world) + 1
    ok = _call(world, operator, "anchor(bytes32,uint64,uint32)",
               ["bytes32", "uint64", "uint32"], [root, epoch, 1])  # fmt: skip
    assert "error" not in ok.json(), ok.json()


def test_rpc_relays_no_transactions(world: World) -> None:
    r = _rpc(world, "eth_sendRawTransaction", ["0x" + "00" * 100])
    assert r.json()["error"]["code"] == -32601
    r = _rpc(world, "eth_sendTransaction", [{"from": world.node.info["operator"]}])
    assert r.json()["error"]["code"] == -32601


def _last_epoch(w: World) -> int:
    r = _call(w, w.stranger.address, "lastEpoch(address)", ["address"], [w.node.info["operator"]])
    return int(r.json()["result"], 16)


def _assert_reverted_unauthorized(response: httpx.Response) -> None:
    body = response.json()
    assert "error" in body, body
    data = str(body["error"].get("data", ""))
    assert data.startswith(_unauthorized_selector()), body
