"""The node keeps its witnessed log: every anchored epoch becomes a leaf under a signed
checkpoint, and bundles and provenance carry the log section that proves it."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from vntrace.node.service import TraceNode
from vntrace.node.tlog.errors import TlogError
from vntrace.node.tlog.verify import verify_log_section

from .conftest import Signer


def test_anchoring_extends_the_log_and_bundles_prove_it(
    node: TraceNode, coop: LocalAccount, sign: Signer
) -> None:
    gtin = node.profile.gtins[0]
    before = node.log.size()
    node.producers.register_lot(node.producers.producer(coop.address), gtin, "LOG-1")
    acks = node.submit(node.producer(coop.address), gtin, "LOG-1", sign(coop, "LOG-1"))
    assert node.anchor_now() >= 1
    # the anchoring listener folded the new epoch in and signed a checkpoint
    assert node.log.size() > before
    bundle = node.bundle(acks[0].record_id)
    section = bundle["log"]
    verdict = verify_log_section(section, log_key=node.log.vkey, bundle=bundle)
    assert verdict.leaf.epoch == bundle["epoch"] and verdict.cosigners == ()
    assert verdict.checkpoint.size == node.log.size()

    prov = node.provenance(gtin, "LOG-1")
    (mp,) = prov["multiproofs"]
    assert mp["log"]["leafIndex"] == mp["epoch"] - 1
    verify_log_section(mp["log"], log_key=node.log.vkey)

    # a bundle whose anchor claims another block than the log's leaf is caught
    forged = {**bundle, "anchor": {**bundle["anchor"], "blockNumber": 10**9}}
    with pytest.raises(TlogError, match=r"anchor\.blockNumber"):
        verify_log_section(section, log_key=node.log.vkey, bundle=forged)


def test_pending_records_have_no_log_section(
    node: TraceNode, coop: LocalAccount, sign: Signer
) -> None:
    gtin = node.profile.gtins[0]
    node.producers.register_lot(node.producers.producer(coop.address), gtin, "LOG-2")
    acks = node.submit(node.producer(coop.address), gtin, "LOG-2", sign(coop, "LOG-2")[:1])
    assert "log" not in node.bundle(acks[0].record_id)
