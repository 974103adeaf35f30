"""RFC 9162 tree and proofs against transparency-dev/merkle's published vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from vntrace.node.tlog.errors import ProofError
from vntrace.node.tlog.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors" / "transparency-dev"
# The Certificate Transparency test leaves the vectors are built over.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
HASHES = [leaf_hash(x) for x in CT_LEAVES]


def _b(v: str) -> bytes:
    return base64.b64decode(v)


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_b(h) for h in v["proof"] or []]
    args = (_b(v["leafHash"] or ""), v["leafIdx"], v["treeSize"], proof, _b(v["root"] or ""))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)
        if v["treeSize"] <= len(HASHES) and HASHES[v["leafIdx"]] == args[0]:
            assert inclusion_proof(HASHES, v["leafIdx"], v["treeSize"]) == proof
            assert root_of(HASHES, v["treeSize"]) == args[4]


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_consistency_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_b(h) for h in v["proof"] or []]
    args = (v["size1"], v["size2"], _b(v["root1"] or ""), _b(v["root2"] or ""), proof)
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
        if v["size2"] <= len(HASHES) and root_of(HASHES, v["size2"]) == args[3]:
            assert consistency_proof(HASHES, v["size1"], v["size2"]) == proof


def test_every_size_and_index_round_trips() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(70)]
    assert root_of(hashes, 0) == EMPTY_ROOT
    for n in range(1, 70):
        root = root_of(hashes, n)
        for i in range(n):
            verify_inclusion(hashes[i], i, n, inclusion_proof(hashes, i, n), root)
        for m in range(1, n + 1):
            verify_consistency(m, n, root_of(hashes, m), root, consistency_proof(hashes, m, n))
    # A changed leaf breaks consistency with every older size that covered it.
    forked = [*hashes[:9], leaf_hash(b"x"), *hashes[10:]]
    with pytest.raises(ProofError):
        verify_consistency(
            12, 20, root_of(hashes, 12), root_of(forked, 20), consistency_proof(forked, 12, 20)
        )


def test_impossible_sizes_raise() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(HASHES, 8)
    with pytest.raises(ProofError):
        consistency_proof(HASHES, 5, 3)
    with pytest.raises(ProofError):
        root_of(HASHES, 9)
