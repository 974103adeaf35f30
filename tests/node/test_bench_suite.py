"""The benchmark suite's plumbing: targets, report, BENCHMARKS.md, plots, the CLI.

No process is started here and nothing is timed: the results are made up, so what is
checked is the structure and the wording, not speed. The suites that run for real
(tiny sizes) are in test_bench_e2e.py and test_bench_chain.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from vntrace.node.bench import plots, suite, summary
from vntrace.node.bench.progress import Budget, Progress
from vntrace.node.bench.timing import percentile, summarize
from vntrace.node.cli import main as cli_main


def _latency(clients: int, p99: float, rps: float) -> dict[str, Any]:
    return {
        "clients": clients,
        "requests_per_s": rps,
        "count": 100,
        "mean_ms": p99 / 2,
        "p50_ms": p99 / 2,
        "p95_ms": p99 * 0.9,
        "p99_ms": p99,
        "max_ms": p99 * 1.1,
    }


def _ingest(bs: int, rate: float) -> dict[str, Any]:
    return {
        "batch_size": bs,
        "clients": 4,
        "records": 1000,
        "requests": 1000 // bs,
        "seconds": 1000 / rate,
        "records_per_s": rate,
        "request_latency": summarize([0.01, 0.02, 0.03]),
    }


def _verify(rate: float, **extra: Any) -> dict[str, Any]:
    return {
        "records": 1000,
        "seconds": 1000 / rate,
        "records_per_s": rate,
        "request_latency": summarize([0.1]),
        **extra,
    }


def _run(chain: str) -> dict[str, Any]:
    return {
        "chain": chain,
        "config": {},
        "node": {"startup_s": 5.0, "epoch_seconds": 2.0, "chain_id": 1},
        "ingest": [_ingest(1, 40.0), _ingest(100, 900.0), _ingest(1000, 1200.0)],
        "bundle_reads": {"records": 100, "clients": 4, "seconds": 1.0, "records_per_s": 100.0},
        "verify_api_bundles": _verify(2500.0, per_request=1000, clients=2),
        "verify_api_ids": _verify(300.0, per_request=250, clients=2),
        "verify_sdk": _verify(400.0, per_call=1000, calls=1, rpc="node /rpc"),
        "latency": [_latency(1, 5.0, 150.0), _latency(8, 40.0, 200.0), _latency(32, 160.0, 210.0)],
        "anchoring": {
            "offered_records_per_s": 300,
            "batch_size": 10,
            "records": 6000,
            "batches": 600,
            "seconds": 20.0,
            "poll_interval_s": 0.1,
            "epoch_seconds": 2.0,
            "p50_s": 1.3,
            "p95_s": 2.4,
            "max_s": 2.9,
            "mean_s": 1.4,
        },
        "error": None,
    }


def _anchor_rows() -> list[dict[str, Any]]:
    return [
        {"records": n, "anchor_gas": 55_494, "gas_per_record": 55_494 / n}
        for n in (10, 100, 1_000, 10_000, 100_000)
    ]


RESULTS: dict[str, Any] = {
    "schema": "vntrace.bench.suite/1",
    "created": "2026-01-01T00:00:00+00:00",
    "config": {"quick": False, "budget_seconds": 720, "suites": ["chain", "e2e"]},
    "machine": {
        "cpu": "Test CPU",
        "cores": 2,
        "usable_cores": 2,
        "python": "3.11.7",
        "implementation": "CPython",
        "platform": "Linux",
        "node": "v20",
        "memory_bytes": 8 * 2**30,
        "load_average": (1.5, 1.0, 0.5),
        "libraries": {"fastapi": "0.1", "uvicorn": "0.2", "missing": None},
        "date": "2026-01-01T00:00:00+00:00",
    },
    "anvil": "anvil 1.7.1",
    "skipped": {"proofs": "the budget is spent"},
    "elapsed_seconds": 600.0,
    "load_average_end": (2.0, 1.5, 1.0),
    "e2e": {
        "floor": {
            "batch": 500,
            "rounds": 5,
            "steps_us": {
                "eip712_recovery": 60.0,
                "profile_validation": 50.0,
                "jcs": 12.0,
                "batch_receipt": 70.0,
                "strict_json_parse": 20.0,
            },
            "service": {
                "submit_per_record": 450.0,
                "write_transaction_ms": 2.0,
                "bundle_ms": 1.0,
                "verify_bundles_per_record": 200.0,
                "verify_one_bundle_ms": 0.6,
                "verify_records_per_record": 1500.0,
            },
        },
        "chains": {
            "embedded": _run("embedded"),
            "anvil": {"chain": "anvil", "skipped": "anvil is not installed (npm ci)"},
        },
    },
    "chain": {
        "anvil": {
            "meta": {
                "anvil": "anvil 1.7.1",
                "hardfork": "prague",
                "solc": "0.8",
                "optimizer": "on",
            },
            "transactions": {"deploy": 2_000_000},
            "anchor_per_record": _anchor_rows(),
            "verify_proof": [
                {
                    "depth": d,
                    "tree_leaves": 1 << d,
                    "execution_gas": 600 + 260 * d,
                    "estimate_gas": 30_000,
                    "calldata_bytes": 100 + 32 * d,
                }
                for d in (4, 10)
            ],
            "verify_multiproof": [
                {
                    "tree_leaves": 1024,
                    "depth": 10,
                    "layout": layout,
                    "leaves": 16,
                    "proof_len": 11,
                    "execution_gas": 24_000,
                    "estimate_gas": 68_000,
                    "calldata_bytes": 2000,
                    "execution_per_leaf": 1500.0,
                    "estimate_per_leaf": 4250.0,
                    "single_proofs_execution": 16 * 3200,
                }
                for layout in ("contiguous", "scattered")
            ],
        },
        "embedded": {"transactions": {"deploy": 2_000_000}, "anchor_per_record": _anchor_rows()},
    },
}


def test_targets_met_missed_and_bounds() -> None:
    targets = {t["id"]: t for t in summary.evaluate(RESULTS)}
    assert set(targets) == {
        "ingestion",
        "verify_api",
        "latency_p99",
        "sdk_verify",
        "tree_hex",
        "ack_to_anchored",
        "anchor_gas",
    }
    assert targets["ingestion"]["measured"] == 1200.0 and targets["ingestion"]["met"] is False
    assert "batches of 1000" in targets["ingestion"]["where"]
    assert targets["ingestion"]["verdict"] == "**missed**: 12.0% of the goal (8.33x short)"
    assert "EIP-712 recovery 60 µs" in targets["ingestion"]["bound"]
    assert targets["verify_api"]["met"] is False and "200 µs" in targets["verify_api"]["bound"]
    assert targets["latency_p99"]["measured"] == 160.0 and targets["latency_p99"]["met"] is False
    assert "8x the limit" in targets["latency_p99"]["verdict"]
    assert "210 req/s" in targets["latency_p99"]["bound"]
    assert targets["ack_to_anchored"]["met"] is True and targets["ack_to_anchored"]["bound"] == ""
    assert targets["anchor_gas"]["measured"] == pytest.approx(5.5494)
    assert targets["anchor_gas"]["met"] is True


def test_targets_not_measured_without_data() -> None:
    for target in summary.evaluate({"machine": {}}):
        assert target["measured"] is None and target["met"] is None
        assert target["verdict"] == "not measured"


def test_report_has_every_section() -> None:
    results = copy.deepcopy(RESULTS)
    results["targets"] = summary.evaluate(results)
    results["plots"] = {"ingestion.png": "x"}
    text = summary.render(results, images="docs/benchmarks")
    for heading in (
        "# vntrace benchmarks",
        "## Machine",
        "## Targets",
        "## End to end over HTTP",
        "### embedded chain",
        "### anvil",
        "## Per-record costs in one process",
        "## On chain: gas",
        "## How each cost grows",
        "## How it was measured",
    ):
        assert heading in text, heading
    assert "Test CPU" in text and "8.0 GiB RAM" in text and "Python 3.11.7" in text
    assert "1.50, 1.00, 0.50" in text and "**The machine is shared**" in text
    assert "fastapi 0.1" in text and "missing" not in text
    assert "Skipped: anvil is not installed" in text
    assert "![Ingestion against batch size](docs/benchmarks/ingestion.png)" in text
    assert "What bounds the missed targets" in text
    assert "Suite `proofs` was skipped: the budget is spent." in text
    assert "## Proof engine" not in text  # not run, so no section


def test_write_files_and_benchmarks_md(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    md = tmp_path / "repo" / "BENCHMARKS.md"
    md.parent.mkdir()
    results = suite.finish(copy.deepcopy(RESULTS), out, Budget(100.0), md, Progress(quiet=True))
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert on_disk["schema"] == "vntrace.bench.suite/1"
    assert {t["id"] for t in on_disk["targets"]} >= {"ingestion", "anchor_gas"}
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# vntrace benchmarks")
    text = md.read_text(encoding="utf-8")
    assert "## Targets" in text
    if results["plots"]:  # matplotlib installed (a dev dependency)
        assert set(results["plots"]) == {
            "proof_growth.png",
            "ingestion.png",
            "latency.png",
            "gas.png",
        }
        for name in results["plots"]:
            assert (out / name).stat().st_size > 1000
            assert (md.parent / "docs" / "benchmarks" / name).is_file()
            assert f"(docs/benchmarks/{name})" in text


def test_plots_skip_what_is_missing(tmp_path: Path) -> None:
    assert plots.write_plots({"machine": {}}, tmp_path) == {}


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
    stats = summarize([0.001, 0.002, 0.003, 0.004])
    assert stats["count"] == 4 and stats["max_ms"] == pytest.approx(4.0)
    assert stats["p50_ms"] == pytest.approx(2.5)


def test_budget_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    budget = Budget(10.0)
    assert budget.allows(5.0) and not budget.allows(60.0)
    progress = Progress(120.0)
    progress.say("phase one")
    progress.note("ignored when not a terminal")
    err = capsys.readouterr().err
    assert "phase one" in err and "/ 02:00]" in err and "ignored" not in err
    assert progress.lines and progress.lines[0].endswith("phase one")


def test_cli_dispatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bench", "nonsense"]) == 2
    assert "unknown suite" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["bench", "--help"])
    assert exc.value.code == 0
    assert "--budget" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["bench", "e2e", "--chains", "mainnet"])
    assert "unknown chain" in capsys.readouterr().err


def test_benchmarks_md_only_from_a_checkout() -> None:
    found = suite.checkout_benchmarks_md()
    assert found is None or found.name == "BENCHMARKS.md"


def _page_lot(events: int, html: int, server: float, fcp: float | None) -> dict[str, Any]:
    return {
        "events": events,
        "status": 200,
        "html_bytes": html,
        "server_ms": server,
        "provenance_ms": server / 2,
        "verify_ms": server / 4,
        "verify_records_ms": server * 2,
        "build_ms": 1.0,
        "build_cold_ms": 90.0,
        "render_ms": 1.0,
        **({} if fcp is None else {"fcp_ms": fcp, "load_ms": fcp + 100, "runs": 3}),
    }


def test_page_budget_targets_and_section() -> None:
    results = copy.deepcopy(RESULTS)
    results["page"] = {
        "rounds": 7,
        "throttling": {"latency": 150},
        "lots": {
            "demo": _page_lot(6, 25_000, 12.0, 700.0),
            "coop": _page_lot(999, 70_000, 130.0, 900.0),
        },
    }
    targets = {t["id"]: t for t in summary.evaluate(results)}
    assert targets["page_html"]["met"] is True and targets["page_html"]["measured"] == 68.4
    assert targets["page_server"]["met"] is False and "verifying every record" in (
        targets["page_server"]["bound"]
    )
    assert targets["page_fcp"]["met"] is True
    text = summary.render({**results, "targets": list(targets.values())})
    section = text[text.index("## Consumer page") :]
    assert "| coop | 999 | 68.4 KB | **130.0** |" in section and "| 900 |" in section
    assert "slow 4G" in section
    results["page"]["lots"]["coop"].pop("fcp_ms")
    results["page"]["throttling"] = None
    targets = {t["id"]: t for t in summary.evaluate(results)}
    assert targets["page_fcp"]["verdict"] == "not measured"
    assert "FCP not measured" in summary.render(results)
