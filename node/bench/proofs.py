"""``vntrace bench proofs``: run the proof benchmark and write its report.

Ours first at every size, then pymerkle, then @openzeppelin/merkle-tree: one at a time,
so the peers never share the two cores with each other. ``quick`` shrinks the sizes and
the work per measurement to CI scale (well under 30 s); the full run takes a few minutes,
most of it in the JavaScript peer.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vntrace.node.merkle import accel, parallel

from . import machine, peers, report
from .ours import Settings, bench_ours
from .targets import evaluate
from .timing import keccak_reference
from .workload import make_pairs, max_depth

DEFAULT_SIZES: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES: tuple[int, ...] = (1_000, 10_000)
DEFAULT_OUT_DIR = Path("results/bench/proofs")
PEER_MAX_SIZE = 100_000
QUICK_PEER_MAX_SIZE = 10_000
LOT_SIZE = 16

FULL = {
    "passes": 2,
    "settings": Settings(),
    "keccak": (200_000, 5),
    "pymerkle": (3, 5_000),  # rounds, sample
    "oz": {"budget": 0.6, "repeats": 3, "buildBudget": 2.0},
}
QUICK = {
    "passes": 1,
    "settings": Settings(rounds=2, build_rounds=2, sample=2_000, round_seconds=0.02),
    "keccak": (50_000, 3),
    "pymerkle": (2, 500),
    "oz": {"budget": 0.12, "repeats": 2, "buildBudget": 0.3},
}


_ACCEL_THRESHOLD: int = parallel.ACCEL_PARALLEL_THRESHOLD
ENGINE_LABELS = {"ours": "ours", "ours_py": "ours, pure Python"}


def engine_variants() -> list[tuple[str, bool]]:
    """``(key, accelerated)``: the engine as installed, plus pure Python if that differs.

    With the C accelerator built, the pure-Python engine (what an install without a C
    compiler runs) is measured too, so both stay visible.
    """
    default = accel.enabled()
    variants = [("ours", default)]
    if default:
        variants.append(("ours_py", False))
    return variants


def _notes(cfg: dict[str, Any], mode: dict[str, Any]) -> list[str]:
    s: Settings = mode["settings"]
    return [
        "Records are (lot_key, digest) bytes32 pairs, 16 per lot, in insertion order "
        "(OZ sortLeaves false), as the node anchors them; leaves are OZ StandardMerkleTree "
        "leaves for [bytes32, bytes32].",
        f"Each figure is the best of several rounds ({s.rounds} for ours, "
        f"{s.build_rounds} builds, 2 at 1M) timed with time.perf_counter, over "
        f"{mode['passes']} pass(es) over all sizes for ours and pymerkle (one for OZ, whose "
        "runs take a minute); the garbage collector runs between rounds and stays enabled "
        "within them. The machine is shared: figures move by tens of percent between runs.",
        f"Proof generation and single/batch verification use min(n, {s.sample:,}) leaves "
        "drawn at random (with replacement) per round; multiproofs prove a run of "
        "adjacent records (one lot's history is such a run) in the middle of the tree.",
        "'leaf hash given' rows start from the leaf hash (what the depth bound counts: one "
        "keccak per level); 'from (lot, digest)' / 'records' rows also hash the leaves "
        "(two more keccak calls each), as OZ's public verify functions do.",
        "Build 'all cores' hashes the leaves of big trees on every core with the C "
        f"accelerator's threads (from {_ACCEL_THRESHOLD:,} leaves); without it the "
        "default stays on one core, since worker processes did not pay for themselves on "
        "2 cores. The peer ratios in the targets use our one-core build, the peers being "
        "single-threaded.",
        "@openzeppelin/merkle-tree runs on Node.js on its own random records of the same "
        f"shape, at sizes up to {cfg['peer_max_size']:,}, each operation on a time budget "
        f"({mode['oz']['budget']} s, best of {mode['oz']['repeats']}); 'leaf hash given' "
        "rows call its internal processProof / processMultiProof, the others its public "
        "static verify / verifyMultiProof. getProof re-verifies each proof (OZ's design).",
        "pymerkle 7 (InmemoryTree, sha256) follows RFC 6962, not OZ's layout: its proofs "
        "would not verify on chain. It appends the 64-byte records; its verify starts "
        "from the leaf hash.",
        "Ratios are ours/peer from the same run. The depth bound is raw keccak calls/s "
        "(sha3.keccak_256 called from Python) divided by the mean proof length of the "
        "sample; the C accelerator hashes without a Python call per node, so it can beat "
        "that bound, which then only speaks for the pure-Python engine.",
        "'ours' is the engine as installed (with its C accelerator when built); 'ours, "
        "pure Python' is the same engine with the accelerator switched off.",
    ]


def _measure_ours(
    sizes: list[int],
    engines: list[tuple[str, bool]],
    mode: dict[str, Any],
    cap: int,
    say: Callable[[str], None],
) -> tuple[list[dict[str, Any]], dict[int, list[tuple[bytes, bytes]]]]:
    """Our rates per size and engine; also the records the peers will reuse (n <= cap).

    With ``passes`` > 1 every size is measured again after all the others, and the best
    of the passes is kept: on a shared machine a neighbour's burst can spoil all rounds
    of one pass, rarely those of two passes minutes apart.
    """
    settings: Settings = mode["settings"]
    entries = {n: {"size": n, "depth": max_depth(n), "ops": {}} for n in sizes}
    peer_sets: dict[int, list[tuple[bytes, bytes]]] = {}
    for pass_no in range(mode["passes"]):
        for n in sizes:
            pairs = make_pairs(n, LOT_SIZE, seed=n)
            entry: dict[str, Any] = entries[n]
            for who, accelerated in engines:
                label = f"{ENGINE_LABELS[who]} (pass {pass_no + 1})"
                previous = accel.set_enabled(accelerated)
                try:
                    rates, facts = bench_ours(pairs, settings, say, label=label)
                finally:
                    accel.set_enabled(previous)
                entry.setdefault("mean_proof_length", facts["mean_proof_length"])
                for op, rate in rates.items():
                    cell = entry["ops"].setdefault(op, {})
                    if who not in cell or rate.per_sec > cell[who]["per_sec"]:
                        cell[who] = rate.to_json()
            if n <= cap:
                peer_sets[n] = pairs
    return list(entries.values()), peer_sets


def _measure_peers(
    sizes: list[int],
    peer_sets: dict[int, list[tuple[bytes, bytes]]],
    mode: dict[str, Any],
    cap: int,
    with_js: bool,
    with_pymerkle: bool,
    say: Callable[[str], None],
) -> list[peers.PeerResult]:
    """pymerkle, then OpenZeppelin's library (one after the other: two cores only)."""
    out: list[peers.PeerResult] = []
    if with_pymerkle:
        rounds, sample = mode["pymerkle"]
        out.append(peers.run_pymerkle(peer_sets, rounds, sample, say, passes=mode["passes"]))
    else:
        out.append(peers.PeerResult("pymerkle", False, "disabled (--no-pymerkle)"))
    settings: Settings = mode["settings"]
    oz_config = {
        **mode["oz"],
        "multiproofRuns": list(settings.multiproof_runs),
        "lotSize": LOT_SIZE,
    }
    if with_js:
        out.append(peers.run_oz([n for n in sizes if n <= cap], oz_config, say))
    else:
        out.append(peers.PeerResult("oz_js", False, "disabled (--no-js)"))
    return out


def _merge(
    entries: list[dict[str, Any]], columns: list[str], peer_results: list[peers.PeerResult]
) -> None:
    """Put the peers' rates beside ours; every cell gets every column (``None`` if absent)."""
    for peer in peer_results:
        for entry in entries:
            for op, rate in peer.rates.get(entry["size"], {}).items():
                entry["ops"].setdefault(op, {})[peer.name] = rate.to_json()
    for entry in entries:
        for cell in entry["ops"].values():
            for column in columns:
                cell.setdefault(column, None)


def run_proof_bench(
    sizes: Sequence[int] | None = None,
    out_dir: str | Path = DEFAULT_OUT_DIR,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
    *,
    peer_max_size: int | None = None,
    with_js: bool = True,
    with_pymerkle: bool = True,
    passes: int | None = None,
) -> dict[str, Any]:
    """Measure, write ``results.json`` / ``report.md`` (/ ``proofs.png``) and return results.

    ``sizes`` defaults to 1k..1M (1k, 10k with ``quick``). Peers run at sizes up to
    ``peer_max_size`` (100k; 10k with ``quick``). ``passes`` overrides the number of
    passes over all sizes (2 full, 1 quick): the whole suite runs one to save time.
    """
    say = progress or (lambda _msg: None)
    mode = QUICK if quick else FULL
    if passes is not None:
        mode = {**mode, "passes": max(1, passes)}
    sizes = sorted(set(sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)))
    if not sizes or sizes[0] < 1:
        raise ValueError("sizes must be positive")
    cap = (
        peer_max_size
        if peer_max_size is not None
        else (QUICK_PEER_MAX_SIZE if quick else PEER_MAX_SIZE)
    )
    config = {
        "sizes": sizes,
        "quick": quick,
        "peer_max_size": cap,
        "lot_size": LOT_SIZE,
        "passes": mode["passes"],
    }
    started = time.perf_counter()

    # The reference is taken before and after our runs (the machine's speed drifts);
    # the best is kept, so the bound it gives is the stricter one.
    say("raw keccak-256 reference")
    keccak_samples = [keccak_reference(*mode["keccak"])]

    engines = engine_variants()
    entries, peer_sets = _measure_ours(sizes, engines, mode, cap, say)
    keccak_samples.append(keccak_reference(*mode["keccak"]))
    keccak = max(keccak_samples, key=lambda r: r.per_sec)
    for entry in entries:
        mean_len = entry["mean_proof_length"]
        entry["bound_verify_per_sec"] = keccak.per_sec / mean_len if mean_len else None

    peer_results = _measure_peers(sizes, peer_sets, mode, cap, with_js, with_pymerkle, say)
    peer_sets.clear()
    _merge(entries, [who for who, _ in engines] + [p.name for p in peer_results], peer_results)

    results: dict[str, Any] = {
        "schema": "vntrace.bench.proofs/1",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config,
        "machine": machine.describe(peers.find_node()),
        "reference": {
            "keccak64": keccak.to_json(),
            "keccak64_samples": [r.per_sec for r in keccak_samples],
        },
        "engine": {
            "accelerator_available": accel.available(),
            "variants": {who: ENGINE_LABELS[who] for who, _ in engines},
        },
        "peers": {p.name: p.to_json() for p in peer_results},
        "sizes": entries,
    }
    results["notes"] = _notes(config, mode)
    results["targets"] = evaluate(results, "ours")
    if any(who == "ours_py" for who, _ in engines):
        results["targets_pure_python"] = evaluate(results, "ours_py")
    results["elapsed_seconds"] = time.perf_counter() - started
    results["files"] = report.write_outputs(results, Path(out_dir))
    return results


def parse_sizes(text: str) -> list[int]:
    """``"1k,10k,1M"`` or ``"1000,10000"`` to ints."""
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        factor = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        out.append(int(float(part.rstrip("km")) * factor))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vntrace bench proofs",
        description="Benchmark Merkle proofs (build, prove, verify) against pymerkle and "
        "@openzeppelin/merkle-tree; writes results.json and report.md.",
    )
    parser.add_argument("--sizes", type=parse_sizes, help="leaf counts, e.g. 1k,10k,100k,1M")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="output folder")
    parser.add_argument("--quick", action="store_true", help="CI-sized run (< 30 s)")
    parser.add_argument("--peer-max-size", type=int, help="largest size the peers run at")
    parser.add_argument("--no-js", action="store_true", help="skip @openzeppelin/merkle-tree")
    parser.add_argument("--no-pymerkle", action="store_true", help="skip pymerkle")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def progress(msg: str) -> None:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    results = run_proof_bench(
        args.sizes,
        args.out,
        quick=args.quick,
        progress=None if args.quiet else progress,
        peer_max_size=args.peer_max_size,
        with_js=not args.no_js,
        with_pymerkle=not args.no_pymerkle,
    )
    print(report.targets_table(results["targets"]))
    print()
    print(report.results_table(results))
    print()
    for kind, path in results["files"].items():
        print(f"{kind}: {path}")
    print(f"elapsed: {results['elapsed_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
