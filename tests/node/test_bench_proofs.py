"""The proof benchmark runs end to end and writes sane files (no speed assertions).

Speed is the benchmark's own business and this machine is shared; what a test can hold
is that every figure is there, positive, labelled, and that a peer that can run did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.js import missing_js_reason
from vntrace.node.bench import main, run_proof_bench
from vntrace.node.bench.proofs import parse_sizes
from vntrace.node.bench.report import OPS
from vntrace.node.bench.workload import lot_key, make_pairs, max_depth
from vntrace.node.merkle import StandardMerkleTree, accel

SIZES = [100, 2048]
OURS_OPS = {
    "build",
    "build_1core",
    "proof_gen",
    "verify_leaf",
    "verify_value",
    "verify_batch",
    "multiproof_64_leaf",
    "multiproof_64_value",
}


def _pymerkle_installed() -> bool:
    try:
        import pymerkle  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench")
    messages: list[str] = []
    results = run_proof_bench(SIZES, out, quick=True, progress=messages.append)
    assert messages, "progress was never reported"
    return results, out


def _positive_rate(rate: dict[str, Any]) -> None:
    assert rate["per_sec"] > 0
    assert rate["units"] > 0
    assert rate["seconds"] > 0


def test_files_are_written(bench: tuple[dict[str, Any], Path]) -> None:
    results, out = bench
    assert (out / "results.json").is_file()
    assert (out / "report.md").is_file()
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert on_disk["schema"] == "vntrace.bench.proofs/1"
    assert [s["size"] for s in on_disk["sizes"]] == SIZES
    assert results["files"]["json"] == str(out / "results.json")


def test_every_size_has_our_rates(bench: tuple[dict[str, Any], Path]) -> None:
    results, _ = bench
    _positive_rate(results["reference"]["keccak64"])
    for entry in results["sizes"]:
        assert entry["depth"] == max_depth(entry["size"])
        assert 0 < entry["mean_proof_length"] <= entry["depth"]
        assert entry["bound_verify_per_sec"] > 0
        assert set(entry["ops"]) >= OURS_OPS
        for op, cell in entry["ops"].items():
            assert op in OPS
            _positive_rate(cell["ours"])
            if accel.available():  # the pure-Python engine is measured beside it
                _positive_rate(cell["ours_py"])
    assert "multiproof_1024_leaf" in results["sizes"][1]["ops"]  # 2048 leaves
    assert "multiproof_1024_leaf" not in results["sizes"][0]["ops"]  # 100 leaves


def test_peers_present_when_available(bench: tuple[dict[str, Any], Path]) -> None:
    results, _ = bench
    expected = {"pymerkle": _pymerkle_installed(), "oz_js": missing_js_reason() is None}
    for name, available in expected.items():
        peer = results["peers"][name]
        assert peer["available"] is available, peer
        if not available:
            assert peer["reason"]
            continue
        assert peer["version"]
        for entry in results["sizes"]:
            for op in ("build", "proof_gen", "verify_leaf"):
                _positive_rate(entry["ops"][op][name])
    if expected["oz_js"]:
        for entry in results["sizes"]:
            for op in ("verify_value", "multiproof_64_leaf", "multiproof_64_value"):
                _positive_rate(entry["ops"][op]["oz_js"])


def test_report_has_tables_machine_and_targets(bench: tuple[dict[str, Any], Path]) -> None:
    results, out = bench
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "| leaves | depth | operation |" in text
    assert "OZ JS" in text and "pymerkle" in text
    assert results["machine"]["cpu"] in text
    assert f"Python {results['machine']['python']}" in text
    ids = {t["id"] for t in results["targets"]}
    assert ids == {
        "build_1m",
        "verify_depth17",
        "multiproof",
        "vs_oz",
        "vs_oz_core",
        "vs_pymerkle",
        "verify_vs_keccak",
    }
    assert ("targets_pure_python" in results) == accel.available()
    for target in results["targets"] + results.get("targets_pure_python", []):
        assert target["label"] in text
        if target["measured"] is not None:
            assert target["met"] == (target["measured"] >= target["threshold"])
    assert "(not 1M)" in text  # honest about evaluating the 1M target at a small size


def test_main_writes_where_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--quick", "--sizes", "64", "--no-js", "--no-pymerkle", "-q", "--out", str(tmp_path)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| leaves | depth | operation |" in printed
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["peers"]["oz_js"] == {
        "name": "oz_js",
        "available": False,
        "reason": "disabled (--no-js)",
        "version": None,
        "info": {},
    }
    assert all(cell["oz_js"] is None for cell in results["sizes"][0]["ops"].values())


def test_parse_sizes() -> None:
    assert parse_sizes("1k, 10k,100_000,1M") == [1_000, 10_000, 100_000, 1_000_000]
    assert parse_sizes("2.5k") == [2_500]


def test_workload_is_the_nodes_records() -> None:
    """Lot keys follow DESIGN (keccak of the Digital Link path), 16 records per lot."""
    pairs = make_pairs(40, lot_size=16, seed=3)
    assert pairs == make_pairs(40, lot_size=16, seed=3)
    assert pairs[0][0] == lot_key("L0000000") == pairs[15][0] != pairs[16][0]
    assert all(len(a) == len(b) == 32 for a, b in pairs)
    tree = StandardMerkleTree.of(pairs, ["bytes32", "bytes32"], sort_leaves=False)
    assert len(tree.get_proof(0)) <= max_depth(40)
