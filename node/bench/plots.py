"""PNG plots of how each cost grows (matplotlib, optional: without it no plot is drawn).

- ``proof_growth.png``: proof size, off-chain verification time and on-chain
  verification gas against tree size;
- ``ingestion.png``: ingestion rate and request latency against batch size;
- ``latency.png``: single-bundle verification latency against concurrent clients;
- ``gas.png``: anchor gas per record against epoch size, and gas per verified leaf.

Each function takes the suite's results and returns the file written, or ``None``
when its data (or matplotlib) is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .e2e import CHAINS

PEER_LABELS = {"ours": "vntrace", "ours_py": "vntrace, pure Python", "oz_js": "OZ JS"}


def _pyplot() -> Any | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _plain(ax: Any) -> None:
    """Plain numbers on log axes (no 6x10^1 minor labels)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())


def _chains(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    runs = (results.get("e2e") or {}).get("chains", {})
    return [(c, runs[c]) for c in CHAINS if c in runs and not runs[c].get("skipped")]


def proof_growth(results: dict[str, Any], path: Path) -> Path | None:
    """Proof size (bytes), verification µs per proof and verifyProof gas vs tree size."""
    plt = _pyplot()
    proofs = results.get("proofs") or {}
    sizes = proofs.get("sizes") or []
    gas = ((results.get("chain") or {}).get("anvil") or {}).get("verify_proof") or []
    if plt is None or not (sizes or gas):
        return None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    if sizes:
        n = [s["size"] for s in sizes]
        axes[0].plot(n, [32 * s["mean_proof_length"] for s in sizes], marker="o", label="mean")
        axes[0].plot(n, [32 * s["depth"] for s in sizes], marker=".", ls="--", label="longest")
        for who, label in PEER_LABELS.items():
            points = [
                (s["size"], 1e6 / cell[who]["per_sec"])
                for s in sizes
                if (cell := s["ops"].get("verify_leaf", {})).get(who)
            ]
            if points:
                axes[1].plot(*zip(*points, strict=True), marker="o", label=label)
    if gas:
        axes[2].plot([g["tree_leaves"] for g in gas], [g["execution_gas"] for g in gas], marker="o")
    titles = (
        ("proof size", "bytes"),
        ("verify one proof (leaf hash given)", "µs per proof"),
        ("verifyProof on chain (execution)", "gas"),
    )
    for ax, (title, unit) in zip(axes, titles, strict=True):
        ax.set_xscale("log", base=2 if ax is axes[2] else 10)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("leaves in the tree")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].set_yscale("log")
    for ax in axes[:2]:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return _save(fig, path)


def ingestion(results: dict[str, Any], path: Path) -> Path | None:
    """Records/s and request p50 against batch size, one line per chain."""
    plt = _pyplot()
    chains = [(c, r) for c, r in _chains(results) if r.get("ingest")]
    if plt is None or not chains:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for chain, run in chains:
        rows = run["ingest"]
        x = [r["batch_size"] for r in rows]
        axes[0].plot(x, [r["records_per_s"] for r in rows], marker="o", label=chain)
        axes[1].plot(x, [r["request_latency"].get("p50_ms") for r in rows], marker="o", label=chain)
    axes[0].axhline(10_000, color="grey", ls=":", label="target 10k/s")
    for ax, (title, unit) in zip(
        axes, (("ingestion", "records/s"), ("request latency, p50", "ms")), strict=True
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("records per request (batch size)")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        _plain(ax)
    return _save(fig, path)


def latency(results: dict[str, Any], path: Path) -> Path | None:
    """p50/p95/p99 of single-bundle verification against concurrent clients."""
    plt = _pyplot()
    chains = [(c, r) for c, r in _chains(results) if r.get("latency")]
    if plt is None or not chains:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4))
    clients: set[int] = set()
    for n, (chain, run) in enumerate(chains):
        rows = run["latency"]
        x = [r["clients"] for r in rows]
        clients.update(x)
        for key, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            ax.plot(
                x,
                [r.get(key) for r in rows],
                ls=style,
                marker="o",
                color=f"C{n}",
                label=f"{chain} {key[:3]}",
            )
    ax.axhline(20, color="grey", ls="-.", label="target p99 20 ms")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sorted(clients))
    _plain(ax)
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("ms")
    ax.set_title("POST /v1/verify, one bundle", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def gas(results: dict[str, Any], path: Path) -> Path | None:
    """Anchor gas per record vs epoch size; gas per verified leaf vs leaves proven."""
    plt = _pyplot()
    chain = results.get("chain") or {}
    anvil, embedded = chain.get("anvil") or {}, chain.get("embedded") or {}
    if plt is None or not (anvil.get("anchor_per_record") or embedded.get("anchor_per_record")):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, data in (("anvil", anvil), ("embedded (py-evm)", embedded)):
        rows = data.get("anchor_per_record") or []
        if rows:
            axes[0].plot(
                [r["records"] for r in rows],
                [r["gas_per_record"] for r in rows],
                marker="o",
                label=label,
            )
    axes[0].axhline(10, color="grey", ls=":", label="target 10 gas/record")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("records in the epoch")
    axes[0].set_ylabel("gas per record")
    axes[0].set_title("anchoring", fontsize=10)
    multi = anvil.get("verify_multiproof") or []
    single = anvil.get("verify_proof") or []
    for t, tree in enumerate(sorted({m["tree_leaves"] for m in multi})):
        for layout, style in (("contiguous", "-"), ("scattered", "--")):
            rows = [m for m in multi if m["tree_leaves"] == tree and m["layout"] == layout]
            if rows:
                axes[1].plot(
                    [m["leaves"] for m in rows],
                    [m["execution_per_leaf"] for m in rows],
                    ls=style,
                    marker="o",
                    color=f"C{t}",
                    label=f"multiproof, {layout}, tree of {tree:,}",
                )
        depth = tree.bit_length() - 1
        one = [s["execution_gas"] for s in single if s["depth"] == depth]
        if one:
            axes[1].axhline(
                one[0], ls=":", color=f"C{t}", alpha=0.7, label=f"single proofs, depth {depth}"
            )
    axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("leaves proven together")
    axes[1].set_ylabel("execution gas per leaf")
    axes[1].set_title("verifying on chain", fontsize=10)
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, path)


PLOTS = {
    "proof_growth.png": proof_growth,
    "ingestion.png": ingestion,
    "latency.png": latency,
    "gas.png": gas,
}


def write_plots(results: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """Every plot the results allow; returns their paths by file name."""
    out: dict[str, str] = {}
    for name, draw in PLOTS.items():
        written = draw(results, out_dir / name)
        if written is not None:
            out[name] = str(written)
    return out
