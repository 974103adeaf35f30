"""The benchmark suite (``vntrace bench``): what BENCHMARKS.md is generated from.

- :mod:`.suite`: the whole suite within a time budget, results folder, BENCHMARKS.md;
- :mod:`.e2e` and :mod:`.floor`: a real ``vntrace serve`` over HTTP (embedded chain and
  anvil), and the node's per-record costs in one process that bound it;
- :mod:`.baseline`: the previous release (ce9720f) materialised from git and re-measured
  on issue 17's figures in the same run;
- :mod:`.gas`: gas of anchors and of proof verification on anvil and the embedded chain;
- :mod:`.proofs`: the Merkle engine beside pymerkle and ``@openzeppelin/merkle-tree``
  (:func:`run_proof_bench`, ``vntrace bench proofs``).

See docs/benchmarks.md.
"""

from .proofs import DEFAULT_OUT_DIR, DEFAULT_SIZES, QUICK_SIZES, main, run_proof_bench
from .suite import run_suite

__all__ = [
    "DEFAULT_OUT_DIR",
    "DEFAULT_SIZES",
    "QUICK_SIZES",
    "main",
    "run_proof_bench",
    "run_suite",
]
