"""``vntrace bench``: the whole benchmark suite, or one of its suites.

``vntrace bench`` runs, within a time budget (``--budget``, 12 minutes by default;
``--quick`` is CI-sized), with a progress display:

1. ``chain``: gas on anvil and on the embedded chain (:mod:`.gas`);
2. ``e2e``: the node's per-record costs in one process (:mod:`.floor`), the public tree
   build on hex values, then a real ``vntrace serve`` over HTTP on the embedded chain
   and on anvil (:mod:`.e2e`); after the embedded run, the previous release
   (:mod:`.baseline`, commit ce9720f) re-measured on the same figures (on by default,
   off in quick runs unless ``--baseline``);
3. ``proofs``: the proof engine with its peers (:mod:`.proofs`, one pass);
4. ``page``: the consumer page of the demo lot and of a 999-event cooperative lot,
   server time and size, and first contentful paint in headless Chromium on a throttled
   mobile profile when Chromium and Playwright are there (:mod:`.page`).

It writes ``results.json``, ``report.md`` and the PNG plots to one folder (default
``results/bench/``, the proof suite's own files in ``proofs/``) and, from a source
checkout (or with ``--benchmarks-md PATH``), rewrites ``BENCHMARKS.md`` with the report
and copies the plots to ``docs/benchmarks/`` beside it; a ``--quick`` run does so only
when given the path.

``vntrace bench e2e|chain|proofs`` runs one suite into ``results/bench/<suite>/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import baseline, e2e, floor, gas, machine, peers, plots, summary
from .procs import REPO_ROOT, AnvilProcess, anvil_binary
from .progress import Budget, Progress

DEFAULT_OUT = Path("results/bench")
FULL_BUDGET = 720.0
QUICK_BUDGET = 240.0
IMAGES_DIR = Path("docs") / "benchmarks"
SUITES = ("chain", "e2e", "proofs", "page")
# Seconds each part needs at least (full, quick): below that it is skipped, not cut short.
NEEDS = {
    "chain": (20.0, 8.0),
    "embedded": (90.0, 25.0),
    "anvil": (70.0, 25.0),
    "baseline": (90.0, 30.0),
    "proofs": (60.0, 15.0),
    "page": (60.0, 25.0),
}


def checkout_benchmarks_md() -> Path | None:
    """``BENCHMARKS.md`` at the root of the source checkout this code runs from, if any."""
    if (REPO_ROOT / ".git").exists() and (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT / "BENCHMARKS.md"
    return None


def _anvil_version() -> str | None:
    binary = anvil_binary()
    if binary is None:
        return None
    try:
        return AnvilProcess(binary).version()
    except OSError:
        return None


def _base_results(quick: bool, budget: float, suites: Sequence[str]) -> dict[str, Any]:
    return {
        "schema": "vntrace.bench.suite/1",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {"quick": quick, "budget_seconds": budget, "suites": list(suites)},
        "machine": machine.describe_full(peers.find_node()),
        "anvil": _anvil_version(),
        "skipped": {},
    }


def run_suite(
    out_dir: Path = DEFAULT_OUT,
    *,
    quick: bool = False,
    budget: float | None = None,
    suites: Sequence[str] = SUITES,
    chains: Sequence[str] = e2e.CHAINS,
    with_js: bool = True,
    benchmarks_md: Path | None = None,
    progress: Progress | None = None,
    proof_sizes: Sequence[int] | None = None,
    with_baseline: bool | None = None,
    baseline_cache: Path | None = None,
) -> dict[str, Any]:
    """Run ``suites`` within ``budget`` seconds; write the results folder (and
    ``benchmarks_md`` with its plots, when given). Returns the results.

    ``with_baseline`` (default: on in full runs, off in quick ones) re-measures the
    previous release after the embedded run, in its cache (``baseline_cache``)."""
    if with_baseline is None:
        with_baseline = not quick
    budget = budget or (QUICK_BUDGET if quick else FULL_BUDGET)
    clock = Budget(budget)
    say = progress or Progress(budget, quiet=True)
    scale = min(1.0, budget / (QUICK_BUDGET if quick else FULL_BUDGET))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = _base_results(quick, budget, suites)
    need = 1 if quick else 0

    def fits(part: str) -> bool:
        wanted = NEEDS[part][need] * scale
        if clock.allows(wanted):
            return True
        results["skipped"][part] = (
            f"{clock.left():.0f} s of the {budget:.0f} s budget left, it needs about {wanted:.0f} s"
        )
        say.say(f"{part}: skipped, the budget is spent")
        return False

    if "chain" in suites and fits("chain"):
        results["chain"] = gas.run_gas(quick, say.say, work_dir=None)
    if "e2e" in suites:
        say.say("e2e: per-record costs in one process (no HTTP)")
        data: dict[str, Any] = {"schema": "vntrace.bench.e2e/1", "chains": {}}
        data["floor"] = floor.measure_floor(quick)
        say.say("e2e: StandardMerkleTree.of with hex values (public API)")
        data["tree_hex"] = baseline.measure_tree_hex(None, quick)
        for chain in chains:
            if fits(chain):
                one = e2e.run_e2e((chain,), quick, say.say, say.note, scale)
                data["chains"].update(one["chains"])
            if chain == "embedded" and with_baseline:
                data["baseline"] = _baseline(quick, scale, say, baseline_cache, fits)
        if with_baseline and "baseline" not in data:
            data["baseline"] = _baseline(quick, scale, say, baseline_cache, fits)
        results["e2e"] = data
    if "proofs" in suites and fits("proofs"):
        from .proofs import run_proof_bench

        results["proofs"] = run_proof_bench(
            proof_sizes,
            out_dir / "proofs",
            quick=quick or scale < 0.5,
            progress=say.say,
            with_js=with_js,
            passes=1,
        )
    if "page" in suites and fits("page"):
        from . import page

        say.say("page: the consumer page of a small and a 999-event lot")
        browser = not quick and page.browser_available()
        results["page"] = page.run(rounds=3 if quick else page.ROUNDS, browser=browser)
    return finish(results, out_dir, clock, benchmarks_md, say)


def _baseline(
    quick: bool,
    scale: float,
    say: Progress,
    cache: Path | None,
    fits: Callable[[str], bool],
) -> dict[str, Any]:
    """The previous release's figures, or why they were not measured."""
    if not fits("baseline"):
        return {"commit": baseline.BASELINE_COMMIT, "error": "skipped: the budget is spent"}
    return baseline.run_baseline(quick, say.say, scale, cache_dir=cache)


def finish(
    results: dict[str, Any],
    out_dir: Path,
    clock: Budget,
    benchmarks_md: Path | None,
    say: Progress,
) -> dict[str, Any]:
    """Judge the targets, draw the plots, write the files."""
    results["targets"] = summary.evaluate(results)
    if results.get("e2e"):
        results["issue17"] = summary.issue17(results)
    results["elapsed_seconds"] = clock.elapsed
    results["load_average_end"] = machine.load_average()
    results["plots"] = plots.write_plots(results, out_dir)
    files = {"json": out_dir / "results.json", "markdown": out_dir / "report.md"}
    results["files"] = {k: str(v) for k, v in files.items()}
    if benchmarks_md is not None:
        results["files"]["benchmarks_md"] = str(benchmarks_md)
    files["markdown"].write_text(summary.render(results, images="."), encoding="utf-8")
    files["json"].write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    if benchmarks_md is not None:
        write_benchmarks_md(results, out_dir, Path(benchmarks_md))
    say.say(f"done in {clock.elapsed / 60:.1f} min: {files['markdown']}")
    return results


def write_benchmarks_md(results: dict[str, Any], out_dir: Path, path: Path) -> Path:
    """The report as ``path``, its plots copied to ``docs/benchmarks/`` beside it."""
    images = path.parent / IMAGES_DIR
    if results.get("plots"):
        images.mkdir(parents=True, exist_ok=True)
        for name in results["plots"]:
            shutil.copyfile(out_dir / name, images / name)
    path.write_text(summary.render(results, images=IMAGES_DIR.as_posix()), encoding="utf-8")
    return path


# -- command line -----------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, out: Path) -> None:
    parser.add_argument("--quick", action="store_true", help="CI-sized run (tiny sizes)")
    parser.add_argument("--out", type=Path, default=out, help=f"results folder ({out})")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vntrace bench",
        description="The benchmark suite: gas on chain, the node end to end over HTTP "
        "(embedded chain and anvil), the proof engine with its peers. Writes JSON, a "
        "Markdown report and PNG plots; from a checkout it rewrites BENCHMARKS.md. "
        "One suite: vntrace bench e2e|chain|proofs (proofs: see vntrace bench proofs -h).",
    )
    _common(parser, DEFAULT_OUT)
    parser.add_argument(
        "--budget",
        type=float,
        help=f"seconds the run may take ({FULL_BUDGET:.0f}; quick {QUICK_BUDGET:.0f}): timed "
        "phases shrink to fit and parts that no longer fit are skipped",
    )
    parser.add_argument(
        "--benchmarks-md",
        type=Path,
        help="write the report here too (default: BENCHMARKS.md of the checkout, full runs only)",
    )
    parser.add_argument(
        "--no-benchmarks-md", action="store_true", help="do not rewrite BENCHMARKS.md"
    )
    parser.add_argument("--no-anvil", action="store_true", help="skip the anvil runs")
    parser.add_argument("--no-js", action="store_true", help="skip @openzeppelin/merkle-tree")
    _baseline_flag(parser)
    return parser


def _baseline_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"re-measure the previous release ({baseline.BASELINE_COMMIT}) in the same run "
        "(default: on, off with --quick)",
    )


def _progress(args: argparse.Namespace, budget: float | None) -> Progress:
    return Progress(budget, quiet=args.quiet)


def _print_targets(results: dict[str, Any]) -> None:
    print("\n".join(summary.targets_section(results.get("targets") or [])))
    if results.get("issue17"):
        print("\n".join(["", "Issue 17 figures:", *summary.issue17_section(results["issue17"])]))
    for kind, path in results.get("files", {}).items():
        print(f"{kind}: {path}")


def main_suite(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    budget = args.budget or (QUICK_BUDGET if args.quick else FULL_BUDGET)
    md = None
    if not args.no_benchmarks_md:  # a quick run never replaces the published figures
        md = args.benchmarks_md or (None if args.quick else checkout_benchmarks_md())
    results = run_suite(
        args.out,
        quick=args.quick,
        budget=budget,
        chains=("embedded",) if args.no_anvil else e2e.CHAINS,
        with_js=not args.no_js,
        benchmarks_md=md,
        progress=_progress(args, budget),
        with_baseline=args.baseline,
    )
    _print_targets(results)
    return 0


def main_e2e(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vntrace bench e2e",
        description="The node end to end over HTTP (a real vntrace serve) on the embedded "
        "chain and on anvil, with the per-record costs that bound it.",
    )
    _common(parser, DEFAULT_OUT / "e2e")
    parser.add_argument("--chains", default=",".join(e2e.CHAINS), help="embedded,anvil")
    parser.add_argument("--budget", type=float, help="seconds the run may take")
    _baseline_flag(parser)
    args = parser.parse_args(argv)
    chains = tuple(c for c in args.chains.split(",") if c)
    unknown = set(chains) - set(e2e.CHAINS)
    if unknown:
        parser.error(f"unknown chain(s): {', '.join(sorted(unknown))}")
    budget = args.budget or (QUICK_BUDGET if args.quick else FULL_BUDGET)
    results = run_suite(
        args.out,
        quick=args.quick,
        budget=budget,
        suites=("e2e",),
        chains=chains,
        progress=_progress(args, budget),
        with_baseline=args.baseline,
    )
    _print_targets(results)
    return 0


def main_chain(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vntrace bench chain",
        description="Gas of the registry: anchors per epoch size, single proofs and "
        "multiproofs per verified leaf, on anvil and on the embedded chain.",
    )
    _common(parser, DEFAULT_OUT / "chain")
    args = parser.parse_args(argv)
    results = run_suite(
        args.out,
        quick=args.quick,
        suites=("chain",),
        progress=_progress(args, None),
    )
    _print_targets(results)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``vntrace bench [SUITE] ...``: the whole suite, or ``e2e``, ``chain``, ``proofs``."""
    args = list(sys.argv[1:] if argv is None else argv)
    suite = args[0] if args and not args[0].startswith("-") else None
    rest = args[1:] if suite else args
    if suite == "proofs":
        from .proofs import main as proofs_main

        return proofs_main(rest)
    if suite == "e2e":
        return main_e2e(rest)
    if suite == "chain":
        return main_chain(rest)
    if suite is not None:
        print(f"vntrace bench: unknown suite {suite!r} (e2e, chain, proofs)", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        return main_suite(rest)
    except KeyboardInterrupt:
        print(f"interrupted after {time.monotonic() - started:.0f} s", file=sys.stderr)
        return 130
