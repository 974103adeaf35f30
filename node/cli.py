"""The ``vntrace`` command line: ``serve``, ``demo`` and ``bench``, plus the SDK's
commands for people (``key``, ``producer``, ``lot``, ``events``, ``verify``: see
``vntrace.client.cli``).

Each subcommand imports its machinery only when it runs, so ``vntrace --help`` stays
instant and a buyer's SDK commands never load the node's weight.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# Imported by the node's own commands only; absent from the light (SDK-only) install.
_NODE_EXTRA = {
    "eth",
    "eth_tester",
    "web3",
    "lmdb",
    "sqlalchemy",
    "psycopg",
    "pydantic_settings",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "segno",
}


def _needs_node_extra(command: str, exc: ImportError) -> int:
    """One line instead of a traceback when the node extra is not installed."""
    if (exc.name or "").split(".")[0] not in _NODE_EXTRA:
        raise exc
    print(f"vntrace {command} needs the node extra: pip install 'vntrace[node]'", file=sys.stderr)
    return 2


def _bench(argv: list[str]) -> int:
    try:
        from vntrace.node.bench import suite
    except ImportError as exc:
        return _needs_node_extra("bench", exc)
    return suite.main(argv)


def _workers(text: str) -> int:
    """``--workers``: a count, or ``auto`` for one per usable core."""
    if text == "auto":
        from vntrace.node.config import usable_cores

        return usable_cores()
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'auto'") from None
    if count < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return count


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from vntrace.node.server import serve
    except ImportError as exc:
        return _needs_node_extra("serve", exc)
    return serve(data_dir=args.data_dir, host=args.host, port=args.port, workers=args.workers)


def _cmd_demo(args: argparse.Namespace) -> int:
    try:
        from vntrace.node.demo import run_demo
    except ImportError as exc:
        return _needs_node_extra("demo", exc)
    return run_demo(data_dir=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="vntrace",
        description="vntrace: a traceability node anchoring signed supply-chain records "
        "on an EVM chain.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the node and its HTTP API (embedded default)")
    serve.add_argument("--data-dir", type=Path, default=None, help="data folder")
    serve.add_argument("--host", default=None, help="address to listen on (VNTRACE_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (VNTRACE_PORT)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="gateway processes, or 'auto': one per usable core (VNTRACE_WORKERS; default auto)",
    )
    serve.set_defaults(func=_cmd_serve)

    demo = sub.add_parser("demo", help="seed a demo cooperative with anchored records")
    demo.add_argument("--data-dir", type=Path, default=None, help="data folder")
    demo.set_defaults(func=_cmd_demo)

    bench = sub.add_parser(
        "bench",
        help="benchmarks: the whole suite, or e2e | chain | proofs (see vntrace bench -h)",
        description="`vntrace bench` runs the whole suite (BENCHMARKS.md); "
        "`vntrace bench e2e|chain|proofs` one suite. Options go to the benchmark.",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)

    from vntrace.node.witness.cli import add_commands as add_witness  # light, lazy handlers

    add_witness(sub)

    from vntrace.client.cli import add_commands  # light: its handlers import the SDK

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vntrace`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["bench"]:  # its options belong to the benchmark
        return _bench(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bad setting, a missing key, no chain: one line, no traceback
        from vntrace.node.cli_errors import explain

        line = explain(exc)
        if line is None:
            raise
        print(f"vntrace {args.command}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
