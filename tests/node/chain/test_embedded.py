"""Embedded-chain specifics: persistence across processes, crash safety, JSON-RPC."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.providers.base import BaseProvider

from tests.support.oz_tree import OzTree
from vntrace.node.chain import (
    ConfigurationError,
    EmbeddedChain,
    RpcError,
    open_backend,
)
from vntrace.node.chain.embedded import DEFAULT_CHAIN_ID, READ_ONLY_METHODS

from .conftest import dev_account

WORKER = Path(__file__).with_name("chain_worker.py")


def run_worker(*args: str, timeout: float = 60) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(WORKER), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_state_survives_a_restart_in_another_process(tmp_path: Path) -> None:
    first = run_worker("anchor", str(tmp_path), "3")
    assert first["chain_id"] == DEFAULT_CHAIN_ID
    assert first["epochs"] == [1, 2, 3] and first["last_epoch"] == 3
    second = run_worker("report", str(tmp_path))
    assert second == first  # same chain id, head, registry, operator and anchors
    with EmbeddedChain(tmp_path) as chain:
        for epoch, root in enumerate(first["roots"], start=1):
            anchor = chain.get_anchor(bytes.fromhex(root[2:]))
            assert anchor is not None and anchor.epoch == epoch and anchor.valid
        chain.anchor(os.urandom(32), 4, 1)  # mining continues on top of the stored head
        assert chain.block_number() == first["block_number"] + 1


@pytest.mark.slow
def test_kill_9_while_anchoring_leaves_a_consistent_chain(tmp_path: Path) -> None:
    run_worker("anchor", str(tmp_path), "1")  # create chain and registry first
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "forever", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # it is anchoring now
            time.sleep(0.05 + 0.1 * round_)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
        with EmbeddedChain(tmp_path) as chain:
            anchored = [e for e in chain.events_since(0) if e.name == "RootAnchored"]
            last = chain.last_epoch()
            assert last >= 2
            assert [e.args["epoch"] for e in anchored] == list(range(1, last + 1))
            assert all(chain.is_root_valid(e.args["root"]) for e in anchored)
            assert chain.block_number() == anchored[-1].block_number
            chain.anchor(os.urandom(32), last + 1, 1)


def test_reopen_keeps_identity_and_refuses_a_second_process(tmp_path: Path) -> None:
    with EmbeddedChain(tmp_path, durable=False) as chain:
        registry, admin, operator = chain.registry_address, chain.admin_account, chain.account
        block = chain.block_number()
        with pytest.raises(ConfigurationError, match="open in another process"):
            EmbeddedChain(tmp_path)
    keys = tmp_path / "chain" / "keys.json"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert json.loads((tmp_path / "chain" / "registry.json").read_text())["address"] == registry
    # A crash between deploying and writing registry.json: found again at its
    # deterministic address (the admin's first transaction).
    (tmp_path / "chain" / "registry.json").unlink()
    with open_backend("embedded", data_dir=tmp_path) as chain:
        assert chain.registry_address == registry
        assert chain.admin_account.address == admin.address
        assert chain.account.address == operator.address
        assert chain.block_number() == block
    with pytest.raises(ConfigurationError, match="chain id"):
        EmbeddedChain(tmp_path, chain_id=1234)
    keys.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        EmbeddedChain(tmp_path)


def test_supplied_operator_is_funded_and_registered(tmp_path: Path) -> None:
    operator = Account.create()
    with EmbeddedChain(tmp_path, account=operator) as chain:
        assert chain.is_anchorer(operator.address)
        chain.anchor(os.urandom(32), 1, 1)
    other = Account.create()  # a later operator change is handled on start too
    with EmbeddedChain(tmp_path, account=other) as chain:
        assert chain.get_balance(other.address) > 0
        assert chain.is_anchorer(other.address)
        assert chain.last_epoch(operator.address) == 1


class _BackendProvider(BaseProvider):
    """A web3 provider answered by ``rpc_request``: what an /rpc client sees."""

    def __init__(self, chain: EmbeddedChain) -> None:
        super().__init__()
        self.chain = chain

    def make_request(self, method: Any, params: Any) -> Any:
        payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        # Through JSON, as over HTTP.
        return json.loads(json.dumps(self.chain.handle_jsonrpc(json.loads(json.dumps(payload)))))

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def test_read_only_json_rpc(tmp_path: Path) -> None:
    with EmbeddedChain(tmp_path, durable=False) as chain:
        leaves = [os.urandom(32) for _ in range(4)]
        tree = OzTree(leaves)
        result = chain.anchor(tree.root, 1, 4)

        w3 = Web3(_BackendProvider(chain))
        assert w3.eth.chain_id == DEFAULT_CHAIN_ID
        assert w3.eth.block_number == chain.block_number()
        block = w3.eth.get_block(result.block_number)
        assert block["timestamp"] == result.block_timestamp
        assert w3.eth.get_block(block["hash"])["number"] == result.block_number
        receipt = w3.eth.get_transaction_receipt(result.tx_hash)
        assert receipt["status"] == 1 and receipt["blockNumber"] == result.block_number
        assert w3.eth.get_code(chain.registry_address) != b""
        registry = w3.eth.contract(address=chain.registry_address, abi=chain.artifact.abi)
        assert registry.functions.isRootValid(tree.root).call()
        assert registry.functions.verifyProof(tree.root, leaves[2], tree.proof(2)).call()
        logs = registry.events.RootAnchored().get_logs(from_block=result.block_number)
        assert [log["args"]["epoch"] for log in logs] == [1]

        # Reverts carry their data, as from geth.
        reply = chain.handle_jsonrpc(
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "eth_call",
                "params": [
                    {
                        "to": chain.registry_address,
                        "data": "0x" + chain.codec.encode_call("anchor", tree.root, 1, 1).hex(),
                    },
                    "latest",
                ],
            }
        )
        assert reply["id"] == 7 and reply["error"]["code"] == 3
        assert chain.codec.decode_revert(bytes.fromhex(reply["error"]["data"][2:])).error_name
        # Writes and unknown methods are refused; a batch is answered item by item.
        for method in ("eth_sendRawTransaction", "eth_sendTransaction", "evm_mine", "eth_sign"):
            assert method not in READ_ONLY_METHODS
            with pytest.raises(RpcError) as excinfo:
                chain.rpc_request(method, [])
            assert excinfo.value.code == -32601
        batch = chain.handle_jsonrpc(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
                {"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": ["0x"]},
                {"id": 3},
            ]
        )
        assert batch[0]["result"] == hex(chain.block_number())
        assert batch[1]["error"]["code"] == -32601
        assert batch[2]["error"]["code"] == -32600
        missing = chain.rpc_request("eth_getTransactionReceipt", ["0x" + "00" * 32])
        assert missing is None
        future = hex(chain.block_number() + 100)
        assert chain.rpc_request("eth_getBlockByNumber", [future, False]) is None
        with pytest.raises(RpcError, match="header not found"):
            chain.rpc_request("eth_getCode", [chain.registry_address, future])
        # Log ranges past the head end at the head, as on geth.
        logs = chain.rpc_request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": future}])
        assert len(logs) == len(chain.rpc_request("eth_getLogs", [{"fromBlock": "0x0"}])) > 0
        assert chain.rpc_request("eth_getLogs", [{"fromBlock": future}]) == []
        with pytest.raises(RpcError) as excinfo:
            chain.rpc_request("eth_call", [{"to": chain.registry_address, "data": "0xzz"}])
        assert excinfo.value.code == -32602


def test_eth_tester_estimate_misses_the_floor_but_our_limit_does_not(tmp_path: Path) -> None:
    """Documented gap: eth-tester's own estimate vs the gas actually charged."""
    with EmbeddedChain(tmp_path, durable=False) as chain:
        args = (os.urandom(32), [os.urandom(32) for _ in range(300)], [], [])
        data = chain.codec.encode_call("verifyMultiProof", *args)
        sender = dev_account(1).address
        tx = {"from": sender, "to": chain.registry_address, "data": "0x" + data.hex()}
        tester_estimate = chain.w3.eth.estimate_gas(tx)  # eth-tester's binary search
        result = chain.transact("verifyMultiProof", *args, sender=dev_account(1))
        assert tester_estimate < result.gas_used <= result.gas_limit


def test_block_number_is_eth_testers_latest_block(tmp_path: Path) -> None:
    """eth_blockNumber answers from the chain's head (eth-tester serialised the whole
    head block for it): the same number as eth-tester's own latest block, block by block."""
    with EmbeddedChain(tmp_path, durable=False) as chain:
        for epoch in (1, 2, 3):
            latest = chain._tester_request("eth_getBlockByNumber", ["latest", False])
            assert chain.block_number() == int(latest["result"]["number"])
            chain.anchor(os.urandom(32), epoch, 1)
        latest = chain._tester_request("eth_getBlockByNumber", ["latest", False])
        assert chain.block_number() == int(latest["result"]["number"]) >= 3


def test_call_answers_are_kept_per_block_and_follow_the_head(tmp_path: Path) -> None:
    """eth_call answers are cached by (block, call): "latest" moves with the head, an
    explicit block keeps its own state, a revert is never kept."""
    from vntrace.node.chain import embedded

    with EmbeddedChain(tmp_path, durable=False) as chain:
        root = os.urandom(32)
        before = chain.block_number()
        assert not chain.is_root_valid(root)
        assert not chain.is_root_valid(root)  # the same call at the same head: kept
        assert len(chain._calls) >= 1
        chain.anchor(root, 1, 1)
        assert chain.is_root_valid(root)  # the head moved: asked afresh
        # The same question at the earlier block still has the earlier answer.
        registry = chain.w3.eth.contract(address=chain.registry_address, abi=chain.artifact.abi)
        data = registry.functions.isRootValid(root)._encode_transaction_data()
        ask = {"to": chain.registry_address, "data": data}
        assert chain._request("eth_call", [ask, hex(before)]) == "0x" + "00" * 32
        assert int(chain._request("eth_call", [ask, "latest"]), 16) == 1
        # A revert (an unknown selector) raises every time and is not kept.
        bad = {"to": chain.registry_address, "data": "0xdeadbeef"}
        kept = len(chain._calls)
        for _ in range(2):
            with pytest.raises(RpcError):
                chain._request("eth_call", [bad, "latest"])
        assert len(chain._calls) == kept
        # Bounded: the oldest answers go first.
        saved = embedded.CALL_CACHE_SIZE
        embedded.CALL_CACHE_SIZE = 2
        try:
            for _ in range(3):
                chain.is_root_valid(os.urandom(32))
            assert len(chain._calls) == 2
        finally:
            embedded.CALL_CACHE_SIZE = saved
