#!/usr/bin/env python3
"""Gas report for the VntraceRegistry contract (anvil, and anchors on the embedded chain).

The measurement lives in :mod:`vntrace.node.bench.gas` and is part of the benchmark
suite (``vntrace bench chain``, and ``vntrace bench`` for everything); this script keeps
the old entry point: it writes ``gas_report.json`` and ``gas_report.md`` into ``--out``
(default ``results/gas``) and prints the tables.

Usage: ``python scripts/gas_report.py [--out results/gas] [--anvil PATH] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from vntrace.node.bench import gas, summary

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "gas", help="output folder")
    parser.add_argument("--anvil", type=Path, help="anvil binary (default: the npm package's)")
    parser.add_argument("--quick", action="store_true", help="fewer depths and multiproofs")
    args = parser.parse_args(argv)
    if args.anvil is not None:
        os.environ["VNTRACE_ANVIL"] = str(args.anvil)
    report = gas.run_gas(args.quick, say=lambda m: print(m, file=sys.stderr))
    anvil = report.get("anvil") or {}
    if anvil.get("skipped") or anvil.get("error"):
        print(f"anvil: {anvil.get('skipped') or anvil.get('error')}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gas_report.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = "\n".join(
        ["# VntraceRegistry gas report", "", *summary.gas_section({"chain": report})]
    )
    (args.out / "gas_report.md").write_text(markdown + "\n")
    print(markdown)
    print(f"wrote {args.out / 'gas_report.json'} and {args.out / 'gas_report.md'}")
    return 0 if not anvil.get("error") else 1


if __name__ == "__main__":
    os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
    raise SystemExit(main())
