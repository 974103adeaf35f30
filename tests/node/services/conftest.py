"""A real node (embedded chain, SQLite) whose parts the service tests build on.

Each test module builds the service it tests from the node's shared parts
(:class:`NodeContext`), so a service is checked on its own, not through the facade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.records import prepare_record
from vntrace.node.service import TraceNode
from vntrace.node.services import NodeContext, Submission

NOW = datetime.now(UTC)
Signer = Callable[..., list[Submission]]


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceNode]:
    data = tmp_path_factory.mktemp("services-node")
    with TraceNode.open(Settings(data_dir=data, epoch_seconds=0.05, _env_file=None)) as n:
        yield n


@pytest.fixture(scope="package")
def ctx(node: TraceNode) -> NodeContext:
    return node.context


@pytest.fixture(scope="package")
def coop(node: TraceNode) -> LocalAccount:
    acct = Account.create()
    node.producers.register_producer(acct.address, "HTX Ea Tu")
    return acct


@pytest.fixture(scope="package")
def sign(node: TraceNode) -> Signer:
    """Signed submissions of ``events`` (default: a demo season) for ``lot``."""

    def _sign(acct: LocalAccount, lot: str, events: list[dict] | None = None) -> list[Submission]:
        gtin = node.profile.gtins[0]
        out = []
        for event in season_events(NOW) if events is None else events:
            rec = prepare_record(node.profile, gtin, lot, event).sign(
                acct, node.chain.chain_id, node.chain.registry_address
            )
            out.append(Submission(rec.event, rec.salt, rec.signature, rec.disclosures))
        return out

    return _sign
