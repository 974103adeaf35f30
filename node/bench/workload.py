"""The benchmark's records: ``(lot_key, digest)`` pairs as the node anchors them.

Lot keys are real ones (``keccak256`` of a GS1 Digital Link path, DESIGN "Hashing and
proofs"), ``lot_size`` records per lot in insertion order, so a lot's records are
adjacent leaves and a contiguous run is what a lot's history multiproof proves.
Digests are random: their content does not change the cost of hashing.
"""

from __future__ import annotations

import math
import random

import sha3

GTIN14 = "08934567000017"  # an example GTIN-14 (Vietnam prefix 893)


def lot_key(lot: str, gtin14: str = GTIN14) -> bytes:
    """``keccak256(utf8("/01/{gtin14}/10/{lot}"))``."""
    return sha3.keccak_256(f"/01/{gtin14}/10/{lot}".encode()).digest()


def make_pairs(n: int, lot_size: int = 16, seed: int = 1) -> list[tuple[bytes, bytes]]:
    """``n`` records, ``lot_size`` per lot, deterministic for a given seed."""
    blob = random.Random(seed).randbytes(32 * n)
    lots = [lot_key(f"L{k:07d}") for k in range(-(-n // lot_size))]
    return [(lots[i // lot_size], blob[32 * i : 32 * i + 32]) for i in range(n)]


def max_depth(n: int) -> int:
    """Longest proof in an ``n``-leaf OZ tree (``2n - 1`` nodes in one array)."""
    return 0 if n <= 1 else math.floor(math.log2(2 * n - 2))
