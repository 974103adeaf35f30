"""The peers, measured on the same records in the same run as our engine.

- **pymerkle 7** (``InmemoryTree``, sha256, RFC 6962 hashing: not OpenZeppelin's layout,
  so its proofs do not verify on chain; a pure-Python baseline, not an alternative).
- **@openzeppelin/merkle-tree** through ``scripts/js/oz_bench.mjs`` on Node.js: the
  reference implementation the node's proofs must match. It is slow (about 15 s to
  build 100k leaves), so it runs at sizes up to ``peer_max_size`` only, on a time
  budget per operation, and reports per-operation rates.

Each peer is optional: a missing one is reported with the reason, never faked.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ours import Progress
from .timing import Rate, best_rate

REPO_ROOT = Path(__file__).resolve().parents[2]
OZ_BENCH_SCRIPT = REPO_ROOT / "scripts" / "js" / "oz_bench.mjs"
OZ_PACKAGE_DIR = REPO_ROOT / "node_modules" / "@openzeppelin" / "merkle-tree"


@dataclass
class PeerResult:
    """One peer's rates per size and operation (same keys as ours), or why it is absent."""

    name: str
    available: bool
    reason: str | None = None
    version: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    rates: dict[int, dict[str, Rate]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "available": self.available,
            "reason": self.reason,
            "version": self.version,
            "info": self.info,
        }


# -- pymerkle ---------------------------------------------------------------------


def bench_pymerkle(
    pairs: list[tuple[bytes, bytes]], rounds: int, sample: int, progress: Progress
) -> dict[str, Rate]:
    """Append every record (64 bytes, sha256), prove and verify a sample of them."""
    from pymerkle import InmemoryTree, verify_inclusion

    n = len(pairs)
    entries = [a + b for a, b in pairs]
    trees: list[Any] = []

    def build() -> int:
        tree = InmemoryTree(algorithm="sha256")
        for entry in entries:
            tree.append_entry(entry)
        trees[:] = [tree]
        return n

    progress(f"pymerkle n={n}: append")
    rates = {"build": best_rate(build, rounds if n < 100_000 else min(rounds, 2))}
    tree = trees[0]
    root = tree.get_root()
    step = max(1, n // sample)
    indices = list(range(1, n + 1, step))[:sample]  # pymerkle counts leaves from one

    progress(f"pymerkle n={n}: proofs")
    rates["proof_gen"] = best_rate(lambda: len([tree.prove_inclusion(i) for i in indices]), rounds)
    proofs = [tree.prove_inclusion(i) for i in indices]
    leaves = [tree.get_leaf(i) for i in indices]

    def verify() -> int:
        for leaf, proof in zip(leaves, proofs, strict=True):
            verify_inclusion(leaf, root, proof)  # raises InvalidProof when wrong
        return len(proofs)

    rates["verify_leaf"] = best_rate(verify, rounds)
    return rates


def run_pymerkle(
    sets: dict[int, list[tuple[bytes, bytes]]],
    rounds: int,
    sample: int,
    progress: Progress,
    passes: int = 1,
) -> PeerResult:
    """pymerkle at every size, best of ``passes`` passes (as ours)."""
    try:
        version = importlib.metadata.version("pymerkle")
        import pymerkle  # noqa: F401
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        return PeerResult("pymerkle", False, f"pymerkle is not installed ({exc})")
    result = PeerResult(
        "pymerkle",
        True,
        version=version,
        info={"tree": "InmemoryTree", "hash": "sha256", "layout": "RFC 6962 (not OZ)"},
    )
    for _ in range(passes):
        for n, pairs in sets.items():
            best = result.rates.setdefault(n, {})
            for op, rate in bench_pymerkle(pairs, rounds, sample, progress).items():
                if op not in best or rate.per_sec > best[op].per_sec:
                    best[op] = rate
    return result


# -- @openzeppelin/merkle-tree on Node.js ---------------------------------------------

_OZ_KEYS = {
    "build": "build",
    "proof": "proof_gen",
    "verify": "verify_value",
    "verifyLeaf": "verify_leaf",
}


def _oz_rate(entry: dict[str, Any], rounds: int) -> Rate:
    return Rate(float(entry["perSec"]), int(entry["ops"]), float(entry["seconds"]), rounds)


def find_node() -> str | None:
    """``node`` from ``VNTRACE_NODE`` or ``PATH``."""
    return shutil.which(os.environ.get("VNTRACE_NODE") or "node")


def run_oz(
    sizes: list[int], config: dict[str, Any], progress: Progress, timeout: float = 900.0
) -> PeerResult:
    """Run ``oz_bench.mjs`` once for all ``sizes`` (it builds its own random records)."""
    node = find_node()
    if node is None:
        return PeerResult("oz_js", False, "node (Node.js) is not on PATH")
    if not OZ_BENCH_SCRIPT.is_file():
        return PeerResult("oz_js", False, f"{OZ_BENCH_SCRIPT} is missing (needs a source checkout)")
    if not (OZ_PACKAGE_DIR / "package.json").is_file():
        return PeerResult("oz_js", False, "@openzeppelin/merkle-tree is not installed (npm ci)")
    if not sizes:
        return PeerResult("oz_js", False, "no size within the peer size cap")
    progress(f"@openzeppelin/merkle-tree: sizes {sizes} (slow: about 15 s to build 100k)")
    try:
        proc = subprocess.run(
            [node, str(OZ_BENCH_SCRIPT)],
            input=json.dumps({**config, "sizes": sizes}),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return PeerResult("oz_js", False, f"oz_bench.mjs took longer than {timeout:.0f} s")
    if proc.returncode != 0:
        return PeerResult("oz_js", False, f"oz_bench.mjs failed: {proc.stderr.strip()[-500:]}")
    data = json.loads(proc.stdout)
    result = PeerResult(
        "oz_js",
        True,
        version=data["version"],
        info={"node": data["node"], "package": data["peer"], "sortLeaves": False},
    )
    rounds = int(config.get("repeats", 1))
    for entry in data["sizes"]:
        rates = {ours: _oz_rate(entry[theirs], rounds) for theirs, ours in _OZ_KEYS.items()}
        rates["build"] = _oz_rate(entry["build"], 1)  # best of as many as fit buildBudget
        for run, mp in entry["multiproof"].items():
            rates[f"multiproof_{run}_leaf"] = _oz_rate(mp["fromLeaves"], rounds)
            rates[f"multiproof_{run}_value"] = _oz_rate(mp["fromValues"], rounds)
        result.rates[int(entry["size"])] = rates
    return result
