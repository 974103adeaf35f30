"""Our engine on the benchmark workload: each operation as the node performs it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from vntrace.node.merkle import (
    PAIR_ENCODING,
    BatchVerifier,
    StandardMerkleTree,
    pair_leaf_hash,
    verify_multiproof,
    verify_proof,
)
from vntrace.node.merkle.parallel import default_workers, hash_pair_leaves

from .timing import Rate, best_rate, repeats_for

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Settings:
    """How much work each measurement does (``quick`` shrinks all of it)."""

    rounds: int = 5
    build_rounds: int = 3
    sample: int = 10_000  # proofs per round for proof generation and verification
    round_seconds: float = 0.05  # target length of one multiproof round
    multiproof_runs: tuple[int, ...] = (64, 1024)


def _fail(what: str) -> None:
    raise AssertionError(f"benchmark self-check failed: {what}")


def bench_ours(
    pairs: list[tuple[bytes, bytes]], settings: Settings, progress: Progress, label: str = "ours"
) -> tuple[dict[str, Rate], dict[str, float]]:
    """Rates per operation, and facts about the proofs (mean length)."""
    n = len(pairs)
    rates: dict[str, Rate] = {}
    build_rounds = settings.build_rounds if n < 1_000_000 else min(settings.build_rounds, 2)

    progress(f"{label} n={n}: build")
    hash_pair_leaves(pairs[:64], workers=default_workers())  # warm up outside the timing
    trees: list[StandardMerkleTree] = []

    def build(workers: int | None) -> Callable[[], int]:
        def run() -> int:
            trees[:] = [StandardMerkleTree.of(pairs, PAIR_ENCODING, False, workers=workers)]
            return n

        return run

    rates["build_1core"] = best_rate(build(1), build_rounds)
    rates["build"] = best_rate(build(None), build_rounds)
    tree = trees[0]
    root = tree.root

    rnd = random.Random(n)
    sample = [rnd.randrange(n) for _ in range(min(n, settings.sample))]
    get_proof = tree.get_proof
    progress(f"{label} n={n}: proofs")
    rates["proof_gen"] = best_rate(lambda: len([get_proof(i) for i in sample]), settings.rounds)
    proofs = [get_proof(i) for i in sample]
    leaves = [tree.leaf_hash_at(i) for i in sample]
    records = [pairs[i] for i in sample]
    mean_len = sum(map(len, proofs)) / len(proofs)

    def verify_leaves() -> int:
        for leaf, proof in zip(leaves, proofs, strict=True):
            if not verify_proof(root, leaf, proof):
                _fail("verify_proof")
        return len(proofs)

    def verify_records() -> int:
        for (lot, digest), proof in zip(records, proofs, strict=True):
            if not verify_proof(root, pair_leaf_hash(lot, digest), proof):
                _fail("verify_proof from record")
        return len(proofs)

    def verify_batch() -> int:
        verifier = BatchVerifier(root)
        for leaf, proof in zip(leaves, proofs, strict=True):
            if not verifier.verify(leaf, proof):
                _fail("BatchVerifier")
        return len(proofs)

    progress(f"{label} n={n}: verify")
    rates["verify_leaf"] = best_rate(verify_leaves, settings.rounds)
    rates["verify_value"] = best_rate(verify_records, settings.rounds)
    rates["verify_batch"] = best_rate(verify_batch, settings.rounds)

    for run in settings.multiproof_runs:
        if run > n:
            continue
        progress(f"{label} n={n}: multiproof of {run}")
        start = (n - run) // 2
        mp = tree.get_multiproof(range(start, start + run))
        # The proof consumes leaves in descending tree index, which in an unsorted tree
        # is ascending record order: hash records in it, as a verifier holding them would.
        ordered = pairs[start : start + run]
        if [pair_leaf_hash(a, b) for a, b in ordered] != mp.leaf_hashes:
            _fail("multiproof leaf order")

        def from_leaves(mp=mp) -> None:
            if not verify_multiproof(root, mp.leaf_hashes, mp.proof, mp.proof_flags):
                _fail("verify_multiproof")

        def from_records(mp=mp, ordered=ordered) -> None:
            hashes = [pair_leaf_hash(a, b) for a, b in ordered]
            if not verify_multiproof(root, hashes, mp.proof, mp.proof_flags):
                _fail("verify_multiproof from records")

        for key, fn in (
            (f"multiproof_{run}_leaf", from_leaves),
            (f"multiproof_{run}_value", from_records),
        ):
            reps = repeats_for(fn, settings.round_seconds)

            def round_(fn=fn, reps=reps, run=run) -> int:
                for _ in range(reps):
                    fn()
                return reps * run

            rates[key] = best_rate(round_, settings.rounds)
    return rates, {"mean_proof_length": mean_len}
