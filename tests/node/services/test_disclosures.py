"""DisclosureService: opened values must open their commitments; sealed at rest."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from vntrace.node.errors import UnavailableError
from vntrace.node.service import TraceNode
from vntrace.node.services import DisclosureService, NodeContext
from vntrace.node.vault import Vault

from .conftest import Signer


@pytest.fixture(scope="module")
def private_record(node: TraceNode, coop: LocalAccount, sign: Signer) -> tuple[str, dict]:
    subs = [s for s in sign(coop, "LOT-PRIV-1") if s.disclosures]
    assert subs, "the demo season has a confidential field (the shipping price)"
    producer = node.producers.producer(coop.address)
    ack = node.intake.submit(producer, node.profile.gtins[0], "LOT-PRIV-1", subs[:1])[0]
    return ack.record_id, subs[0].disclosures or {}


def test_open_returns_what_was_sealed(
    node: TraceNode, ctx: NodeContext, private_record: tuple[str, dict]
) -> None:
    record_id, opened = private_record
    service = DisclosureService(ctx)
    row = node.proofs.record(record_id)
    assert service.open(row) == opened
    sealed = ctx.store.get_sealed_disclosures(row.leaf)
    assert sealed is not None
    for field in opened.values():
        assert str(field["value"]).encode() not in sealed[1]


def test_values_that_do_not_open_the_commitment_are_refused(
    node: TraceNode, ctx: NodeContext, private_record: tuple[str, dict]
) -> None:
    record_id, opened = private_record
    event = node.proofs.bundle(record_id)["event"]
    path = next(iter(opened))
    wrong = {path: {"value": "a different price", "salt": opened[path]["salt"]}}
    sealed, problems = DisclosureService(ctx).seal(b"\x01" * 32, event, wrong)
    assert sealed is None
    assert problems == [
        {
            "field": f"disclosures.{path}",
            "message": "value and salt do not open the event's commitment",
            "code": "disclosure_mismatch",
        }
    ]
    _, problems = DisclosureService(ctx).seal(b"\x01" * 32, event, ["not", "a", "dict"])  # type: ignore[arg-type]
    assert problems[0]["message"] == "must be an object"
    assert DisclosureService(ctx).seal(b"\x01" * 32, event, None) == (None, [])


def test_a_vault_without_the_key_says_unavailable(
    node: TraceNode, ctx: NodeContext, private_record: tuple[str, dict]
) -> None:
    record_id, _ = private_record
    other = Vault.from_spec("k9:" + "11" * 32)
    foreign = type(ctx)(ctx.settings, ctx.store, ctx.chain, ctx.profile, ctx.identity, other)
    with pytest.raises(UnavailableError, match="cannot be opened"):
        DisclosureService(foreign).open(node.proofs.record(record_id))
