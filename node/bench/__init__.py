"""Proof benchmark of the Merkle engine, with its peers measured in the same run.

``vntrace bench proofs`` runs :func:`run_proof_bench`: tree build, proof generation,
single, batch and multiproof verification at 1k..1M leaves of the node's
``(lot_key, digest)`` records, beside pymerkle 7 and ``@openzeppelin/merkle-tree``
(through Node.js), plus raw keccak-256 as the physical bound. It writes
``results.json``, ``report.md`` (and a plot when matplotlib is installed).
"""

from .proofs import DEFAULT_OUT_DIR, DEFAULT_SIZES, QUICK_SIZES, main, run_proof_bench

__all__ = ["DEFAULT_OUT_DIR", "DEFAULT_SIZES", "QUICK_SIZES", "main", "run_proof_bench"]
