"""Fixtures: the shared ``backend`` fixture runs every suite test on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from tests.support.anvil import ANVIL_KEYS, Anvil, require_anvil, running_anvil
from vntrace.node.chain import ChainBackend, RetryPolicy

#: Retries fast enough for tests (production defaults back off for seconds).
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def dev_account(n: int) -> LocalAccount:
    """eth-tester's n-th funded dev account (keys 1..10)."""
    return Account.from_key(n.to_bytes(32, "big"))


@pytest.fixture(scope="session")
def anvil_server() -> Iterator[Anvil]:
    require_anvil()
    with running_anvil() as anvil:
        yield anvil


def open_rpc(url: str, **options: object) -> ChainBackend:
    from vntrace.node.chain import RpcChain

    return RpcChain(
        url,
        Account.from_key(ANVIL_KEYS[1]),
        admin=Account.from_key(ANVIL_KEYS[0]),
        poll_interval=0.01,
        receipt_timeout=10.0,
        retry=FAST_RETRY,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["embedded", "hosted", pytest.param("anvil", marks=pytest.mark.anvil)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChainBackend]:
    """A fresh registry on each backend (anvil: one process per session, a new
    registry per test; hosted: an embedded chain served by its ChainHost, as a worker
    of ``vntrace serve --workers`` reaches it)."""
    if request.param == "embedded":
        from vntrace.node.chain import EmbeddedChain

        chain: ChainBackend = EmbeddedChain(tmp_path / "node", durable=False)
    elif request.param == "hosted":
        from vntrace.node.chain import EmbeddedChain
        from vntrace.node.chain.host import ChainHost
        from vntrace.node.chain.hosted import HostedChain

        holder = EmbeddedChain(tmp_path / "node", durable=False)
        host = ChainHost(holder, tmp_path / "node").start()
        request.addfinalizer(holder.close)
        request.addfinalizer(host.stop)
        chain = HostedChain(tmp_path / "node", host.url)
    else:
        anvil: Anvil = request.getfixturevalue("anvil_server")
        chain = open_rpc(anvil.url)
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture
def strangers(backend: ChainBackend) -> list[LocalAccount]:
    """Funded accounts holding no registry role."""
    if backend.kind == "embedded":
        return [dev_account(n) for n in (2, 3, 4)]
    return [Account.from_key(k) for k in ANVIL_KEYS[2:5]]
