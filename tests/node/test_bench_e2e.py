"""``vntrace bench e2e`` runs for real at tiny sizes and writes sane files.

Real ``vntrace serve`` processes (embedded chain, and anvil when installed) are driven
over HTTP; nothing here asserts a speed, only that every phase produced its figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.anvil import anvil_binary
from vntrace.node.bench import suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench-e2e")
    results = suite.run_suite(out, quick=True, suites=("e2e",))
    return results, out


def _positive(value: Any) -> None:
    assert isinstance(value, int | float) and value > 0, value


def test_files(run: tuple[dict[str, Any], Path]) -> None:
    results, out = run
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert on_disk["schema"] == "vntrace.bench.suite/1"
    assert set(on_disk["e2e"]["chains"]) == {"embedded", "anvil"}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## End to end over HTTP" in report and "### embedded chain" in report
    assert "## Per-record costs in one process" in report
    assert "not BENCHMARKS.md" not in str(results["files"])
    assert "benchmarks_md" not in results["files"]  # tests never rewrite the repo's file
    if results["plots"]:
        assert {"ingestion.png", "latency.png"} <= set(results["plots"])


def test_floor(run: tuple[dict[str, Any], Path]) -> None:
    floor = run[0]["e2e"]["floor"]
    for value in [*floor["steps_us"].values(), *floor["service"].values()]:
        _positive(value)


@pytest.mark.parametrize("chain", ["embedded", "anvil"])
def test_every_phase_has_figures(run: tuple[dict[str, Any], Path], chain: str) -> None:
    data = run[0]["e2e"]["chains"][chain]
    if chain == "anvil" and anvil_binary() is None:
        assert "anvil is not installed" in data["skipped"]
        pytest.skip("anvil not installed (run npm ci)")
    assert data["error"] is None, data["error"]
    assert not data["errors"], data["errors"]
    assert data["node"]["exit_code"] == 0  # the node stopped cleanly on SIGINT
    assert [r["batch_size"] for r in data["ingest"]] == list(data["config"]["batch_sizes"])
    for row in data["ingest"]:
        assert row["records"] >= row["batch_size"]
        _positive(row["records_per_s"])
        _positive(row["request_latency"]["p50_ms"])
    for key in ("bundle_reads", "verify_api_bundles", "verify_api_ids", "verify_sdk"):
        assert data[key]["records"] > 0
        _positive(data[key]["records_per_s"])
    assert [r["clients"] for r in data["latency"]] == list(data["config"]["latency_clients"])
    for row in data["latency"]:
        assert row["count"] > 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
    anchoring = data["anchoring"]
    assert anchoring["batches"] > 0 and anchoring["records"] > 0
    assert 0 < anchoring["p50_s"] <= anchoring["p95_s"] <= anchoring["max_s"]


def test_targets_are_judged(run: tuple[dict[str, Any], Path]) -> None:
    targets = {t["id"]: t for t in run[0]["targets"]}
    for key in ("ingestion", "verify_api", "sdk_verify", "tree_hex", "ack_to_anchored"):
        assert targets[key]["measured"] is not None
        assert targets[key]["met"] in (True, False)
        if targets[key]["met"] is False:
            assert targets[key]["bound"]


def test_issue17_figures_without_the_baseline(run: tuple[dict[str, Any], Path]) -> None:
    data = run[0]["issue17"]
    assert "--baseline" in data["baseline_error"]  # off in quick runs unless asked
    rows = {r["id"]: r for r in data["figures"]}
    for key in ("ingestion", "verify_api", "sdk_verify", "tree_hex"):
        _positive(rows[key]["now"])
        _positive(rows[key]["limit"])
        assert rows[key]["previous"] is None and rows[key]["ratio"] is None
    assert run[0]["e2e"]["tree_hex"]["size"] == 20_000
    assert "## Issue 17 figures" in (run[1] / "report.md").read_text(encoding="utf-8")
