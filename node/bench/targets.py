"""The benchmark's targets, judged on the figures of one run.

Peer ratios are taken conservatively: our single-core build against the peers'
single-threaded builds, and the worst ratio over every operation and size measured.
"""

from __future__ import annotations

from typing import Any

TARGET_DEPTH = 17
OZ_RATIO = 10.0

# Our operations and the peer operation each one is compared with. OZ's public API
# (build, getProof, static verify / verifyMultiProof, which hash the values) is what
# its users run; its internal hash-given functions are compared separately.
OZ_COMPARED = {
    "build_1core": "build",
    "proof_gen": "proof_gen",
    "verify_value": "verify_value",
    "multiproof_64_value": "multiproof_64_value",
    "multiproof_1024_value": "multiproof_1024_value",
}
OZ_CORE_COMPARED = {
    "verify_leaf": "verify_leaf",
    "multiproof_64_leaf": "multiproof_64_leaf",
    "multiproof_1024_leaf": "multiproof_1024_leaf",
}
PYMERKLE_COMPARED = {"build_1core": "build", "proof_gen": "proof_gen", "verify_leaf": "verify_leaf"}


def _per_sec(entry: dict[str, Any], who: str, op: str) -> float | None:
    rate = entry["ops"].get(op, {}).get(who)
    return None if rate is None else float(rate["per_sec"])


def _target(
    key: str, label: str, threshold: float, measured: float | None, unit: str, where: str
) -> dict[str, Any]:
    met = None if measured is None else measured >= threshold
    margin = None if measured is None else measured / threshold
    return {
        "id": key,
        "label": label,
        "threshold": threshold,
        "unit": unit,
        "measured": measured,
        "met": met,
        "margin": margin,
        "where": where,
    }


def _size_at_depth(sizes: list[dict[str, Any]], depth: int) -> dict[str, Any] | None:
    if not sizes:
        return None
    return min(sizes, key=lambda s: (abs(s["depth"] - depth), -s["size"]))


def _worst_ratio(
    sizes: list[dict[str, Any]], who: str, peer: str, compared: dict[str, str]
) -> tuple[float, str] | None:
    worst: tuple[float, str] | None = None
    for entry in sizes:
        for ours_op, peer_op in compared.items():
            ours = _per_sec(entry, who, ours_op)
            theirs = _per_sec(entry, peer, peer_op)
            if ours is None or theirs is None or theirs <= 0:
                continue
            ratio = ours / theirs
            if worst is None or ratio < worst[0]:
                worst = (ratio, f"{ours_op} at n={entry['size']:,}")
    return worst


def evaluate(results: dict[str, Any], who: str = "ours") -> list[dict[str, Any]]:
    """Targets of engine ``who`` with met/missed and the margin (measured / threshold)."""
    sizes = results["sizes"]
    out = []
    largest = max(sizes, key=lambda s: s["size"]) if sizes else None

    where = "no size measured"
    build = None
    if largest is not None:
        build = _per_sec(largest, who, "build")
        where = f"n={largest['size']:,}" + ("" if largest["size"] >= 1_000_000 else " (not 1M)")
    out.append(_target("build_1m", "tree build at 1M leaves", 300_000, build, "leaves/s", where))

    at17 = _size_at_depth(sizes, TARGET_DEPTH)
    verify = None if at17 is None else _per_sec(at17, who, "verify_leaf")
    where17 = "no size measured" if at17 is None else f"n={at17['size']:,}, depth {at17['depth']}"
    out.append(
        _target("verify_depth17", "single verify at depth 17", 50_000, verify, "proofs/s", where17)
    )

    mp = None
    where_mp = "no run measured"
    for entry in sorted(sizes, key=lambda s: -s["size"]):
        for run in (1024, 64):
            mp = _per_sec(entry, who, f"multiproof_{run}_leaf")
            if mp is not None:
                where_mp = f"run of {run} at n={entry['size']:,}"
                break
        if mp is not None:
            break
    out.append(
        _target("multiproof", "contiguous multiproof verify", 500_000, mp, "leaves/s", where_mp)
    )

    for key, label, compared in (
        ("vs_oz", "ahead of OZ merkle-tree, public API (worst op)", OZ_COMPARED),
        ("vs_oz_core", "ahead of OZ merkle-tree, hash-given core (worst op)", OZ_CORE_COMPARED),
    ):
        worst = _worst_ratio(sizes, who, "oz_js", compared)
        out.append(
            _target(
                key,
                label,
                OZ_RATIO,
                None if worst is None else worst[0],
                "x",
                "OZ not measured" if worst is None else worst[1],
            )
        )
    worst = _worst_ratio(sizes, who, "pymerkle", PYMERKLE_COMPARED)
    out.append(
        _target(
            "vs_pymerkle",
            "ahead of pymerkle (worst op)",
            1.0,
            None if worst is None else worst[0],
            "x",
            "pymerkle not measured" if worst is None else worst[1],
        )
    )

    bound_share = None
    where_b = where17
    if at17 is not None and verify is not None:
        bound = at17["bound_verify_per_sec"]
        bound_share = verify / bound
        where_b = f"{where17}: bound {bound:,.0f}/s"
    out.append(
        _target(
            "verify_vs_keccak",
            "single verify within 2x of raw keccak/s / depth",
            0.5,
            bound_share,
            "of bound",
            where_b,
        )
    )
    return out
