"""Writing the results: ``results.json``, ``report.md`` and, with matplotlib, a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PEERS = (("oz_js", "OZ JS"), ("pymerkle", "pymerkle"))

OPS: dict[str, tuple[str, str]] = {
    "build": ("tree build (all cores)", "leaves/s"),
    "build_1core": ("tree build, one core", "leaves/s"),
    "proof_gen": ("proof generation", "proofs/s"),
    "verify_leaf": ("verify one proof, leaf hash given", "proofs/s"),
    "verify_value": ("verify one proof from (lot, digest)", "proofs/s"),
    "verify_batch": ("verify many proofs of one root (BatchVerifier)", "proofs/s"),
    "multiproof_64_leaf": ("multiproof, 64 adjacent leaves, hashes given", "leaves/s"),
    "multiproof_64_value": ("multiproof, 64 adjacent records", "leaves/s"),
    "multiproof_1024_leaf": ("multiproof, 1024 adjacent leaves, hashes given", "leaves/s"),
    "multiproof_1024_value": ("multiproof, 1024 adjacent records", "leaves/s"),
}
# Which peer figure each of our rows is set against (the build rows share the peers' build).
PEER_OP = {"build_1core": "build"}


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def fmt_ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs <= 0:
        return "—"
    return f"{ours / theirs:.3g}x"


def _per_sec(entry: dict[str, Any], op: str, who: str) -> float | None:
    rate = entry["ops"].get(op, {}).get(who)
    return None if rate is None else rate["per_sec"]


def _engines(results: dict[str, Any]) -> list[tuple[str, str]]:
    variants = results.get("engine", {}).get("variants") or {"ours": "ours"}
    return list(variants.items())


def results_table(results: dict[str, Any]) -> str:
    """Markdown table: one row per size and operation, the peers beside us.

    Ratios are those of ``ours`` (the engine as installed).
    """
    engines = _engines(results)
    head = ["leaves", "depth", "operation", "unit", *(label for _, label in engines)]
    for _, label in PEERS:
        head += [label, f"ours/{label}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    blank = " — |" * (len(engines) - 1 + 2 * len(PEERS))
    ref = fmt_rate(results["reference"]["keccak64"]["per_sec"])
    lines.append(
        f"| — | — | raw keccak-256 of 64 bytes, sha3.keccak_256 (reference) | calls/s | {ref} |"
        + blank
    )
    for entry in results["sizes"]:
        n, depth = f"{entry['size']:,}", str(entry["depth"])
        for op, (label, unit) in OPS.items():
            mine = [_per_sec(entry, op, who) for who, _ in engines]
            if mine[0] is None:
                continue
            row = [n, depth, label, unit, *(fmt_rate(r) for r in mine)]
            for peer, _ in PEERS:
                theirs = _per_sec(entry, PEER_OP.get(op, op), peer)
                row += [fmt_rate(theirs), fmt_ratio(mine[0], theirs)]
            lines.append("| " + " | ".join(row) + " |")
        bound = fmt_rate(entry["bound_verify_per_sec"])
        mean = entry["mean_proof_length"]
        lines.append(
            f"| {n} | {depth} | bound: raw keccak/s ÷ mean proof length ({mean:.2f}) "
            f"| proofs/s | {bound} |" + blank
        )
    return "\n".join(lines)


def _fmt_measured(t: dict[str, Any]) -> str:
    if t["measured"] is None:
        return "not measured"
    if t["unit"] == "x":
        return f"{t['measured']:.3g}x"
    if t["unit"] == "of bound":
        return f"{t['measured']:.0%} of bound"
    return f"{fmt_rate(t['measured'])} {t['unit']}"


def _fmt_threshold(t: dict[str, Any]) -> str:
    if t["unit"] == "x":
        return f"≥ {t['threshold']:g}x"
    if t["unit"] == "of bound":
        return f"≥ {t['threshold']:.0%} of bound"
    return f"≥ {fmt_rate(t['threshold'])} {t['unit']}"


def targets_table(targets: list[dict[str, Any]]) -> str:
    lines = [
        "| target | threshold | measured | where | status |",
        "|---|---|---|---|---|",
    ]
    for t in targets:
        if t["met"] is None:
            status = "not evaluated"
        else:
            verdict = "met" if t["met"] else "**missed**"
            status = f"{verdict} ({t['margin']:.2f}x the threshold)"
        lines.append(
            f"| {t['label']} | {_fmt_threshold(t)} | {_fmt_measured(t)} | {t['where']} | {status} |"
        )
    return "\n".join(lines)


def machine_lines(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    peers = results["peers"]
    out = [
        f"- CPU: {m['cpu']} — {m['cores']} cores visible, {m['usable_cores']} usable",
        f"- Python {m['python']} ({m['implementation']}), {m['platform']}",
        f"- Node.js: {m.get('node') or 'not found'}",
        "- Merkle C accelerator: "
        + ("built" if results.get("engine", {}).get("accelerator_available") else "not built"),
    ]
    for key, label in PEERS:
        p = peers[key]
        state = f"version {p['version']}" if p["available"] else f"not measured: {p['reason']}"
        out.append(f"- {label}: {state}")
    return out


def render_markdown(results: dict[str, Any]) -> str:
    cfg = results["config"]
    lines = [
        "# Proof benchmark: vntrace Merkle engine and its peers",
        "",
        f"Run {results['created']} ({'quick' if cfg['quick'] else 'full'}); "
        f"sizes {', '.join(f'{n:,}' for n in cfg['sizes'])}; peers at sizes up to "
        f"{cfg['peer_max_size']:,}.",
        "",
        "## Machine",
        "",
        *machine_lines(results),
        "",
        "## Targets",
        "",
        "The engine as installed"
        + (" (C accelerator on)" if results.get("targets_pure_python") else "")
        + ":",
        "",
        targets_table(results["targets"]),
        "",
        *(
            ["The pure-Python engine (accelerator off):", "", targets_table(pure), ""]
            if (pure := results.get("targets_pure_python"))
            else []
        ),
        "## Results",
        "",
        results_table(results),
        "",
        "## How it was measured",
        "",
        *[f"- {note}" for note in results["notes"]],
        "",
    ]
    return "\n".join(lines)


def write_plot(results: dict[str, Any], path: Path) -> Path | None:
    """Rates against tree size, log-log, per operation; ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed, so no plot was drawn (pip install matplotlib)")
        return None
    ops = ["build_1core", "proof_gen", "verify_leaf", "multiproof_1024_leaf"]
    fig, axes = plt.subplots(1, len(ops), figsize=(4.2 * len(ops), 3.8))
    for ax, op in zip(axes, ops, strict=True):
        for who, label in (("ours", "vntrace"), *PEERS):
            points = [
                (e["size"], _per_sec(e, PEER_OP.get(op, op) if who != "ours" else op, who))
                for e in results["sizes"]
            ]
            points = [(n, r) for n, r in points if r is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(OPS[op][0], fontsize=9)
        ax.set_xlabel("leaves")
        ax.set_ylabel(OPS[op][1])
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(results: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """Write the files; returns their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "results.json", "markdown": out_dir / "report.md"}
    paths["json"].write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    paths["markdown"].write_text(render_markdown(results), encoding="utf-8")
    plot = write_plot(results, out_dir / "proofs.png")
    if plot is not None:
        paths["plot"] = plot
    return {k: str(v) for k, v in paths.items()}
