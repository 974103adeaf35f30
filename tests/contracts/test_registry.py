"""Behaviour of VntraceRegistry on the embedded EVM.

A direct harness (web3 + EthereumTesterProvider), not the node's chain backend: it tests the
contract itself. Every transaction gets an explicit gas limit because eth-tester's estimate
ignores the Prague calldata floor (EIP-7623). Reverts are observed through ``eth_call`` (with an
explicit gas limit eth-tester mines a failing transaction instead of raising) and named by their
selector from the ABI.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import eth_abi
import pytest
import sha3
from eth_tester.exceptions import TransactionFailed
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from tests.support.oz_tree import OzTree, hash_pair, leaf_hash
from vntrace.contracts import load_artifact

GAS = 3_000_000
ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
ADMIN_ROLE = ZERO32
ANCHORER_ROLE = sha3.keccak_256(b"ANCHORER_ROLE").digest()


def keccak(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


def rand32() -> bytes:
    return os.urandom(32)


# ---------------------------------------------------------------------------- harness


@dataclass
class Env:
    w3: Web3
    reg: Any
    admin: str
    op: str  # registered anchorer
    op2: str  # second registered anchorer
    other: str  # no role
    producer: str


ERRORS: dict[bytes, tuple[str, list[str]]] = {}
for _item in load_artifact().abi:
    if _item["type"] == "error":
        _types = [i["type"] for i in _item["inputs"]]
        _sig = f"{_item['name']}({','.join(_types)})"
        ERRORS[keccak(_sig.encode())[:4]] = (_item["name"], _types)


def revert_data(exc: Exception) -> bytes:
    """Raw revert data: web3 raises Panics itself, other reverts come from eth-tester as
    ``TransactionFailed("execution reverted: b'...'")``."""
    if isinstance(exc, ContractLogicError):
        assert isinstance(exc.data, str)
        return bytes.fromhex(exc.data.removeprefix("0x"))
    msg = exc.args[0]
    if isinstance(msg, bytes):
        return msg
    text = str(msg).removeprefix("execution reverted: ")
    value = ast.literal_eval(text)
    assert isinstance(value, bytes), msg
    return value


def decode_error(data: bytes) -> tuple[str, tuple[Any, ...]]:
    if data[:4] == keccak(b"Panic(uint256)")[:4]:
        return "Panic", tuple(eth_abi.decode(["uint256"], data[4:]))
    name, types = ERRORS[data[:4]]
    return name, tuple(eth_abi.decode(types, data[4:]))


def expect_revert(fn: Any, sender: str, name: str, *args: Any) -> None:
    with pytest.raises((TransactionFailed, ContractLogicError)) as info:
        fn.call({"from": sender, "gas": GAS})
    got_name, got_args = decode_error(revert_data(info.value))
    assert got_name == name
    norm = tuple(Web3.to_checksum_address(a) if _is_address(a) else a for a in got_args)
    want = tuple(Web3.to_checksum_address(a) if _is_address(a) else a for a in args)
    assert norm == want


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) == 42


def send(env: Env, fn: Any, sender: str) -> Any:
    receipt = env.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "gas": GAS}))
    assert receipt.status == 1
    return receipt


def events(env: Env, name: str, receipt: Any) -> list[dict[str, Any]]:
    return [
        dict(e.args)
        for e in getattr(env.reg.events, name)().process_receipt(receipt, errors=DISCARD)
    ]


@pytest.fixture(scope="module")
def deployed() -> Env:
    w3 = Web3(EthereumTesterProvider())
    admin, op, op2, other, producer = w3.eth.accounts[:5]
    art = load_artifact()
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    tx = factory.constructor(admin).transact({"from": admin, "gas": 6_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt.status == 1
    reg = w3.eth.contract(address=receipt.contractAddress, abi=art.abi)
    env = Env(w3, reg, admin, op, op2, other, producer)
    send(env, reg.functions.registerAnchorer(op, '{"ed25519":"op"}'), admin)
    send(env, reg.functions.registerAnchorer(op2, '{"ed25519":"op2"}'), admin)
    return env


@pytest.fixture
def env(deployed: Env) -> Iterator[Env]:
    tester = deployed.w3.provider.ethereum_tester
    snapshot = tester.take_snapshot()
    yield deployed
    tester.revert_to_snapshot(snapshot)


def anchor(env: Env, sender: str, root: bytes | None = None, count: int = 10) -> bytes:
    root = root or rand32()
    epoch = env.reg.functions.lastEpoch(sender).call() + 1
    send(env, env.reg.functions.anchor(root, epoch, count), sender)
    return root


# ---------------------------------------------------------------------------- deployment, roles


def test_deployment(env: Env) -> None:
    f = env.reg.functions
    assert f.version().call() == "1"
    assert f.ANCHORER_ROLE().call() == ANCHORER_ROLE
    assert f.DEFAULT_ADMIN_ROLE().call() == ADMIN_ROLE
    assert f.hasRole(ADMIN_ROLE, env.admin).call()
    assert not f.hasRole(ADMIN_ROLE, env.op).call()
    assert f.hasRole(ANCHORER_ROLE, env.op).call()
    assert f.supportsInterface(bytes.fromhex("7965db0b")).call()  # IAccessControl
    code = env.w3.eth.get_code(env.reg.address)
    assert bytes(code) == load_artifact().deployed_bytecode


def test_constructor_rejects_zero_admin(env: Env) -> None:
    art = load_artifact()
    factory = env.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    tx = factory.constructor(ZERO_ADDRESS).build_transaction({"from": env.admin, "gas": 6_000_000})
    with pytest.raises(TransactionFailed) as info:
        env.w3.eth.call({"from": env.admin, "data": tx["data"], "gas": 6_000_000})
    assert decode_error(revert_data(info.value)) == ("VntraceZeroAddress", ())


def test_only_admin_registers(env: Env) -> None:
    f = env.reg.functions
    for fn in (
        f.registerProducer(env.producer, "uri"),
        f.registerAnchorer(env.other, "{}"),
        f.deactivateProducer(env.producer),
        f.reactivateProducer(env.producer),
    ):
        for caller in (env.other, env.op):
            expect_revert(fn, caller, "AccessControlUnauthorizedAccount", caller, ADMIN_ROLE)


def test_only_anchorers_anchor(env: Env) -> None:
    f = env.reg.functions
    for caller in (env.other, env.admin):
        expect_revert(
            f.anchor(rand32(), 1, 1),
            caller,
            "AccessControlUnauthorizedAccount",
            caller,
            ANCHORER_ROLE,
        )
    expect_revert(
        f.setAnchorerMetadata("{}"),
        env.other,
        "AccessControlUnauthorizedAccount",
        env.other,
        ANCHORER_ROLE,
    )


def test_register_anchorer(env: Env) -> None:
    f = env.reg.functions
    expect_revert(f.registerAnchorer(ZERO_ADDRESS, "{}"), env.admin, "VntraceZeroAddress")
    receipt = send(env, f.registerAnchorer(env.other, '{"k":1}'), env.admin)
    assert events(env, "AnchorerRegistered", receipt) == [
        {"anchorer": env.other, "metadata": '{"k":1}'}
    ]
    assert len(events(env, "RoleGranted", receipt)) == 1
    assert f.hasRole(ANCHORER_ROLE, env.other).call()
    assert f.anchorerMetadata(env.other).call() == '{"k":1}'
    assert f.lastEpoch(env.other).call() == 0
    # Idempotent: registering again replaces the metadata, grants nothing new.
    receipt = send(env, f.registerAnchorer(env.other, '{"k":2}'), env.admin)
    assert events(env, "RoleGranted", receipt) == []
    assert f.anchorerMetadata(env.other).call() == '{"k":2}'


def test_set_anchorer_metadata(env: Env) -> None:
    f = env.reg.functions
    receipt = send(env, f.setAnchorerMetadata('{"ed25519":"new"}'), env.op)
    assert events(env, "AnchorerMetadataUpdated", receipt) == [
        {"anchorer": env.op, "metadata": '{"ed25519":"new"}'}
    ]
    assert f.anchorerMetadata(env.op).call() == '{"ed25519":"new"}'
    assert f.anchorerMetadata(env.op2).call() == '{"ed25519":"op2"}'
    assert f.anchorerMetadata(env.other).call() == ""


def test_role_granted_directly_can_anchor(env: Env) -> None:
    """grantRole (not registerAnchorer) also enrols the anchorer for one-slot anchors."""
    f = env.reg.functions
    send(env, f.grantRole(ANCHORER_ROLE, env.other), env.admin)
    root = anchor(env, env.other)
    assert f.getAnchor(root).call()[:2] == [env.other, 1]


def test_revoked_anchorer_stops_and_resumes_its_sequence(env: Env) -> None:
    f = env.reg.functions
    anchor(env, env.op)
    anchor(env, env.op)
    send(env, f.revokeRole(ANCHORER_ROLE, env.op), env.admin)
    expect_revert(
        f.anchor(rand32(), 3, 1), env.op, "AccessControlUnauthorizedAccount", env.op, ANCHORER_ROLE
    )
    send(env, f.registerAnchorer(env.op, "{}"), env.admin)
    expect_revert(f.anchor(rand32(), 1, 1), env.op, "VntraceUnexpectedEpoch", env.op, 3, 1)
    root = anchor(env, env.op)
    assert f.getAnchor(root).call()[:2] == [env.op, 3]


# ---------------------------------------------------------------------------- producers


def test_producer_lifecycle(env: Env) -> None:
    f = env.reg.functions
    p = env.producer
    assert f.getProducer(p).call() == [False, False, 0, ""]
    assert not f.isActiveProducer(p).call()
    expect_revert(f.registerProducer(ZERO_ADDRESS, "u"), env.admin, "VntraceZeroAddress")

    receipt = send(env, f.registerProducer(p, "https://example.org/p/1"), env.admin)
    assert events(env, "ProducerRegistered", receipt) == [
        {"producer": p, "metadataURI": "https://example.org/p/1"}
    ]
    block = env.w3.eth.get_block(receipt.blockNumber)
    assert f.getProducer(p).call() == [True, True, block.timestamp, "https://example.org/p/1"]
    assert f.isActiveProducer(p).call()
    expect_revert(f.registerProducer(p, "again"), env.admin, "VntraceProducerAlreadyRegistered", p)

    receipt = send(env, f.deactivateProducer(p), env.admin)
    assert events(env, "ProducerDeactivated", receipt) == [{"producer": p}]
    assert not f.isActiveProducer(p).call()
    assert f.getProducer(p).call()[:2] == [True, False]
    expect_revert(f.deactivateProducer(p), env.admin, "VntraceProducerAlreadyInState", p, False)

    receipt = send(env, f.reactivateProducer(p), env.admin)
    assert events(env, "ProducerReactivated", receipt) == [{"producer": p}]
    assert f.isActiveProducer(p).call()
    expect_revert(f.reactivateProducer(p), env.admin, "VntraceProducerAlreadyInState", p, True)

    q = env.other
    expect_revert(f.deactivateProducer(q), env.admin, "VntraceUnknownProducer", q)
    expect_revert(f.reactivateProducer(q), env.admin, "VntraceUnknownProducer", q)


# ---------------------------------------------------------------------------- anchoring


def test_anchor_records_and_emits(env: Env) -> None:
    f = env.reg.functions
    root = rand32()
    assert f.getAnchor(root).call() == [ZERO_ADDRESS, 0, 0, 0, False]
    assert not f.isRootValid(root).call()
    receipt = send(env, f.anchor(root, 1, 10_000), env.op)
    assert receipt.gasUsed <= 100_000  # design goal: <= 10 gas/record at 10k-record epochs
    assert events(env, "RootAnchored", receipt) == [
        {"root": root, "anchorer": env.op, "epoch": 1, "recordCount": 10_000}
    ]
    block = env.w3.eth.get_block(receipt.blockNumber)
    assert f.getAnchor(root).call() == [env.op, 1, 10_000, block.timestamp, False]
    assert f.isRootValid(root).call()
    assert f.lastEpoch(env.op).call() == 1


def test_epochs_are_sequential_per_anchorer_from_one(env: Env) -> None:
    f = env.reg.functions
    expect_revert(f.anchor(rand32(), 0, 1), env.op, "VntraceUnexpectedEpoch", env.op, 1, 0)
    expect_revert(f.anchor(rand32(), 2, 1), env.op, "VntraceUnexpectedEpoch", env.op, 1, 2)
    send(env, f.anchor(rand32(), 1, 1), env.op)
    expect_revert(f.anchor(rand32(), 1, 1), env.op, "VntraceUnexpectedEpoch", env.op, 2, 1)
    expect_revert(f.anchor(rand32(), 3, 1), env.op, "VntraceUnexpectedEpoch", env.op, 2, 3)
    send(env, f.anchor(rand32(), 2, 1), env.op)
    # Another anchorer has its own sequence.
    assert f.lastEpoch(env.op2).call() == 0
    send(env, f.anchor(rand32(), 1, 1), env.op2)
    assert (f.lastEpoch(env.op).call(), f.lastEpoch(env.op2).call()) == (2, 1)


def test_root_is_never_anchored_twice(env: Env) -> None:
    f = env.reg.functions
    root = anchor(env, env.op)
    expect_revert(f.anchor(root, 2, 5), env.op, "VntraceRootAlreadyAnchored", root)
    expect_revert(f.anchor(root, 1, 5), env.op2, "VntraceRootAlreadyAnchored", root)
    send(env, f.revokeRoot(root, "bad"), env.admin)
    expect_revert(f.anchor(root, 2, 5), env.op, "VntraceRootAlreadyAnchored", root)
    assert f.getAnchor(root).call()[:3] == [env.op, 1, 10]


def test_anchor_rejects_zero_root_and_empty_epoch(env: Env) -> None:
    f = env.reg.functions
    expect_revert(f.anchor(ZERO32, 1, 1), env.op, "VntraceZeroRoot")
    expect_revert(f.anchor(rand32(), 1, 0), env.op, "VntraceEmptyEpoch")
    assert f.lastEpoch(env.op).call() == 0


# ---------------------------------------------------------------------------- revocation


def test_anchorer_revokes_its_own_root(env: Env) -> None:
    f = env.reg.functions
    root = anchor(env, env.op)
    receipt = send(env, f.revokeRoot(root, "wrong batch"), env.op)
    assert events(env, "RootRevoked", receipt) == [
        {"root": root, "revokedBy": env.op, "reason": "wrong batch"}
    ]
    assert f.getAnchor(root).call()[4] is True
    assert not f.isRootValid(root).call()
    expect_revert(f.revokeRoot(root, "again"), env.op, "VntraceRootAlreadyRevoked", root)
    expect_revert(f.revokeRoot(root, "again"), env.admin, "VntraceRootAlreadyRevoked", root)


def test_admin_revokes_any_root(env: Env) -> None:
    f = env.reg.functions
    root = anchor(env, env.op)
    receipt = send(env, f.revokeRoot(root, "regulator"), env.admin)
    assert events(env, "RootRevoked", receipt)[0]["revokedBy"] == env.admin
    assert not f.isRootValid(root).call()


def test_others_cannot_revoke(env: Env) -> None:
    f = env.reg.functions
    root = anchor(env, env.op)
    for caller in (env.op2, env.other, env.producer):
        expect_revert(f.revokeRoot(root, "x"), caller, "VntraceNotAuthorized", caller)
    # An anchorer that lost its role cannot revoke its old roots any more (the admin still can).
    send(env, f.revokeRole(ANCHORER_ROLE, env.op), env.admin)
    expect_revert(f.revokeRoot(root, "x"), env.op, "VntraceNotAuthorized", env.op)
    assert f.isRootValid(root).call()


def test_revoke_unknown_root(env: Env) -> None:
    root = rand32()
    for caller in (env.admin, env.op, env.other):
        expect_revert(env.reg.functions.revokeRoot(root, "x"), caller, "VntraceUnknownRoot", root)


# ---------------------------------------------------------------------------- recalls


def test_recall_by_anchorer_and_admin(env: Env) -> None:
    f = env.reg.functions
    lot = keccak(b"/01/08934567890128/10/LOT-1")
    assert f.getRecall(lot).call() == [False, 0, ZERO_ADDRESS, ""]
    assert not f.isRecalled(lot).call()
    receipt = send(env, f.recallLot(lot, "aflatoxin"), env.op)
    assert events(env, "LotRecalled", receipt) == [
        {"lotKey": lot, "recalledBy": env.op, "reason": "aflatoxin"}
    ]
    block = env.w3.eth.get_block(receipt.blockNumber)
    assert f.getRecall(lot).call() == [True, block.timestamp, env.op, "aflatoxin"]
    assert f.isRecalled(lot).call()
    expect_revert(f.recallLot(lot, "again"), env.admin, "VntraceLotAlreadyRecalled", lot)

    lot2 = keccak(b"/01/08934567890128/10/LOT-2")
    send(env, f.recallLot(lot2, "regulator"), env.admin)
    assert f.getRecall(lot2).call()[2] == env.admin


def test_recall_rejects_others_and_zero_key(env: Env) -> None:
    f = env.reg.functions
    for caller in (env.other, env.producer):
        expect_revert(f.recallLot(rand32(), "x"), caller, "VntraceNotAuthorized", caller)
    expect_revert(f.recallLot(ZERO32, "x"), env.op, "VntraceZeroLotKey")


# ---------------------------------------------------------------------------- verification


def test_leaf_of_matches_python(env: Env) -> None:
    for _ in range(3):
        lot, digest = rand32(), rand32()
        expected = sha3.keccak_256(sha3.keccak_256(lot + digest).digest()).digest()
        assert env.reg.functions.leafOf(lot, digest).call() == expected == leaf_hash(lot, digest)


def _records(n: int) -> list[tuple[bytes, bytes]]:
    lots = [keccak(f"/01/08934567890128/10/L{i // 3}".encode()) for i in range(n)]
    return [(lot, rand32()) for lot in lots]


def test_verify_proof(env: Env) -> None:
    f = env.reg.functions
    records = _records(7)  # not a power of two: an unbalanced OZ tree
    tree = OzTree([leaf_hash(*r) for r in records])
    root = anchor(env, env.op, tree.root, count=len(records))
    for k, leaf in enumerate(tree.leaves):
        assert f.verifyProof(root, leaf, tree.proof(k)).call()
    proof = tree.proof(2)
    tampered = leaf_hash(records[2][0], rand32())
    assert not f.verifyProof(root, tampered, proof).call()
    assert not f.verifyProof(root, tree.leaves[3], proof).call()  # wrong position
    assert not f.verifyProof(rand32(), tree.leaves[2], proof).call()  # root not anchored
    send(env, f.revokeRoot(root, "bad"), env.op)
    assert not f.verifyProof(root, tree.leaves[2], proof).call()


def test_verify_proof_single_record_epoch(env: Env) -> None:
    leaf = leaf_hash(*_records(1)[0])
    root = anchor(env, env.op, OzTree([leaf]).root, count=1)
    assert root == leaf
    assert env.reg.functions.verifyProof(root, leaf, []).call()


def test_verify_multiproof(env: Env) -> None:
    f = env.reg.functions
    records = _records(8)
    tree = OzTree([leaf_hash(*r) for r in records])
    root = anchor(env, env.op, tree.root, count=len(records))
    for subset in ([0, 1, 2], [1, 4, 6], [7], list(range(8))):
        mp = tree.multiproof(subset)
        assert f.verifyMultiProof(root, mp.leaves, mp.proof, mp.proof_flags).call(), subset

    mp = tree.multiproof([1, 4, 6])
    tampered = [mp.leaves[0], hash_pair(mp.leaves[1], mp.leaves[1]), mp.leaves[2]]
    assert not f.verifyMultiProof(root, tampered, mp.proof, mp.proof_flags).call()
    assert not f.verifyMultiProof(rand32(), mp.leaves, mp.proof, mp.proof_flags).call()
    send(env, f.revokeRoot(root, "bad"), env.admin)
    assert not f.verifyMultiProof(root, mp.leaves, mp.proof, mp.proof_flags).call()


def test_empty_multiproof_is_false(env: Env) -> None:
    """OpenZeppelin accepts proof == [root] with no leaves; the registry does not."""
    f = env.reg.functions
    tree = OzTree([leaf_hash(*r) for r in _records(4)])
    root = anchor(env, env.op, tree.root, count=4)
    empty = tree.multiproof([])
    assert empty.leaves == [] and empty.proof == [root] and empty.proof_flags == []
    assert not f.verifyMultiProof(root, [], empty.proof, []).call()


def test_malformed_multiproof_reverts(env: Env) -> None:
    f = env.reg.functions
    tree = OzTree([leaf_hash(*r) for r in _records(4)])
    root = anchor(env, env.op, tree.root, count=4)
    mp = tree.multiproof([0, 3])
    expect_revert(
        f.verifyMultiProof(root, mp.leaves, mp.proof, [*mp.proof_flags, True]),
        env.other,
        "MerkleProofInvalidMultiproof",
    )
    # Flags asking for more proof items than given: OpenZeppelin indexes past the array.
    expect_revert(
        f.verifyMultiProof(
            root, [tree.leaves[0], tree.leaves[1], tree.leaves[2]], [], [False, False]
        ),
        env.other,
        "Panic",
        0x32,
    )


@pytest.mark.parametrize("sort_leaves", [False, True])
def test_node_merkle_engine_proofs_verify_on_chain(env: Env, sort_leaves: bool) -> None:
    """Integration: proofs from vntrace.node.merkle (the node's engine) verify on chain."""
    merkle = pytest.importorskip("vntrace.node.merkle")
    records = _records(11)
    tree = merkle.StandardMerkleTree.of(records, ["bytes32", "bytes32"], sort_leaves=sort_leaves)
    root = bytes(tree.root)
    hashes = [leaf_hash(*r) for r in records]
    assert root == OzTree(sorted(hashes) if sort_leaves else hashes).root
    anchor(env, env.op, root, count=len(records))
    f = env.reg.functions
    for i, record in enumerate(records):
        assert f.verifyProof(root, leaf_hash(*record), tree.get_proof(i)).call()
    mp = tree.get_multiproof([3, 4, 5, 9])
    leaves = [leaf_hash(bytes(lot), bytes(digest)) for lot, digest in mp.leaves]
    assert f.verifyMultiProof(root, leaves, mp.proof, mp.proof_flags).call()
