"""``vntrace eudr check`` and ``vntrace eudr export``, over HTTP through the SDK.

Exit codes as the rest of the CLI: 0 clean, 1 problems found (or a plot that does not
verify), 2 usage, 5 refused by the node or unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cli import EXIT_FAILED, EXIT_OK, _client, _node_options, _run, _verify_options


def _issue_line(issue: dict) -> str:
    where = issue.get("where")
    at = f" at [{where[0]}, {where[1]}]" if where else ""
    plot = f"plot {issue['plot']}: " if issue.get("plot") else ""
    return f"  {issue['severity']:<10} {issue['rule']:<24} {plot}{issue['message']}{at}"


@_run
def _cmd_check(args: argparse.Namespace) -> int:
    from . import eudr

    with _client(args) as client:
        report = eudr.check(client, args.gtin, args.lot)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif report["ok"]:
        print(f"lot {report['lot']}: {report['plots']} plot(s), nothing the EU would refuse")
    else:
        print(f"lot {report['lot']}: {len(report['issues'])} problem(s), {report['plots']} plot(s)")
        for issue in report["issues"]:
            print(_issue_line(issue))
    return EXIT_OK if report["ok"] else EXIT_FAILED


@_run
def _cmd_export(args: argparse.Namespace) -> int:
    from . import eudr

    with _client(args) as client:
        doc, files = eudr.export_to(
            client,
            args.gtin,
            args.lots,
            args.out,
            activity_type=args.activity,
            country_of_activity=args.country_of_activity,
            internal_reference=args.reference,
        )
    plots = len(doc["geojson"]["features"])
    print(args.out)
    print(
        f"{len(doc['lots'])} lot(s), {plots} plot(s) verified on chain; statement "
        f"{doc['statementBytes']:,} bytes; {len(files)} files written",
        file=sys.stderr,
    )
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``eudr check`` and ``eudr export``."""
    eudr = sub.add_parser("eudr", help="EU Deforestation Regulation: check lots, export a DDS")
    eudr_sub = eudr.add_subparsers(dest="eudr_command", metavar="ACTION", required=True)

    check = eudr_sub.add_parser(
        "check",
        help="list what the EU would refuse or an auditor question",
        description="Exit code: 0 nothing found, 1 problems listed, 5 refused or unreachable.",
    )
    check.add_argument("gtin", metavar="GTIN")
    check.add_argument("lot", metavar="LOT")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    _node_options(check, auth=False)
    check.set_defaults(func=_cmd_check)

    export = eudr_sub.add_parser(
        "export",
        help="write a DDS export (statement, plots GeoJSON, proof bundles) to a new folder",
        description="Every plot's proof bundle is verified against the chain first; the "
        "folder is written whole or not at all. Exit code: 0 written, 1 a plot does not "
        "verify or the folder cannot be written, 5 refused (e.g. a plot the EU would "
        "refuse) or unreachable.",
    )
    export.add_argument("gtin", metavar="GTIN")
    export.add_argument("lots", metavar="LOT", nargs="+")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="new folder")
    export.add_argument(
        "--activity", default="IMPORT", choices=["IMPORT", "EXPORT", "DOMESTIC", "TRADE"]
    )
    export.add_argument("--country-of-activity", metavar="CC", help="EU member state, e.g. DE")
    export.add_argument("--reference", metavar="TEXT", help="your internal reference number")
    _node_options(export, auth=False)
    _verify_options(export)
    export.set_defaults(func=_cmd_export)
