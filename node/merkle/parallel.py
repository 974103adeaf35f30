"""Leaf hashing for large trees on several cores.

Hashing the leaves is two thirds of building a tree (two keccak calls per leaf against
one per internal node), and each leaf is independent, so big batches are split across
cores. With the C accelerator, threads do it (the accelerator releases the GIL). Without
it, worker processes do: work crosses the process boundary as one contiguous ``bytes``
blob each way (64 bytes per pair in, 32 per leaf out), a memcpy rather than pickling a
million small objects, and workers come from a ``forkserver`` context, safe to use from
a process that already runs threads (the node's server and anchoring loop).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import sha3

from . import accel

ACCEL_PARALLEL_THRESHOLD = 20_000
"""Below this many leaves one thread is as fast: the accelerator's threads start in µs."""

_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def hash_pair_blob(blob: bytes) -> bytes:
    """Leaf hashes of concatenated 64-byte ``(a, b)`` pairs, concatenated (worker side)."""
    k = sha3.keccak_256
    view = memoryview(blob)
    return b"".join(k(k(view[i : i + 64]).digest()).digest() for i in range(0, len(blob), 64))


def _hash_pairs_inline(pairs: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
    k = sha3.keccak_256
    return [k(k(a + b).digest()).digest() for a, b in pairs]


def _hash_pairs_accel(
    pair_leaves: Callable[[bytes], bytes], pairs: Sequence[tuple[bytes, bytes]], workers: int
) -> list[bytes]:
    return _hash_blob_accel(pair_leaves, b"".join([a + b for a, b in pairs]), workers)


def _hash_blob_accel(
    pair_leaves: Callable[[bytes], bytes], blob: bytes, workers: int
) -> list[bytes]:
    n = len(blob) // 64
    if workers <= 1 or n < 2 * workers:
        out = pair_leaves(blob)
    else:
        share = -(-n // workers) * 64
        chunks = [blob[i : i + share] for i in range(0, len(blob), share)]
        with ThreadPoolExecutor(max_workers=len(chunks)) as ex:
            out = b"".join(ex.map(pair_leaves, chunks))
    return [out[i : i + 32] for i in range(0, len(out), 32)]


def hash_pair_blob_leaves(blob: bytes, workers: int | None = None) -> list[bytes]:
    """Like :func:`hash_pair_leaves` over pairs already concatenated (64 bytes each)."""
    if len(blob) % 64:
        raise ValueError("a pair blob is a whole number of 64-byte pairs")
    c = accel.get()
    n = len(blob) // 64
    if c is None:
        out = hash_pair_blob(blob)
        return [out[i : i + 32] for i in range(0, len(out), 32)]
    if workers is None:
        workers = default_workers() if n >= ACCEL_PARALLEL_THRESHOLD else 1
    return _hash_blob_accel(c.pair_leaves, blob, workers)


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _get_pool(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < size:
        if _pool is not None:
            _pool.shutdown()
        ctx = multiprocessing.get_context("forkserver")
        _pool = ProcessPoolExecutor(max_workers=size, mp_context=ctx)
        _pool_size = size
    return _pool


@atexit.register
def shutdown_pool() -> None:
    """Stop the worker processes (also called at interpreter exit)."""
    global _pool, _pool_size
    if _pool is not None:
        _pool.shutdown(cancel_futures=True)
        _pool, _pool_size = None, 0


def hash_pair_leaves(
    pairs: Sequence[tuple[bytes, bytes]], workers: int | None = None
) -> list[bytes]:
    """Leaf hashes ``keccak256(keccak256(a || b))`` of many pairs, on several cores if big.

    ``workers=None`` uses every available core with the C accelerator once the batch
    passes :data:`ACCEL_PARALLEL_THRESHOLD`, and one otherwise; ``workers=1`` always
    hashes in this process; ``workers=N`` forces N (processes in pure Python).
    """
    n = len(pairs)
    c = accel.get()
    if workers is None:
        # Measured on 2 cores: worker processes do not pay for themselves in pure
        # Python (copying in and out costs what the second core saves), so automatic
        # parallelism is for the accelerator's threads only; pass workers to force it.
        workers = default_workers() if c is not None and n >= ACCEL_PARALLEL_THRESHOLD else 1
    if c is not None:
        return _hash_pairs_accel(c.pair_leaves, pairs, workers)
    if workers <= 1 or n < 2 * workers:
        return _hash_pairs_inline(pairs)
    # This process hashes one share itself while the pool hashes the others.
    share = -(-n // workers)
    pool = _get_pool(workers - 1)
    futures = [
        pool.submit(hash_pair_blob, b"".join(a + b for a, b in pairs[start : start + share]))
        for start in range(share, n, share)
    ]
    out = _hash_pairs_inline(pairs[:share])
    for fut in futures:
        blob = fut.result()
        out.extend(blob[i : i + 32] for i in range(0, len(blob), 32))
    return out
