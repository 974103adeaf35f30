"""Issue 17's comparison plumbing: the previous release materialised, the machine limits,
the "Issue 17 figures" report.

The materialisation runs for real (git archive of ce9720f into a temporary cache, the
old code imported in a subprocess); no node is started and nothing is judged on speed.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.node.test_bench_suite import RESULTS, _latency, _run
from vntrace.node.bench import baseline, floor, suite, summary
from vntrace.node.merkle import StandardMerkleTree


def _history() -> Path:
    repo = baseline.find_repo()
    if repo is None:
        pytest.skip("not a git checkout: the baseline has no history to come from")
    try:
        baseline.resolve_commit(repo, baseline.BASELINE_COMMIT)
    except baseline.BaselineError as exc:
        pytest.skip(str(exc))
    return repo


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> baseline.Baseline:
    _history()
    return baseline.materialise(cache_dir=tmp_path_factory.mktemp("baseline-cache"))


def test_materialised_tree_imports_the_old_code(old: baseline.Baseline) -> None:
    assert old.sha.startswith(baseline.BASELINE_COMMIT) and len(old.sha) == 40
    # the commit's own tree: its BENCHMARKS.md holds the issue's "today" figures
    published = (old.source / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "1,261 records/s" in published
    assert not (old.source / "node" / "services").exists()  # added after ce9720f
    code = (
        "import json, vntrace, vntrace.node.merkle.accel as a, vntrace.client;"
        "print(json.dumps([vntrace.__file__, vntrace.client.__file__, a.available()]))"
    )
    env = {"PATH": "/usr/bin:/bin", "ETH_HASH_BACKEND": "pysha3", **old.env()}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    top, client, accelerated = json.loads(done.stdout)
    assert Path(top).is_relative_to(old.python_path)
    assert Path(client).resolve().is_relative_to(old.source / "client")
    if baseline.installed_accelerator() is not None:
        assert accelerated is True, old.accelerator
        assert list((old.source / "node" / "merkle").glob("_accel*.so"))
    assert old.accelerator


def test_the_cache_is_reused(old: baseline.Baseline) -> None:
    marker = old.root / baseline.MARKER
    before = marker.stat().st_mtime_ns
    again = baseline.materialise(cache_dir=old.root.parent)
    assert again.root == old.root and again.accelerator == old.accelerator
    assert marker.stat().st_mtime_ns == before


def test_same_tree_harness_on_both_code_paths(old: baseline.Baseline) -> None:
    task = {"kind": "tree", "size": 300, "rounds": 1, "seed": 5}
    rnd = random.Random(5)
    values = [["0x" + rnd.randbytes(32).hex(), "0x" + rnd.randbytes(32).hex()] for _ in range(300)]
    expected = "0x" + StandardMerkleTree.of(values, ["bytes32", "bytes32"]).root.hex()
    now = baseline.run_worker(task, None)
    then = baseline.run_worker(task, old)
    assert now["root"] == then["root"] == expected
    assert Path(then["vntrace_node"]).is_relative_to(old.python_path)
    assert not Path(now["vntrace_node"]).is_relative_to(old.root)
    assert then["leaves_per_s"] > 0 and then["size"] == 300


def test_absent_commit_fails_with_a_reason(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "setup.py").write_text("FOLDERS = {}\n", encoding="utf-8")
    subprocess.run([*git, "add", "setup.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    with pytest.raises(baseline.BaselineError, match="ce9720f is not in the history"):
        baseline.materialise(cache_dir=tmp_path / "cache", repo=repo)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    assert baseline.find_repo((tmp_path,)) is None  # tmp_path itself is no work tree


def test_run_baseline_reports_instead_of_raising(tmp_path: Path) -> None:
    _history()
    out = baseline.run_baseline(quick=True, commit="0123456789abcdef", cache_dir=tmp_path)
    assert out["error"].startswith("not measured: commit 0123456789abcdef is not in the")
    assert "e2e" not in out and out["recorded"]["ingestion"] == 1_261.0


def test_no_git_fails_with_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no git in it
    with pytest.raises(baseline.BaselineError, match="git is not installed"):
        baseline.materialise(cache_dir=tmp_path / "cache")
    assert baseline.find_repo() is None


def test_package_folders_read_from_setup_py(tmp_path: Path) -> None:
    here = Path(__file__).resolve().parents[2] / "setup.py"
    assert baseline.package_folders(here) == baseline.DEFAULT_FOLDERS
    other = tmp_path / "setup.py"
    other.write_text('FOLDERS = {"vntrace.node": "src/node"}\n', encoding="utf-8")
    assert baseline.package_folders(other) == {"vntrace.node": "src/node"}
    other.write_text("print('no mapping')\n", encoding="utf-8")
    assert baseline.package_folders(other) == baseline.DEFAULT_FOLDERS


def test_baseline_config_keeps_the_compared_phases() -> None:
    full = baseline.baseline_config(quick=False)
    assert full.batch_sizes == (100, 1000) and full.latency_clients == (32,)
    assert full.verify_batch == 1000 and full.workers is None
    quick = baseline.baseline_config(quick=True)
    assert quick.batch_sizes == (50,) and quick.latency_clients == (4,)


FLOOR: dict[str, Any] = {
    "cores": 2,
    "steps_us": {
        "eip712_recovery": 50.0,
        "jcs": 10.0,
        "digest": 1.0,
        "leaf": 1.5,
        "proof_node": 0.5,
        "keccak64": 0.5,
    },
    "service": {"verify_one_bundle_ms": 0.5},
}


def test_machine_limit_formulas() -> None:
    limits = floor.machine_limits(FLOOR, proof_length=14.0)
    assert limits["ingestion"]["value"] == pytest.approx(2e6 / 50.0)
    assert limits["verify_api"]["value"] == pytest.approx(2e6 / (10 + 1 + 1.5 + 14 * 0.5))
    assert limits["sdk_verify"]["value"] == pytest.approx(2e6 / (50 + 10 + 1 + 1.5 + 7))
    assert limits["latency_p99"]["value"] == pytest.approx(32 * 0.5 / 2)
    assert limits["latency_p99"]["at_least"] is False
    assert limits["tree_hex"]["value"] == pytest.approx(2 * 2e6 / floor.KECCAKS_PER_LEAF)
    assert "EIP-712 recovery" in limits["ingestion"]["formula"]
    assert limits["ingestion"]["computed"] == "2 · 10⁶ ÷ 50 µs"
    assert "14.0 · 0.5" in limits["verify_api"]["computed"]
    assert all(entry["cores"] == 2 for entry in limits.values())
    four = floor.machine_limits(FLOOR, cores=4, proof_length=14.0, clients=8)
    assert four["latency_p99"]["value"] == pytest.approx(8 * 0.5 / 4)
    assert four["ingestion"]["value"] == pytest.approx(2 * limits["ingestion"]["value"])


def test_machine_limits_without_inputs() -> None:
    limits = floor.machine_limits({"cores": 2, "steps_us": {}, "service": {}})
    assert all(entry["value"] is None for entry in limits.values())
    assert {entry["computed"] for entry in limits.values()} == {"inputs not measured"}


def _with_baseline() -> dict[str, Any]:
    results = copy.deepcopy(RESULTS)
    results["e2e"]["floor"].update(cores=2)
    results["e2e"]["floor"]["steps_us"].update(FLOOR["steps_us"])
    results["e2e"]["tree_hex"] = {"size": 100_000, "rounds": 3, "leaves_per_s": 400_000.0}
    results["e2e"]["tree_hex"]["root"] = "0xab"
    old = _run("baseline")
    for row in old["ingest"]:
        row["records_per_s"] /= 2  # the current run is twice as fast
    old["latency"] = [_latency(32, 320.0, 100.0)]
    results["e2e"]["baseline"] = {
        "commit": "ce9720f",
        "sha": "ce9720ff2bff634db5c2dda0be69c7cacb663922",
        "accelerator": "copied from this install",
        "recorded": baseline.RECORDED,
        "e2e": old,
        "tree_hex": {"size": 100_000, "rounds": 3, "leaves_per_s": 40_000.0, "root": "0xab"},
    }
    return results


def test_issue17_figures_and_report() -> None:
    results = _with_baseline()
    results["targets"] = summary.evaluate(results)
    results["issue17"] = summary.issue17(results)
    rows = {r["id"]: r for r in results["issue17"]["figures"]}
    assert list(rows) == ["ingestion", "verify_api", "latency_p99", "sdk_verify", "tree_hex"]
    assert rows["ingestion"]["previous"] == 600.0 and rows["ingestion"]["now"] == 1200.0
    assert rows["ingestion"]["ratio"] == pytest.approx(2.0)
    assert rows["latency_p99"]["ratio"] == pytest.approx(320.0 / 160.0)  # lower is better
    assert rows["tree_hex"]["ratio"] == pytest.approx(10.0) and rows["tree_hex"]["met"] is True
    assert rows["ingestion"]["limit"] == pytest.approx(2e6 / 50.0)
    assert rows["ingestion"]["share_of_limit"] == pytest.approx(1200.0 / 40_000.0)
    assert rows["latency_p99"]["share_of_limit"] == pytest.approx((32 * 0.6 / 2) / 160.0)
    assert rows["sdk_verify"]["recorded"] == 2_142.0
    assert results["issue17"]["tree_roots_match"] is True
    text = summary.render(results)
    assert "## Issue 17 figures" in text
    head = "| figure | previous release (ce9720f), this run | now | ratio | target | machine limit"
    assert head + " |" in text
    row = "| ingestion, batch endpoint | 600 records/s (batches of 1,000); recorded 1,261 |"
    assert row in text
    assert "**2.00x**" in text and "**10.00x**" in text
    assert "≥ 300,000 leaves/s met" in text and "3% reached" in text
    assert "here 2 · 10⁶ ÷ 50 µs = **40,000 records/s**" in text
    assert "single-bundle verify p99 at 32 clients" in text
    assert "copied from this install" in text and "the same root" in text
    targets = {t["id"]: t for t in results["targets"]}
    assert targets["sdk_verify"]["measured"] == 400.0 and targets["sdk_verify"]["met"] is False
    assert "This machine's limit for the path is" in targets["sdk_verify"]["bound"]
    assert targets["tree_hex"]["met"] is True and targets["tree_hex"]["bound"] == ""


def test_issue17_without_a_baseline_says_why() -> None:
    results = _with_baseline()
    results["e2e"]["baseline"] = {"commit": "ce9720f", "error": "not measured: no git"}
    data = summary.issue17(results)
    assert all(r["previous"] is None and r["ratio"] is None for r in data["figures"])
    assert all(r["previous_missing"] == "not measured: no git" for r in data["figures"])
    text = "\n".join(summary.issue17_section(data))
    assert "The previous release was not measured in full: not measured: no git." in text
    del results["e2e"]["baseline"]
    off = summary.issue17(results)
    assert "--baseline" in off["baseline_error"]
    assert off["figures"][0]["now"] == 1200.0


def test_quick_runs_leave_out_the_recorded_figures() -> None:
    results = _with_baseline()
    results["config"]["quick"] = True
    assert all(r["recorded"] is None for r in summary.issue17(results)["figures"])


def test_baseline_flag() -> None:
    parser = suite.build_parser()
    assert parser.parse_args(["--quick"]).baseline is None
    assert parser.parse_args(["--quick", "--baseline"]).baseline is True
    assert parser.parse_args(["--no-baseline"]).baseline is False


@pytest.mark.slow
def test_the_baseline_plan_runs_the_shared_phases_without_the_current_only_ones(
    tmp_path: Path,
) -> None:
    """The previous release goes through the current run's phase sequence
    (``e2e.measure_phases``): here against the current node, with the baseline's plan
    (its own SDK measure, no record-id or anchoring phase)."""
    from dataclasses import asdict, replace

    from vntrace.node.bench import e2e
    from vntrace.node.bench.procs import ServeProcess

    cfg = replace(e2e.QUICK, batch_sizes=(20,), latency_clients=(2,))
    sdk_calls: list[tuple[str, int]] = []

    def sdk(rpc_url: str, bundles: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
        sdk_calls.append((rpc_url, len(bundles)))
        return {"records_per_s": 1.0}

    plan = e2e.PhasePlan(
        label="baseline test", tag="OLD", sdk=sdk, record_ids=False, ack_to_anchored=False
    )
    run = e2e.ChainRun("baseline", asdict(cfg))
    server = ServeProcess(tmp_path / "node", e2e._node_env("embedded", cfg, None)).start()
    said: list[str] = []
    try:
        e2e.measure_phases(run, server, cfg, plan, said.append)
    finally:
        assert server.stop() == 0
    assert not run.errors, run.errors
    assert [row["batch_size"] for row in run.ingest] == [20]
    assert run.bundle_reads and run.verify_api_bundles and run.latency
    assert sdk_calls == [(server.url + "/rpc", cfg.verify_batch)]
    assert run.verify_sdk == {"records_per_s": 1.0}
    assert run.verify_api_ids == {} and run.anchoring == {}  # not in the baseline's plan
    assert all(line.startswith("baseline test: ") for line in said)
