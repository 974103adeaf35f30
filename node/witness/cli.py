"""``vntrace witness key | serve | evidence``: run a witness for one or more vntrace logs.

``key`` creates (once) and prints the witness's vkey; ``serve`` answers tlog-witness
requests for the logs named by ``--log VKEY`` (the log's type-0x01 key, name = the
origin); ``evidence`` prints, as JSON, every validly signed checkpoint the witness
refused with the checkpoint it conflicts with, and ``evidence --check FILE`` re-checks
such a file with nothing but the log's public key.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``witness`` and its subcommands to the ``vntrace`` parser."""
    witness = sub.add_parser("witness", help="run a C2SP tlog-witness for vntrace logs")
    wsub = witness.add_subparsers(dest="witness_command", metavar="ACTION", required=True)

    key = wsub.add_parser("key", help="create (once) and print this witness's verifier key")
    key.add_argument("--data-dir", type=Path, required=True, help="the witness's data folder")
    key.add_argument("--name", help="key name on first creation, e.g. witness.example.org/w1")
    key.set_defaults(func=_cmd_key)

    serve = wsub.add_parser("serve", help="serve add-checkpoint on 127.0.0.1 (or --host)")
    serve.add_argument("--data-dir", type=Path, required=True)
    serve.add_argument(
        "--log", action="append", default=[], metavar="VKEY", help="a log's key (repeatable)"
    )
    serve.add_argument(
        "--node",
        metavar="URL",
        help="the log's node: with --rpc, every new leaf is checked against the chain",
    )
    serve.add_argument(
        "--rpc", metavar="URL", help="a JSON-RPC of the chain the log anchors on (with --node)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.set_defaults(func=_cmd_serve)

    ev = wsub.add_parser("evidence", help="print the conflicting checkpoints this witness kept")
    ev.add_argument("--data-dir", type=Path, help="the witness's data folder")
    ev.add_argument("--check", type=Path, metavar="FILE", help="re-check an evidence file")
    ev.set_defaults(func=_cmd_evidence)


def _cmd_key(args: argparse.Namespace) -> int:
    from .core import load_or_create_key

    print(load_or_create_key(args.data_dir, args.name).verifier.vkey)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from vntrace.node.tlog.note import Verifier

    from .app import create_app
    from .core import Witness, load_or_create_key
    from .errors import WitnessError
    from .state import WitnessState

    if not args.log:
        raise WitnessError("name at least one log to witness: --log VKEY")
    logs = [Verifier.from_vkey(v) for v in args.log]
    if (args.node is None) != (args.rpc is None):
        raise WitnessError("--node and --rpc go together (the leaves and the chain to check)")
    monitor = None
    if args.node is not None:
        from .monitor import ChainMonitor

        monitor = ChainMonitor(args.node, args.rpc)
    signer = load_or_create_key(args.data_dir)
    witness = Witness(signer, WitnessState(args.data_dir), logs, monitor=monitor)
    print(f"witness {signer.name} on http://{args.host}:{args.port}", flush=True)
    print(f"  key {witness.vkey}", flush=True)
    for v in logs:
        print(f"  log {v.name}", flush=True)
    if monitor is not None:
        print(f"  checks new leaves from {args.node} against the chain at {args.rpc}", flush=True)
    uvicorn.run(create_app(witness), host=args.host, port=args.port, log_level="warning")
    return 0


def _cmd_evidence(args: argparse.Namespace) -> int:
    from vntrace.node.tlog.verify import check_equivocation

    from .errors import WitnessError

    if args.check is not None:
        try:
            doc = json.loads(args.check.read_text())
            items = doc["evidence"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise WitnessError(f"not an evidence file: {e}") from e
        bad = 0
        for item in items:
            if item.get("kind") != "equivocation":
                print(f"{item.get('kind')}: not conclusive alone ({item.get('reason')})")
                continue
            try:
                a, b = item["checkpoints"]
                print("PROVEN: " + check_equivocation(a, b, item["logKey"]))
            except Exception as e:
                bad += 1
                print(f"NOT PROVEN: {e}")
        return 1 if bad else 0
    if args.data_dir is None:
        raise WitnessError("give --data-dir (the witness's folder) or --check FILE")
    print(json.dumps(evidence_document(args.data_dir), indent=2))
    return 0


def evidence_document(data_dir: Path) -> dict[str, Any]:
    """The evidence as a JSON document anyone can check (see docs/witness.md).

    Each item holds the log's verifier key and two signed notes: first the checkpoint
    this witness cosigned, then the refused one; for ``equivocation`` both have the
    same size and different roots, which the log's key alone proves.
    """
    from .core import load_or_create_key
    from .errors import WitnessError
    from .state import DB_FILE, WitnessState

    if not (Path(data_dir) / DB_FILE).exists():
        raise WitnessError(f"no witness state in {data_dir}")
    signer = load_or_create_key(data_dir)
    state = WitnessState(data_dir)
    try:
        items = [
            {
                "origin": e.origin,
                "kind": e.kind,
                "reason": e.reason,
                "observedAt": e.observed_at,
                "logKey": e.log_key,
                "checkpoints": [e.conflicting, e.submitted],
            }
            for e in state.evidence()
        ]
    finally:
        state.close()
    return {"witness": signer.name, "witnessKey": signer.verifier.vkey, "evidence": items}
