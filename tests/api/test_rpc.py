"""``POST /rpc``: the embedded chain's read-only JSON-RPC."""

from __future__ import annotations

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot


def _call(gw: Gateway, method: str, params: list | None = None, ident: int = 1) -> dict:
    payload = {"jsonrpc": "2.0", "id": ident, "method": method, "params": params or []}
    r = gw.client.post("/rpc", json=payload)
    assert r.status_code == 200
    return r.json()


def test_allowed_methods(gw: Gateway, producer: Producer) -> None:
    assert int(_call(gw, "eth_chainId")["result"], 16) == gw.info["chainId"]
    gw.lot_with_events(producer, new_lot(), 1)
    gw.node.anchor_now()
    head = int(_call(gw, "eth_blockNumber")["result"], 16)
    assert head >= 1
    block = _call(gw, "eth_getBlockByNumber", [hex(head), False])["result"]
    tx = block["transactions"][0]
    receipt = _call(gw, "eth_getTransactionReceipt", [tx])["result"]
    assert receipt["status"] == "0x1"
    code = _call(gw, "eth_getCode", [gw.info["registry"], "latest"])["result"]
    assert len(code) > 100


def test_writes_are_refused(gw: Gateway) -> None:
    out = _call(gw, "eth_sendRawTransaction", ["0x00"])
    assert out["error"]["code"] == -32601 and "result" not in out
    assert _call(gw, "eth_sendTransaction", [{}])["error"]["code"] == -32601


def test_batch_and_errors(gw: Gateway) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "personal_unlockAccount", "params": []},
    ]
    out = gw.client.post("/rpc", json=batch).json()
    assert "result" in out[0] and out[1]["error"]["code"] == -32601
    parse = gw.client.post("/rpc", content=b"{nope", headers={"content-type": "application/json"})
    assert parse.json()["error"]["code"] == -32700
    deep = gw.client.post("/rpc", content=b"[" * 100_000)
    assert deep.json()["error"]["code"] == -32700
    big = gw.client.post("/rpc", json=[batch[0]] * 101)
    assert big.json()["error"]["code"] == -32600
    assert_problem(gw.client.get("/rpc"), 405)
