"""RPC-backend specifics on anvil: confirmations, outages and recovery."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from eth_account import Account

from tests.support.anvil import ANVIL_CHAIN_ID, ANVIL_KEYS, Anvil, require_anvil, rpc
from vntrace.node.chain import (
    ChainUnavailableError,
    ConfigurationError,
    RetryPolicy,
    RpcChain,
    open_backend,
)

from .conftest import open_rpc

pytestmark = pytest.mark.anvil


def test_waits_for_confirmations(anvil_server: Anvil) -> None:
    with open_rpc(anvil_server.url) as chain:
        chain.confirmations = 3  # after set-up: anvil mines only when it gets a transaction
        signed = chain.build_anchor_tx(os.urandom(32), 1, 1)
        chain.send_raw(signed)
        assert chain.wait_for_receipt(signed.tx_hash, timeout=0.2) is None  # mined, 1 deep
        assert chain.wait_for_receipt(signed.tx_hash, confirmations=1, timeout=0) is not None
        rpc(anvil_server.url, "anvil_mine", ["0x2"])
        result = chain.wait_for_receipt(signed.tx_hash, timeout=5)
        assert result is not None and chain.block_number() - result.block_number + 1 == 3


def test_existing_registry_is_reused_and_checked(anvil_server: Anvil) -> None:
    with open_rpc(anvil_server.url) as first:
        first.anchor(os.urandom(32), 1, 1)
        address = first.registry_address
    operator = Account.from_key(ANVIL_KEYS[1])
    with open_backend(
        "rpc",
        url=anvil_server.url,
        account=operator,
        registry_address=address,
        expected_chain_id=ANVIL_CHAIN_ID,
    ) as again:
        assert again.last_epoch() == 1
    with pytest.raises(ConfigurationError, match="no contract code"):
        RpcChain(anvil_server.url, operator, Account.create().address)
    with pytest.raises(ConfigurationError, match="expected 1"):
        RpcChain(anvil_server.url, operator, address, expected_chain_id=1)


def test_outage_is_bounded_and_recovery_is_transparent(tmp_path: Path) -> None:
    require_anvil()
    state = tmp_path / "anvil-state.json"
    anvil = Anvil(state=state).start()
    sleeps: list[float] = []
    try:
        chain = open_rpc(anvil.url)
        chain.retry = RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.1, sleep=_record(sleeps))
        root = os.urandom(32)
        chain.anchor(root, 1, 1)
        anvil.stop()  # clean stop: anvil writes its state file

        started = time.monotonic()
        with pytest.raises(ChainUnavailableError, match="after 4 attempts"):
            chain.last_epoch()
        assert time.monotonic() - started < 5
        assert len(sleeps) == 3
        # Equal jitter: try n sleeps in [d/2, d], d = 0.02 * 2**(n-1): it backs off.
        assert 0.01 <= sleeps[0] <= 0.02 <= sleeps[1] <= 0.04 <= sleeps[2] <= 0.08
        with pytest.raises(ChainUnavailableError):
            chain.anchor(os.urandom(32), 2, 1)

        anvil = Anvil(port=anvil.port, state=state).start()  # same port, same state
        assert chain.last_epoch() == 1
        assert chain.is_root_valid(root)
        chain.anchor(os.urandom(32), 2, 1)
        assert chain.last_epoch() == 2
        chain.close()
    finally:
        anvil.stop()


def _record(sink: list[float]):  # type: ignore[no-untyped-def]
    def sleep(delay: float) -> None:
        sink.append(delay)
        time.sleep(delay)

    return sleep


def test_anvil_helper_leaves_no_process_behind() -> None:
    require_anvil()
    with Anvil() as anvil:
        assert anvil.proc is not None
        pid = anvil.proc.pid
        assert rpc(anvil.url, "eth_chainId") == hex(ANVIL_CHAIN_ID)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
