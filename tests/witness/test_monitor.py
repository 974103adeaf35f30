"""A witness with ``--node`` and ``--rpc`` cosigns only leaves the chain agrees with.

The node and its ``/rpc`` are a real gateway (embedded chain); a lying log is the same
node's key signing a checkpoint whose new leaf names a transaction the chain never saw,
served by a stand-in for the node's leaf endpoint.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Gateway, open_gateway
from tests.api.helpers import new_lot
from vntrace.node.tlog.leaf import EpochLeaf
from vntrace.node.tlog.merkle import consistency_proof, inclusion_proof, leaf_hash, root_of
from vntrace.node.tlog.note import Checkpoint, Note, b64
from vntrace.node.witness.core import Witness, load_or_create_key
from vntrace.node.witness.errors import ProtocolError
from vntrace.node.witness.monitor import ChainMonitor
from vntrace.node.witness.state import WitnessState


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(tmp_path_factory.mktemp("monitored"))


def _anchor(gw: Gateway, epochs: int) -> None:
    producer = gw.producer()
    for _ in range(epochs):
        gw.lot_with_events(producer, new_lot(), 2)
        assert gw.node.anchor_now() == 1


def _witness(tmp_path: Path, gw: Gateway, node_http: httpx.Client | None = None) -> Witness:
    monitor = ChainMonitor(
        "http://testserver", "http://testserver/rpc", node_http=node_http or gw.client,
        rpc_http=gw.client,
    )  # fmt: skip
    signer = load_or_create_key(tmp_path / "w", "witness.test/monitor")
    return Witness(signer, WitnessState(tmp_path / "w"), [gw.node.log.verifier], monitor=monitor)


def _lying_node(hashes: list[bytes], data: bytes, size: int) -> httpx.Client:
    """Serves the forged leaf (the last) with its inclusion proof in the forged tree."""

    def handler(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params["epoch"]) - 1
        proof = inclusion_proof(hashes, index, size)
        leaf = b64(data) if index == size - 1 else ""
        body = {"leaf": leaf, "inclusionProof": [b64(h) for h in proof]}
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_cosigns_what_the_chain_confirms_and_refuses_a_leaf_it_does_not(
    gw: Gateway, tmp_path: Path
) -> None:
    _anchor(gw, 2)
    log = gw.node.log
    log.sync()
    witness = _witness(tmp_path, gw)
    line = witness.add_checkpoint(f"old 0\n\n{log.checkpoint_note()}".encode())
    assert line.startswith("\u2014 witness.test/monitor ")
    size = log.size()

    # The log's key signs one more leaf: a real-looking epoch whose transaction the
    # chain never mined.
    last = EpochLeaf.decode(__import__("base64").b64decode(log.inclusion(size)["leaf"]))
    fake = dataclasses.replace(last, epoch=size + 1, tx_hash=os.urandom(32))
    data = fake.encode()
    hashes = [*log._leaf_hashes(), leaf_hash(data)]
    text = Checkpoint(log.origin, size + 1, root_of(hashes)).text
    note = str(Note(text, (log.signer.sign(text),)))
    proof = "".join(b64(h) + "\n" for h in consistency_proof(hashes, size, size + 1))
    lying = _witness(tmp_path, gw, node_http=_lying_node(hashes, data, size + 1))
    with pytest.raises(ProtocolError) as refused:
        lying.add_checkpoint(f"old {size}\n{proof}\n{note}".encode())
    assert refused.value.status == 422 and "no transaction" in refused.value.detail
    (evidence,) = [e for e in lying.state.evidence() if e.kind == "chain_mismatch"]
    assert evidence.submitted.startswith(text)
    # Nothing was cosigned: the honest extension still gets a cosignature.
    _anchor(gw, 1)
    log.sync()
    honest = "".join(b64(h) + "\n" for h in log.consistency(size, log.size()))
    assert witness.add_checkpoint(f"old {size}\n{honest}\n{log.checkpoint_note()}".encode())


def test_an_unreachable_node_is_503_and_changes_nothing(gw: Gateway, tmp_path: Path) -> None:
    _anchor(gw, 1)
    log = gw.node.log
    log.sync()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    witness = _witness(tmp_path, gw, node_http=httpx.Client(transport=httpx.MockTransport(down)))
    with pytest.raises(ProtocolError) as refused:
        witness.add_checkpoint(f"old 0\n\n{log.checkpoint_note()}".encode())
    assert refused.value.status == 503
    assert witness.state.all_latest() == {} and witness.state.evidence() == []
    # the same checkpoint once the node is back
    back = _witness(tmp_path, gw)
    assert back.add_checkpoint(f"old 0\n\n{log.checkpoint_note()}".encode())
    assert back.state.all_latest()[log.origin].size == log.size()
