"""The shared suite: every test runs on the embedded chain and on anvil."""

from __future__ import annotations

import json
import os
import threading

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from tests.support.oz_tree import OzTree, leaf_hash, process_multiproof, process_proof
from vntrace.node.chain import (
    ANCHORER_ROLE,
    DEFAULT_ADMIN_ROLE,
    AnchorInfo,
    ChainBackend,
    ContractRevertError,
    SignedTx,
    TransactionFailedError,
    calldata_floor,
)


def rand32() -> bytes:
    return os.urandom(32)


def revert_of(excinfo: pytest.ExceptionInfo[ContractRevertError]) -> tuple[str | None, tuple]:
    return excinfo.value.error_name, excinfo.value.args


def test_identity_and_roles_after_deploy(backend: ChainBackend) -> None:
    assert backend.chain_id > 0
    assert backend.get_code(backend.registry_address)
    assert backend.block_number() >= 2  # deployment + anchorer registration
    assert backend.has_role(DEFAULT_ADMIN_ROLE, backend.admin_account.address)
    assert backend.is_anchorer(backend.operator_address)
    assert backend.call("ANCHORER_ROLE") == (ANCHORER_ROLE,)
    assert backend.last_epoch() == 0


def test_non_admin_cannot_register(backend: ChainBackend, strangers: list[LocalAccount]) -> None:
    intruder = strangers[0]
    with pytest.raises(ContractRevertError) as excinfo:
        backend.register_producer(intruder.address, "ipfs://x", sender=intruder)
    assert revert_of(excinfo) == (
        "AccessControlUnauthorizedAccount",
        (intruder.address, DEFAULT_ADMIN_ROLE),
    )
    assert excinfo.value.named_args == {
        "account": intruder.address,
        "neededRole": DEFAULT_ADMIN_ROLE,
    }
    # The operator is no admin either.
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        backend.register_anchorer(intruder.address, "", sender=backend.account)


def test_unauthorised_anchor(backend: ChainBackend, strangers: list[LocalAccount]) -> None:
    intruder = strangers[0]
    with pytest.raises(ContractRevertError) as excinfo:
        backend.anchor(rand32(), 1, 1, sender=intruder)
    assert revert_of(excinfo) == (
        "AccessControlUnauthorizedAccount",
        (intruder.address, ANCHORER_ROLE),
    )
    # Once the admin registers it, it anchors its own epoch sequence.
    backend.register_anchorer(intruder.address, '{"name": "second node"}')
    assert backend.anchorer_metadata(intruder.address) == '{"name": "second node"}'
    backend.anchor(rand32(), 1, 1, sender=intruder)
    assert backend.last_epoch(intruder.address) == 1
    assert backend.last_epoch() == 0


def test_sequential_epochs(backend: ChainBackend) -> None:
    root = rand32()
    result = backend.anchor(root, 1, 7)
    assert result.succeeded and result.gas_used > 21_000
    assert result.gas_used <= result.gas_limit
    assert result.block_number == backend.block_number()
    (event,) = result.events
    assert event.name == "RootAnchored"
    assert event.args == {
        "root": root,
        "anchorer": backend.operator_address,
        "epoch": 1,
        "recordCount": 7,
    }
    assert backend.last_epoch() == 1
    assert backend.get_anchor(root) == AnchorInfo(
        root, backend.operator_address, 1, 7, result.block_timestamp, False
    )
    assert backend.is_root_valid(root)
    assert backend.get_anchor(rand32()) is None

    with pytest.raises(ContractRevertError) as excinfo:
        backend.anchor(rand32(), 3, 1)
    assert revert_of(excinfo) == ("VntraceUnexpectedEpoch", (backend.operator_address, 2, 3))
    assert excinfo.value.named_args["expected"] == 2
    with pytest.raises(ContractRevertError, match="VntraceUnexpectedEpoch"):
        backend.anchor(rand32(), 1, 1)
    backend.anchor(rand32(), 2, 1)
    assert backend.last_epoch() == 2


def test_duplicate_zero_and_empty(backend: ChainBackend) -> None:
    root = rand32()
    backend.anchor(root, 1, 1)
    with pytest.raises(ContractRevertError) as excinfo:
        backend.anchor(root, 2, 1)
    assert revert_of(excinfo) == ("VntraceRootAlreadyAnchored", (root,))
    with pytest.raises(ContractRevertError, match=r"^VntraceZeroRoot\(\)$"):
        backend.anchor(b"\x00" * 32, 2, 1)
    with pytest.raises(ContractRevertError, match="VntraceEmptyEpoch"):
        backend.anchor(rand32(), 2, 0)
    assert backend.last_epoch() == 1


def test_revoke_root(backend: ChainBackend, strangers: list[LocalAccount]) -> None:
    root = rand32()
    backend.anchor(root, 1, 3)
    with pytest.raises(ContractRevertError) as excinfo:
        backend.revoke_root(root, "mine", sender=strangers[0])
    assert revert_of(excinfo) == ("VntraceNotAuthorized", (strangers[0].address,))
    result = backend.revoke_root(root, "wrong batch")
    assert [(e.name, dict(e.args)) for e in result.events] == [
        (
            "RootRevoked",
            {"root": root, "revokedBy": backend.operator_address, "reason": "wrong batch"},
        )
    ]
    anchor = backend.get_anchor(root)
    assert anchor is not None and anchor.revoked and not anchor.valid
    assert not backend.is_root_valid(root)
    with pytest.raises(ContractRevertError, match="VntraceRootAlreadyRevoked"):
        backend.revoke_root(root, "again", sender=backend.admin_account)
    unknown = rand32()
    with pytest.raises(ContractRevertError) as excinfo:
        backend.revoke_root(unknown, "?")
    assert revert_of(excinfo) == ("VntraceUnknownRoot", (unknown,))


def test_recall_lot(backend: ChainBackend, strangers: list[LocalAccount]) -> None:
    lot = rand32()
    assert backend.get_recall(lot) is None and not backend.is_recalled(lot)
    with pytest.raises(ContractRevertError, match="VntraceNotAuthorized"):
        backend.recall_lot(lot, "x", sender=strangers[0])
    result = backend.recall_lot(lot, "salmonella")
    recall = backend.get_recall(lot)
    assert recall is not None
    assert (recall.lot_key, recall.recalled_by, recall.reason) == (
        lot,
        backend.operator_address,
        "salmonella",
    )
    assert recall.timestamp == result.block_timestamp
    assert backend.is_recalled(lot)
    with pytest.raises(ContractRevertError) as excinfo:
        backend.recall_lot(lot, "again", sender=backend.admin_account)
    assert revert_of(excinfo) == ("VntraceLotAlreadyRecalled", (lot,))
    with pytest.raises(ContractRevertError, match="VntraceZeroLotKey"):
        backend.recall_lot(b"\x00" * 32, "zero")


def test_producer_registry(backend: ChainBackend) -> None:
    producer = Account.create().address
    assert backend.get_producer(producer) is None
    result = backend.register_producer(producer, "https://coop.example/p/1")
    info = backend.get_producer(producer)
    assert info is not None
    assert (info.address, info.active, info.metadata_uri) == (
        producer,
        True,
        "https://coop.example/p/1",
    )
    assert info.registered_at == result.block_timestamp
    with pytest.raises(ContractRevertError) as excinfo:
        backend.register_producer(producer, "again")
    assert revert_of(excinfo) == ("VntraceProducerAlreadyRegistered", (producer,))
    backend.deactivate_producer(producer)
    assert not backend.is_active_producer(producer)
    with pytest.raises(ContractRevertError) as excinfo:
        backend.deactivate_producer(producer)
    assert revert_of(excinfo) == ("VntraceProducerAlreadyInState", (producer, False))
    backend.reactivate_producer(producer)
    assert backend.is_active_producer(producer)
    unknown = Account.create().address
    with pytest.raises(ContractRevertError, match="VntraceUnknownProducer"):
        backend.deactivate_producer(unknown)


def test_events_since_in_order(backend: ChainBackend) -> None:
    start = backend.block_number() + 1
    producer = Account.create().address
    root, lot = rand32(), rand32()
    results = [
        backend.register_producer(producer, "uri"),
        backend.deactivate_producer(producer),
        backend.reactivate_producer(producer),
        backend.anchor(root, 1, 4),
        backend.recall_lot(lot, "mould"),
        backend.revoke_root(root, "oops"),
        backend.set_anchorer_metadata("v2"),
    ]
    events = backend.events_since(start)
    assert [e.name for e in events] == [
        "ProducerRegistered",
        "ProducerDeactivated",
        "ProducerReactivated",
        "RootAnchored",
        "LotRecalled",
        "RootRevoked",
        "AnchorerMetadataUpdated",
    ]
    assert [e.tx_hash for e in events] == [r.tx_hash for r in results]
    assert [e.block_number for e in events] == [r.block_number for r in results]
    assert events[0].args == {"producer": producer, "metadataURI": "uri"}
    assert events[3].args["epoch"] == 1 and events[3].args["recordCount"] == 4
    assert events[4].args == {
        "lotKey": lot,
        "recalledBy": backend.operator_address,
        "reason": "mould",
    }
    # Bounded ranges, and the whole history (deployment's RoleGranted/AnchorerRegistered too).
    assert [e.name for e in backend.events_since(start, results[1].block_number)] == [
        "ProducerRegistered",
        "ProducerDeactivated",
    ]
    everything = backend.events_since(0)
    assert "AnchorerRegistered" in {e.name for e in everything}
    assert [e.position for e in everything] == sorted(e.position for e in everything)


def test_onchain_verification_agrees_with_python(backend: ChainBackend) -> None:
    lots = [rand32() for _ in range(3)]
    records = [(lots[i // 3], rand32()) for i in range(8)]  # grouped by lot, in order
    leaves = [leaf_hash(lot, digest) for lot, digest in records]
    tree = OzTree(leaves)
    assert backend.leaf_of(*records[0]) == leaves[0]

    # Not anchored yet: the contract refuses even a correct proof.
    assert process_proof(leaves[0], tree.proof(0)) == tree.root
    assert not backend.verify_proof(tree.root, leaves[0], tree.proof(0))
    backend.anchor(tree.root, 1, len(leaves))

    for i, leaf in enumerate(leaves):
        proof = tree.proof(i)
        assert process_proof(leaf, proof) == tree.root
        assert backend.verify_proof(tree.root, leaf, proof)
    forged = rand32()
    assert process_proof(forged, tree.proof(1)) != tree.root
    assert not backend.verify_proof(tree.root, forged, tree.proof(1))
    assert not backend.verify_proof(tree.root, leaves[2], tree.proof(3))

    for indices in ([0, 1, 2], [3, 4, 5], [6, 7], [0, 7], list(range(8)), [5]):
        m_leaves, m_proof, m_flags = tree.multiproof(indices)
        assert process_multiproof(m_leaves, m_proof, m_flags) == tree.root
        assert backend.verify_multiproof(tree.root, m_leaves, m_proof, m_flags)
        bad = [forged, *m_leaves[1:]]
        assert process_multiproof(bad, m_proof, m_flags) != tree.root
        assert not backend.verify_multiproof(tree.root, bad, m_proof, m_flags)

    # Malformed (lengths do not add up): OZ reverts; non-strict means "not proven".
    m_leaves, m_proof, m_flags = tree.multiproof([0, 1, 2])
    assert process_multiproof(m_leaves, [*m_proof, rand32()], m_flags) is None
    assert not backend.verify_multiproof(tree.root, m_leaves, [*m_proof, rand32()], m_flags)
    with pytest.raises(ContractRevertError, match="MerkleProofInvalidMultiproof"):
        backend.verify_multiproof(tree.root, m_leaves, [*m_proof, rand32()], m_flags, strict=True)

    backend.revoke_root(tree.root, "test")
    assert not backend.verify_proof(tree.root, leaves[0], tree.proof(0))


def test_node_merkle_interop(backend: ChainBackend) -> None:
    """The node's own Merkle engine produces proofs the registry accepts."""
    merkle = pytest.importorskip("vntrace.node.merkle")
    records = [(rand32(), rand32()) for _ in range(5)]
    tree = merkle.StandardMerkleTree.of(records, ["bytes32", "bytes32"], sort_leaves=False)
    root = bytes(tree.root) if isinstance(tree.root, bytes) else bytes.fromhex(tree.root[2:])
    assert root == OzTree([leaf_hash(*r) for r in records]).root
    backend.anchor(root, 1, len(records))
    proof = [p if isinstance(p, bytes) else bytes.fromhex(p[2:]) for p in tree.get_proof(3)]
    assert backend.verify_proof(root, leaf_hash(*records[3]), proof)


def test_two_step_build_store_send(backend: ChainBackend) -> None:
    root = rand32()
    signed = backend.build_anchor_tx(root, 1, 12)
    stored = json.dumps(signed.to_dict())  # what a crash-safe pipeline persists
    assert backend.get_anchor(root) is None  # built, not sent
    restored = SignedTx.from_dict(json.loads(stored))
    assert restored == signed
    assert backend.send_raw(restored) == signed.tx_hash
    assert backend.send_raw(restored) == signed.tx_hash  # re-sending is harmless
    result = backend.wait_for_receipt(signed.tx_hash)
    assert result is not None and result.succeeded
    assert result.tx_hash == signed.tx_hash and result.gas_limit == signed.gas_limit
    assert [e.name for e in result.events] == ["RootAnchored"]
    assert backend.last_epoch() == 1
    assert backend.wait_for_receipt(rand32(), timeout=0) is None
    # A doomed anchor fails at build time, before any nonce is used.
    with pytest.raises(ContractRevertError, match="VntraceUnexpectedEpoch"):
        backend.build_anchor_tx(rand32(), 5, 1)


def test_mined_failure_raises_transaction_failed(backend: ChainBackend) -> None:
    root = rand32()
    # Skip the pre-flight (explicit gas limit) so the revert happens on chain.
    with pytest.raises(TransactionFailedError) as excinfo:
        backend.transact("anchor", root, 9, 1, sender=backend.account, gas_limit=200_000)
    failed = excinfo.value
    assert failed.result.status == 0 and not failed.result.succeeded
    assert failed.revert is not None
    assert failed.revert.error_name == "VntraceUnexpectedEpoch"
    signed = backend.build_anchor_tx(rand32(), 7, 1, gas_limit=200_000)
    backend.send_raw(signed)
    result = backend.wait_for_receipt(signed.tx_hash)
    assert result is not None and result.status == 0
    # The nonce bookkeeping survives failures: a good anchor still goes through.
    backend.anchor(root, 1, 1)


def test_calldata_heavy_call_gets_the_floor(backend: ChainBackend) -> None:
    """EIP-7623: calldata costs at least 10 gas per token; the estimate ignores it."""
    leaves = [os.urandom(32) for _ in range(600)]  # ~19 kB of non-zero calldata
    args = (rand32(), leaves, [], [])
    data = backend.codec.encode_call("verifyMultiProof", *args)
    sender = backend.account.address
    estimate = backend.estimate_gas(data, backend.registry_address, sender)
    floor = calldata_floor(data)
    policy = backend.gas_policy
    limit = backend.gas_limit(data, backend.registry_address, sender)
    if backend.kind == "embedded":
        # py-evm's estimate ignores the floor; the rule's floor term decides.
        assert estimate * policy.multiplier + policy.margin < floor
        assert limit == floor
    else:
        assert estimate >= floor  # anvil's estimate includes it
        assert limit >= floor
    result = backend.transact("verifyMultiProof", *args, sender=backend.account)
    assert result.succeeded
    assert result.gas_limit == limit
    assert floor - 100 <= result.gas_used <= result.gas_limit


def test_long_metadata_string(backend: ChainBackend) -> None:
    metadata = json.dumps({"pubkey": "ed25519:" + "ab" * 32, "notes": "x" * 4000})
    backend.set_anchorer_metadata(metadata)
    assert backend.anchorer_metadata(backend.operator_address) == metadata


def test_concurrent_senders_never_reuse_nonces(backend: ChainBackend) -> None:
    producers = [Account.create().address for _ in range(6)]
    errors: list[BaseException] = []

    def register(address: str) -> None:
        try:
            backend.register_producer(address, "uri")
        except BaseException as exc:  # collected and re-raised by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(p,)) for p in producers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(backend.is_active_producer(p) for p in producers)
