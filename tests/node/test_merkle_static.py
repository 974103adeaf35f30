"""Fixed-size ABI leaves without the encoder: identical to the eth-abi path, always.

The reference is :func:`vntrace.node.merkle.hashing.leaf_hash`, which ABI-encodes with
eth-abi (itself checked against OpenZeppelin's JS tree in test_merkle*.py). Every value
form (bytes, 0x-hex, ints, decimal strings) and every edge (range ends, short bytes,
mixed-case addresses, bad hex) must give the same leaf, or the same error.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vntrace.node.merkle import StandardMerkleTree
from vntrace.node.merkle.errors import MerkleError
from vntrace.node.merkle.hashing import leaf_hash
from vntrace.node.merkle.static import static_leaf_hashes, static_writers, word_writer

pytestmark = pytest.mark.usefixtures("merkle_engine")

STATIC = ["bytes32", "bytes4", "bytes1", "uint256", "uint8", "int256", "int16", "address", "bool"]


def _value(abi_type: str) -> st.SearchStrategy:
    if abi_type.startswith("bytes"):
        n = int(abi_type[5:])
        raw = st.binary(min_size=n, max_size=n)
        return st.one_of(raw, raw.map(lambda b: "0x" + b.hex()))
    if abi_type.startswith("uint"):
        bits = int(abi_type[4:])
        ints = st.integers(0, (1 << bits) - 1)
        return st.one_of(ints, ints.map(str), ints.map(hex))
    if abi_type.startswith("int"):
        bits = int(abi_type[3:])
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    if abi_type == "address":
        raw = st.binary(min_size=20, max_size=20)
        return st.one_of(
            raw.map(lambda b: "0x" + b.hex()), raw.map(lambda b: "0x" + b.hex().upper())
        )
    return st.booleans()


@st.composite
def _encoded_values(draw: st.DrawFn) -> tuple[list[str], list[list]]:
    types = draw(st.lists(st.sampled_from(STATIC), min_size=1, max_size=4))
    rows = draw(st.lists(st.tuples(*[_value(t) for t in types]), min_size=1, max_size=20))
    return types, [list(r) for r in rows]


@settings(max_examples=150, deadline=None)
@given(_encoded_values())
def test_fast_leaves_equal_the_abi_encoder_path(case: tuple[list[str], list[list]]) -> None:
    types, values = case
    writers = static_writers(types)
    assert writers is not None
    assert static_leaf_hashes(values, types, writers) == [leaf_hash(v, types) for v in values]


@pytest.mark.parametrize(
    ("types", "value"),
    [
        (["uint8", "bool"], [256, True]),  # out of range
        (["int8", "bool"], [-129, False]),
        (["bytes32", "bytes32"], ["0x" + "zz" * 32, "0x" + "00" * 32]),  # bad hex
        (["bytes32", "bytes32"], ["00" * 32, "0x" + "00" * 32]),  # no 0x
        (["address", "uint256"], ["0x" + "ab" * 19, 1]),  # short address
        (["bool", "bool"], ["yes", True]),
    ],
)
def test_values_the_encoder_refuses_are_refused_the_same_way(types: list[str], value: list) -> None:
    with pytest.raises(MerkleError):
        leaf_hash(value, types)
    with pytest.raises(MerkleError):
        StandardMerkleTree.of([value], types)


def test_edges_take_the_encoder_path_with_its_result() -> None:
    checksummed = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector
    short = b"\x01\x02"  # eth-abi right-pads bytes shorter than bytes32
    for types, value in [
        (["address", "uint256"], [checksummed, 5]),
        (["bytes32", "uint8"], [short, 7]),
        (["uint256", "uint256"], ["  12 ", 3]),
    ]:
        writers = static_writers(types)
        assert writers is not None
        assert static_leaf_hashes([value], types, writers) == [leaf_hash(value, types)]


def test_hex_and_bytes_pairs_build_the_same_tree_and_keep_their_values() -> None:
    raw = [(i.to_bytes(2, "big") * 16, (999 - i).to_bytes(2, "big") * 16) for i in range(300)]
    hexed = [("0x" + a.hex(), "0x" + b.hex()) for a, b in raw]
    a = StandardMerkleTree.of(raw, ["bytes32", "bytes32"], sort_leaves=False)
    b = StandardMerkleTree.of(hexed, ["bytes32", "bytes32"], sort_leaves=False)
    assert a.root == b.root and a.dump() == b.dump()
    assert b.at(7) == list(hexed[7])
    assert b.verify(7, b.get_proof(7))


def test_dynamic_types_are_not_static() -> None:
    for t in ["string", "bytes", "uint256[]", "(uint256,address)", "uint7", "bytes33", "int0"]:
        assert word_writer(t) is None
    assert static_writers(["uint256", "string"]) is None
