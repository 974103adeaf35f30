"""``POST /rpc``: the read methods standard tools ask, answered as a real node answers.

The shapes are checked against anvil (a real Ethereum node) where it is installed:
same keys, same types, so that a tool written for geth or anvil reads the embedded
chain unchanged. Nothing answered here may change the chain.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.support.anvil import require_anvil, rpc, running_anvil
from vntrace.node.chain.gas import calldata_floor
from vntrace.node.chain.readonly import READ_ONLY_METHODS, logs_bloom, next_base_fee

from .conftest import Gateway
from .helpers import Producer, new_lot

_SNAKE = re.compile(r"^[a-z]+_[a-z_]+$")


def _call(gw: Gateway, method: str, *params: object) -> dict:
    r = gw.client.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    assert r.status_code == 200, r.text
    return r.json()


def _result(gw: Gateway, method: str, *params: object) -> object:
    out = _call(gw, method, *params)
    assert "error" not in out, out
    return out["result"]


def _anchored(gw: Gateway, producer: Producer) -> str:
    gw.lot_with_events(producer, new_lot(), 1)
    gw.node.anchor_now()
    return _result(gw, "eth_getBlockByNumber", "latest", False)["transactions"][0]


def _state(gw: Gateway, address: str) -> tuple[object, ...]:
    return tuple(
        _result(gw, m, *p)
        for m, p in (
            ("eth_blockNumber", ()),
            ("eth_getBalance", (address, "latest")),
            ("eth_getTransactionCount", (address, "latest")),
        )
    )


def test_every_read_method_answers(gw: Gateway, producer: Producer) -> None:
    tx_hash = _anchored(gw, producer)
    registry, operator = gw.info["registry"], gw.info.get("operator") or producer.address
    head = _result(gw, "eth_getBlockByNumber", "latest", False)
    read = "0x" + gw.node.chain.codec.encode_call("isRootValid", os.urandom(32)).hex()
    params: dict[str, tuple[object, ...]] = {
        "eth_getBlockByNumber": ("latest", True),
        "eth_getBlockByHash": (head["hash"], True),
        "eth_getBlockTransactionCountByNumber": (head["number"],),
        "eth_getBlockTransactionCountByHash": (head["hash"],),
        "eth_getUncleCountByBlockNumber": (head["number"],),
        "eth_getUncleCountByBlockHash": (head["hash"],),
        "eth_getTransactionByHash": (tx_hash,),
        "eth_getTransactionByBlockNumberAndIndex": (head["number"], "0x0"),
        "eth_getTransactionByBlockHashAndIndex": (head["hash"], "0x0"),
        "eth_getTransactionReceipt": (tx_hash,),
        "eth_getLogs": ({"fromBlock": "earliest", "address": registry.lower()},),
        "eth_getBalance": (operator, "latest"),
        "eth_getTransactionCount": (operator, "pending"),
        "eth_getCode": (registry, "latest"),
        "eth_getStorageAt": (registry, "0x0", "latest"),
        "eth_call": ({"to": registry, "data": read}, "latest"),
        "eth_estimateGas": ({"to": registry, "data": read},),
        "eth_feeHistory": ("0x4", "latest", [10, 50, 90]),
    }
    before = _state(gw, operator)
    answers = {m: _result(gw, m, *params.get(m, ())) for m in sorted(READ_ONLY_METHODS)}
    assert _state(gw, operator) == before  # reads, calls and estimates wrote nothing
    assert answers["web3_clientVersion"].startswith("vntrace/v")
    assert answers["eth_accounts"] == [] and answers["eth_syncing"] is False
    assert answers["net_listening"] is True and answers["net_version"] == str(gw.info["chainId"])
    assert int(answers["eth_getBalance"], 16) > 0 and int(answers["eth_getTransactionCount"], 16)
    assert answers["eth_getBlockTransactionCountByNumber"] == "0x1"
    assert answers["eth_getTransactionByBlockHashAndIndex"]["hash"] == tx_hash
    assert any(log["transactionHash"] == tx_hash for log in answers["eth_getLogs"])
    assert answers["eth_call"] == "0x" + "00" * 32  # a random root is not valid
    assert int(answers["eth_estimateGas"], 16) >= calldata_floor(bytes.fromhex(read[2:]))
    assert len(answers["eth_getStorageAt"]) == 66
    # Transactions, in blocks or alone, carry the specification's keys only.
    for tx in (
        answers["eth_getTransactionByHash"],
        answers["eth_getTransactionByBlockNumberAndIndex"],
        *answers["eth_getBlockByNumber"]["transactions"],
    ):
        assert {"blockHash", "input", "yParity", "accessList", "chainId"} <= set(tx)
        assert not [k for k in tx if _SNAKE.match(k)], tx
    # A receipt's bloom, like its block's (one transaction per block).
    receipt = answers["eth_getTransactionReceipt"]
    assert receipt["logsBloom"] == head["logsBloom"] == logs_bloom(receipt["logs"])
    # Fees: consistent with the blocks, and the next base fee predicted right.
    history = answers["eth_feeHistory"]
    assert int(history["oldestBlock"], 16) == int(head["number"], 16) - 3
    assert (
        len(history["baseFeePerGas"]) == 5 and history["baseFeePerGas"][-2] == head["baseFeePerGas"]
    )
    assert len(history["reward"]) == 4 and all(len(r) == 3 for r in history["reward"])
    assert history["reward"][-1][1] == answers["eth_maxPriorityFeePerGas"]
    pending = int(history["baseFeePerGas"][-1], 16)
    assert pending == next_base_fee(
        *(int(head[k], 16) for k in ("baseFeePerGas", "gasUsed", "gasLimit"))
    )
    assert int(answers["eth_gasPrice"], 16) == pending + int(
        answers["eth_maxPriorityFeePerGas"], 16
    )
    _anchored(gw, producer)
    assert _result(gw, "eth_getBlockByNumber", "latest", False)["baseFeePerGas"] == hex(pending)
    assert answers["eth_blobBaseFee"] == "0x1"


@pytest.mark.parametrize(
    ("method", "why"),
    [
        ("eth_sendRawTransaction", "read-only"),
        ("eth_sendTransaction", "read-only"),
        ("eth_sign", "read-only"),
        ("eth_signTypedData_v4", "read-only"),
        ("personal_unlockAccount", "read-only"),
        ("debug_traceTransaction", "admin"),
        ("anvil_setBalance", "admin"),
        ("evm_mine", "admin"),
        ("eth_newFilter", "eth_getLogs"),
        ("eth_getProof", "eth_getStorageAt"),
        ("eth_nonsense", "docs/api.md"),
    ],
)
def test_writes_and_the_rest_are_refused_saying_why(gw: Gateway, method: str, why: str) -> None:
    out = _call(gw, method)
    assert out["error"]["code"] == -32601 and why in out["error"]["message"]


def test_bad_requests_get_json_rpc_errors(gw: Gateway) -> None:
    def post(body: object) -> dict:
        r = gw.client.post("/rpc", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    assert post({"jsonrpc": "2.0", "id": 1, "method": 7})["error"]["code"] == -32600
    assert (
        post({"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": {}})["error"]["code"]
        == -32602
    )
    for params in ([], ["zz", "latest"], ["0x2", "latest", [90, 10]], ["0x2", "latest", [101]]):
        out = post({"jsonrpc": "2.0", "id": 2, "method": "eth_feeHistory", "params": params})
        assert out["id"] == 2 and out["error"]["code"] == -32602, out
    for params in ([], ["nope"], [{"to": "0x12"}]):
        out = post({"jsonrpc": "2.0", "id": 3, "method": "eth_estimateGas", "params": params})
        assert out["error"]["code"] == -32602, out
    batch = post(
        [
            {"jsonrpc": "2.0", "id": 1, "method": "web3_clientVersion"},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": ["0x00"]},
            {"jsonrpc": "2.0", "id": 3, "method": "eth_feeHistory", "params": [1, "latest"]},
            "junk",
        ]
    )
    assert [("result" in a, a.get("id")) for a in batch] == [
        (True, 1),
        (False, 2),
        (True, 3),
        (False, None),
    ]


def _shape(value: object) -> object:
    """Keys and JSON types, recursively (the first item stands for a list)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.anvil
def test_same_shapes_as_a_real_node(gw: Gateway, producer: Producer) -> None:
    """What a tool reads from the embedded chain has the keys and types anvil gives."""
    require_anvil()
    ours_tx = _anchored(gw, producer)
    with running_anvil() as anvil:
        sender = rpc(anvil.url, "eth_accounts")[0]
        theirs_tx = rpc(anvil.url, "eth_sendTransaction", [{"from": sender, "to": sender}])
        rpc(anvil.url, "eth_getTransactionReceipt", [theirs_tx])  # mined
        cases: list[tuple[str, list[object], list[object]]] = [
            ("eth_getTransactionByHash", [ours_tx], [theirs_tx]),
            ("eth_getTransactionReceipt", [ours_tx], [theirs_tx]),
            ("eth_getBlockByNumber", ["latest", False], ["latest", False]),
            ("eth_feeHistory", ["0x2", "latest", [50]], ["0x2", "latest", [50]]),
        ]
        for method in (
            "eth_gasPrice",
            "eth_maxPriorityFeePerGas",
            "eth_blobBaseFee",
            "eth_syncing",
            "net_listening",
            "web3_clientVersion",
            "net_version",
        ):
            cases.append((method, [], []))
        for method, ours_params, their_params in cases:
            ours = _shape(_result(gw, method, *ours_params))
            theirs = _shape(rpc(anvil.url, method, their_params))
            if isinstance(ours, dict) and isinstance(theirs, dict):
                # anvil adds fields newer than the specification (blockTimestamp...).
                missing = set(theirs) - set(ours) - {"blockTimestamp", "blobGasPrice"}
                assert not missing, (method, missing)
                # An empty list on either side (no logs there) says nothing of its items.
                common = [k for k in ours if k in theirs and [] not in (ours[k], theirs[k])]
                assert {k: theirs[k] for k in common} == {k: ours[k] for k in common}, method
            else:
                assert ours == theirs, method
