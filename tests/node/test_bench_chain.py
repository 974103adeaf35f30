"""``vntrace bench chain`` at tiny sizes: gas figures for every case, on both chains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.anvil import anvil_binary
from vntrace.node.bench import gas, suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench-chain")
    return suite.run_suite(out, quick=True, suites=("chain",)), out


def test_embedded_anchor_gas(run: tuple[dict[str, Any], Path]) -> None:
    embedded = run[0]["chain"]["embedded"]
    assert "error" not in embedded, embedded.get("error")
    rows = embedded["anchor_per_record"]
    assert [r["records"] for r in rows] == list(gas.EPOCH_SIZES)
    for row in rows:
        assert 21_000 < row["anchor_gas"] < 200_000
        assert row["gas_per_record"] == pytest.approx(row["anchor_gas"] / row["records"])
    assert embedded["transactions"]["deploy"] > 100_000


def test_anvil_gas(run: tuple[dict[str, Any], Path]) -> None:
    anvil = run[0]["chain"]["anvil"]
    if anvil_binary() is None:
        assert "anvil is not installed" in anvil["skipped"]
        pytest.skip("anvil not installed (run npm ci)")
    assert "error" not in anvil, anvil.get("error")
    assert {"deploy", "registerProducer", "recallLot (by anchorer)"} <= set(anvil["transactions"])
    assert [r["records"] for r in anvil["anchor_per_record"]] == list(gas.EPOCH_SIZES)
    depths = [r["depth"] for r in anvil["verify_proof"]]
    assert depths == list(gas.QUICK_DEPTHS)
    gas_by_depth = [r["execution_gas"] for r in anvil["verify_proof"]]
    assert gas_by_depth == sorted(gas_by_depth)  # one more level, one more hash
    layouts = {r["layout"] for r in anvil["verify_multiproof"]}
    assert layouts == {"contiguous", "scattered"}
    for row in anvil["verify_multiproof"]:
        assert row["execution_per_leaf"] == pytest.approx(row["execution_gas"] / row["leaves"])
    # the same epoch sizes on both EVMs
    on_embedded = run[0]["chain"]["embedded"]["anchor_per_record"]
    assert [r["records"] for r in anvil["anchor_per_record"]] == [r["records"] for r in on_embedded]


def test_files(run: tuple[dict[str, Any], Path]) -> None:
    results, out = run
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(on_disk["chain"]) >= {"anvil", "embedded"}
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## On chain: gas" in text and "**Anchoring**" in text
    assert "## End to end over HTTP" not in text
    if results["plots"]:
        assert "gas.png" in results["plots"]


def test_minimal_tree_matches_the_engine() -> None:
    """The gas suite's own OZ tree agrees with the node's engine (same root, same proof)."""
    import random

    from vntrace.node.merkle import StandardMerkleTree, verify_multiproof, verify_proof

    rng = random.Random(3)
    pairs = [(rng.randbytes(32), rng.randbytes(32)) for _ in range(37)]
    leaves = [gas.keccak(gas.keccak(a + b)) for a, b in pairs]
    tree = gas.build_tree(leaves)
    engine = StandardMerkleTree.of(pairs, ["bytes32", "bytes32"], sort_leaves=False)
    assert tree[0] == engine.root
    assert verify_proof(tree[0], leaves[5], gas.get_proof(tree, 5))
    got_leaves, proof, flags = gas.get_multiproof(tree, [3, 4, 5, 20])
    assert verify_multiproof(tree[0], got_leaves, proof, flags)
