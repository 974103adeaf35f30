"""Unit tests of the backend-independent parts: gas rule, retries, codec, keys, types."""

from __future__ import annotations

import json
import os
import pickle
import random
import stat
from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from vntrace.contracts import load_artifact
from vntrace.node.chain import (
    ChainUnavailableError,
    ConfigurationError,
    ContractRevertError,
    GasPolicy,
    RetryPolicy,
    RpcError,
    TransientChainError,
    calldata_floor,
    calldata_tokens,
    load_account,
    open_backend,
    save_keystore,
)
from vntrace.node.chain.abi import RegistryCodec
from vntrace.node.chain.base import revert_data_of


@pytest.fixture(scope="module")
def codec() -> RegistryCodec:
    return RegistryCodec(load_artifact().abi)


def test_calldata_floor_rule() -> None:
    assert calldata_tokens(b"") == 0
    assert calldata_tokens(b"\x00\x01\x00\xff") == 2 + 8
    assert calldata_floor(b"\x00\x01\x00\xff") == 21_000 + 100
    data = os.urandom(64)
    assert calldata_floor(data, create=True) == 21_000 + 10 * calldata_tokens(data) + 32_000 + 4
    policy = GasPolicy()
    assert policy.limit(50_000, b"\x01" * 10) == 70_000  # padded estimate wins
    heavy = b"\x01" * 20_000
    assert policy.limit(341_000, heavy) == 821_000  # the floor wins
    assert GasPolicy(multiplier=1.0, margin=0).limit(100_000, b"") == 100_000


def test_retry_policy_backs_off_with_jitter_and_gives_up() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(
        attempts=5, base_delay=1.0, max_delay=4.0, sleep=sleeps.append, rng=random.Random(7)
    )
    calls = 0

    def down() -> None:
        nonlocal calls
        calls += 1
        raise TransientChainError("connection refused")

    with pytest.raises(ChainUnavailableError, match="after 5 attempts") as excinfo:
        policy.call(down)
    assert calls == 5
    assert isinstance(excinfo.value.__cause__, TransientChainError)
    caps = [1.0, 2.0, 4.0, 4.0]
    assert len(sleeps) == 4
    assert all(cap / 2 <= s <= cap for s, cap in zip(sleeps, caps, strict=True))

    attempts = iter([TransientChainError("x"), TransientChainError("y"), "ok"])

    def flaky() -> str:
        item = next(attempts)
        if isinstance(item, Exception):
            raise item
        return item

    assert RetryPolicy(attempts=3, sleep=lambda _: None).call(flaky) == "ok"
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


def test_codec_decodes_custom_and_builtin_errors(codec: RegistryCodec) -> None:
    who = Account.create().address
    sel = keccak(text="VntraceUnexpectedEpoch(address,uint64,uint64)")[:4]
    err = codec.decode_revert(sel + encode(["address", "uint64", "uint64"], [who, 4, 9]))
    assert (err.error_name, err.args) == ("VntraceUnexpectedEpoch", (who, 4, 9))
    assert err.named_args == {"anchorer": who, "expected": 4, "given": 9}
    assert str(err) == f"VntraceUnexpectedEpoch({who}, 4, 9)"

    message = keccak(text="Error(string)")[:4] + encode(["string"], ["nope"])
    assert codec.decode_revert(message).error_name == "Error"
    assert codec.decode_revert(message).args == ("nope",)
    panic = codec.decode_revert(keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x32]))
    assert (panic.error_name, panic.args) == ("Panic", (0x32,))
    empty = codec.decode_revert(b"")
    assert empty.error_name is None and str(empty) == "empty revert"
    unknown = codec.decode_revert(b"\xde\xad\xbe\xef")
    assert unknown.error_name is None and "0xdeadbeef" in str(unknown)
    truncated = codec.decode_revert(sel + b"\x00" * 5)
    assert truncated.error_name is None

    clone = pickle.loads(pickle.dumps(err))
    assert (clone.error_name, clone.args, clone.named_args) == (
        err.error_name,
        err.args,
        err.named_args,
    )
    assert isinstance(clone, ContractRevertError)


def test_revert_data_shapes_from_different_nodes() -> None:
    assert revert_data_of(RpcError(3, "execution reverted", "0x1234")) == b"\x12\x34"
    assert revert_data_of(RpcError(-32000, "x", {"data": "0xab"})) == b"\xab"
    assert revert_data_of(RpcError(-32015, "VM error", "Reverted 0xcafe")) == b"\xca\xfe"
    assert revert_data_of(RpcError(-32000, "execution reverted")) == b""
    assert revert_data_of(RpcError(-32000, "nonce too low")) is None
    assert revert_data_of(RpcError(-32601, "method not found")) is None


def test_codec_decodes_logs(codec: RegistryCodec) -> None:
    root, who = os.urandom(32), Account.create().address
    topics = [
        codec.event_topic("RootAnchored"),
        root,
        encode(["address"], [who]),
        encode(["uint64"], [3]),
    ]
    event = codec.decode_log(
        topics, encode(["uint32"], [12]), block_number=5, tx_hash=b"h" * 32, log_index=2
    )
    assert event is not None
    assert event.name == "RootAnchored" and event.position == (5, 2)
    assert event.args == {"root": root, "anchorer": who, "epoch": 3, "recordCount": 12}
    assert (
        codec.decode_log([keccak(b"other")], b"", block_number=1, tx_hash=b"", log_index=0) is None
    )
    with pytest.raises(ValueError, match="no function"):
        codec.encode_call("selfDestruct")


def test_load_account_from_env_and_keystore(tmp_path: Path) -> None:
    account = Account.create()
    env = {"VNTRACE_KEY": account.key.hex()}
    assert load_account(env_var="VNTRACE_KEY", environ=env).address == account.address
    with pytest.raises(ConfigurationError) as excinfo:
        load_account(env_var="VNTRACE_KEY", environ={"VNTRACE_KEY": "0x1234-secret"})
    assert "secret" not in str(excinfo.value) and excinfo.value.__cause__ is None

    path = save_keystore(account, tmp_path / "operator.json", "pw", iterations=2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert account.key.hex()[2:] not in path.read_text()
    loaded = load_account(
        env_var="VNTRACE_KEY", keystore_path=path, password_env="PW", environ={"PW": "pw"}
    )
    assert loaded.address == account.address
    with pytest.raises(ConfigurationError, match="wrong password"):
        load_account(keystore_path=path, password="bad")
    with pytest.raises(ConfigurationError, match="no password"):
        load_account(keystore_path=path, environ={})
    with pytest.raises(ConfigurationError, match="no signing key"):
        load_account(env_var="VNTRACE_KEY", environ={})
    with pytest.raises(FileExistsError):
        save_keystore(account, path, "pw", iterations=2)
    assert json.loads(path.read_text())["address"].lower() == account.address[2:].lower()


def test_open_backend_validates_its_arguments() -> None:
    with pytest.raises(ConfigurationError, match="data_dir"):
        open_backend("embedded")
    with pytest.raises(ConfigurationError, match="url and account"):
        open_backend("rpc", url="http://127.0.0.1:1")
    with pytest.raises(ConfigurationError, match="unknown chain backend"):
        open_backend("ganache")  # type: ignore[arg-type]
