"""The ``vntrace`` commands for people: keys, lots, events, provenance, verification.

``vntrace.node.cli`` registers them with :func:`add_commands`; each handler imports the
SDK only when it runs, and never the node's machinery, so a buyer's ``vntrace verify``
needs none of py-evm, FastAPI or SQLAlchemy. Configuration: ``--node`` or
``VNTRACE_NODE_URL``, the API key from ``VNTRACE_API_KEY`` (or ``--api-key-file``),
all read through :class:`vntrace.client.settings.ClientSettings`.

Exit codes: 0 success (``verify``: verified; ``audit``: every receipt in time or
pending), 1 verification failed (``audit``: a record late, never anchored, a receipt
invalid, or the node's key contradicting the registry), 2 usage or configuration error,
3 pending, 4 recalled, 5 the node or the chain could not be reached or refused the
request.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Client, ProducerSigner, VerificationResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING, EXIT_RECALLED, EXIT_UNAVAILABLE = range(6)
VERDICT_EXIT = {"verified": EXIT_OK, "failed": EXIT_FAILED, "pending": EXIT_PENDING}
VERDICT_EXIT["recalled"] = EXIT_RECALLED

_RECORD_ID = re.compile(r"0x[0-9a-fA-F]{64}")

Handler = Callable[[argparse.Namespace], int]


# -- plumbing ---------------------------------------------------------------------------------


def _err(message: str) -> None:
    print(f"vntrace: {message}", file=sys.stderr)


def _run(handler: Handler) -> Handler:
    """Turn SDK errors into a message and an exit code (no traceback for people)."""

    def wrapped(args: argparse.Namespace) -> int:
        from .errors import (
            ApiError,
            ChainReadError,
            ConfigurationError,
            SigningError,
            TransportError,
            UploadError,
            VntraceError,
        )

        try:
            return handler(args)
        except (ConfigurationError, SigningError) as exc:
            _err(str(exc))
            for issue in getattr(exc, "errors", ())[:20]:
                where = f"events[{issue.index}]." if issue.index is not None else ""
                _err(f"  {where}{issue}")
            return EXIT_USAGE
        except UploadError as exc:
            _err(str(exc))
            for issue in exc.errors[:20]:
                _err(f"  {issue}")
            return EXIT_UNAVAILABLE
        except ApiError as exc:
            _err(f"the node refused: {exc.status} {exc.detail}")
            for issue in exc.errors[:20]:
                _err(f"  {issue}")
            return EXIT_UNAVAILABLE
        except (TransportError, ChainReadError) as exc:
            _err(str(exc))
            return EXIT_UNAVAILABLE
        except VntraceError as exc:
            _err(str(exc))
            return EXIT_FAILED
        except OSError as exc:
            _err(f"{exc.filename or ''}: {exc.strerror or exc}")
            return EXIT_USAGE

    return wrapped


def _settings(args: argparse.Namespace) -> Any:
    from .errors import ConfigurationError
    from .settings import ClientSettings

    api_key = None
    key_file = getattr(args, "api_key_file", None)
    if key_file is not None:
        try:
            api_key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {key_file}: {exc.strerror}") from None
    settings = ClientSettings.from_env().with_overrides(
        node_url=getattr(args, "node", None),
        api_key=api_key,
        rpc_url=getattr(args, "rpc", None),
        registry=getattr(args, "registry", None),
        chain_id=getattr(args, "chain_id", None),
    )
    return settings.with_overrides(witness_policy=_witness_policy(args, settings))


def _witness_policy(args: argparse.Namespace, settings: Any) -> Any:
    """The flags' policy; a flag not given keeps the environment's value."""
    from .errors import ConfigurationError
    from .witness import WitnessPolicy

    log_key = getattr(args, "log_key", None)
    witnesses = getattr(args, "witness", None)
    k = getattr(args, "min_witnesses", None)
    if log_key is None and witnesses is None and k is None:
        return None
    env = settings.witness_policy
    log_key = log_key or (env.log_key if env else None)
    if not log_key:
        raise ConfigurationError(
            "--witness and --min-witnesses need --log-key (or $VNTRACE_LOG_KEY)"
        )
    if witnesses is None and env is not None:
        witnesses = env.witnesses
    if k is None and env is not None and witnesses == env.witnesses:
        k = env.min_witnesses
    return WitnessPolicy(log_key, tuple(witnesses or ()), k)


def _client(args: argparse.Namespace) -> Client:
    from . import Client

    return Client(settings=_settings(args))


def _password(args: argparse.Namespace, *, confirm: bool = False) -> str:
    from .errors import ConfigurationError
    from .settings import read_env

    if args.password_env:
        value = read_env(args.password_env)
        if not value:
            raise ConfigurationError(f"${args.password_env} is empty or not set")
        return value
    if not sys.stdin.isatty():
        raise ConfigurationError("no terminal to ask a password: use --password-env VAR")
    import getpass

    password = getpass.getpass("keystore password: ")
    if confirm and getpass.getpass("again: ") != password:
        raise ConfigurationError("the passwords differ")
    return password


def _signer(args: argparse.Namespace, client: Client) -> ProducerSigner:
    from .errors import ConfigurationError
    from .signer import ProducerSigner, load_keystore

    info = client.info()
    profile = args.profile or None
    if args.key_env:
        return ProducerSigner.from_env(
            args.key_env,
            chain_id=info.chain_id,
            registry=info.registry,
            profile=profile or info.profile,
        )
    if args.keystore:
        key = load_keystore(args.keystore, _password(args))
        return ProducerSigner.for_node(info, key, profile=profile)
    raise ConfigurationError("no signing key: pass --keystore FILE or --key-env VAR")


def _emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _load_json(path: str) -> Any:
    from vntrace.node.records import RecordError, parse_json

    from .errors import ConfigurationError

    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:  # strict (duplicate keys, depth), but a season's file may exceed one event's limit
        return parse_json(text, max_bytes=len(text.encode()) + 1)
    except RecordError as exc:
        raise ConfigurationError(f"{path}: not valid JSON: {exc}") from None


# -- key ----------------------------------------------------------------------------------------


@_run
def _cmd_key_create(args: argparse.Namespace) -> int:
    from .signer import create_keystore

    password = _password(args, confirm=True)
    address = create_keystore(args.path, password, kdf_iterations=args.kdf_iterations)
    print(address)
    print(
        f"keystore written to {args.path} (mode 0600); ask the node's administrator to "
        "register this address as a producer",
        file=sys.stderr,
    )
    return EXIT_OK


# -- producers (administrator) ----------------------------------------------------------------


@_run
def _cmd_producer_add(args: argparse.Namespace) -> int:
    with _client(args) as client:
        producer = client.register_producer(args.address, args.name, metadata_uri=args.uri)
        key = client.issue_api_key(producer.address, label=args.label)
    if args.json:
        _emit_json({"address": producer.address, "keyId": key.key_id, "token": key.token})
    else:
        print(key.token)
        onchain = "and on chain" if producer.registered_onchain else "(not yet on chain)"
        print(
            f"producer {producer.address} registered {onchain}; its API key {key.key_id} is "
            "printed above, once: give it to the producer (VNTRACE_API_KEY)",
            file=sys.stderr,
        )
    return EXIT_OK


# -- lots and events ------------------------------------------------------------------------------


def _events_file(args: argparse.Namespace) -> tuple[str | None, str | None, list[Any]]:
    from .errors import ConfigurationError

    data = _load_json(args.file)
    gtin, lot = args.gtin, args.lot
    if isinstance(data, dict):
        gtin = gtin or data.get("gtin")
        lot = lot or data.get("lot")
        data = data.get("events")
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ConfigurationError(
            f"{args.file}: expected a list of events, or {{gtin, lot, events: [...]}}"
        )
    return gtin, lot, data


def _write_disclosures(path: Path, new: dict[str, Any]) -> None:
    """Merge private values and salts, keyed by record id, into a 0600 file."""
    import os

    old: dict[str, Any] = {}
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
    old.update(new)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(old, fh, indent=2, ensure_ascii=False)
    os.replace(tmp, path)


def _sign(args: argparse.Namespace, client: Client, gtin: str, lot: str, events: list[Any]) -> Any:
    """Sign every event before anything is written, and keep the private values."""
    signed = _signer(args, client).sign_many(gtin, lot, events)
    secrets = {s.record_id: s.disclosures for s in signed if s.disclosures}
    if secrets:
        target = Path(args.disclosures or f"{args.file}.disclosures.json")
        _write_disclosures(target, secrets)
        sent = "withheld from the node" if args.no_disclose else "also sent to the node, sealed"
        print(
            f"your copy of the private values and salts of {len(secrets)} record(s) kept in "
            f"{target} ({sent})",
            file=sys.stderr,
        )
    return signed


def _receipts_path(args: argparse.Namespace) -> Path:
    """``--receipts``, else ``receipts.jsonl`` beside the events file."""
    if args.receipts:
        return Path(args.receipts)
    source = getattr(args, "file", None)
    return (
        Path("receipts.jsonl") if source in (None, "-") else Path(source).parent / "receipts.jsonl"
    )


def _keep_receipts(args: argparse.Namespace, written: Any) -> None:
    from .receipts import save_receipts

    if written is None:
        return
    target = _receipts_path(args)
    count = save_receipts(target, written.receipts)
    if count:
        note = f"{count} signed receipt(s) appended to {target} (vntrace audit {target})"
        print(note, file=sys.stderr)


def _upload(args: argparse.Namespace, client: Client, gtin: str, lot: str, signed: Any) -> int:
    from ._output import ProgressLine
    from .errors import UploadError

    progress = None if args.quiet else ProgressLine()
    try:
        written = client.upload_events(
            gtin,
            lot,
            signed,
            batch_size=args.batch_size,
            progress=progress,
            disclose=not args.no_disclose,
        )
    except UploadError as exc:
        _keep_receipts(args, exc.written)  # the batches stored before the failure
        raise
    finally:
        if progress is not None:
            progress.close()
    _keep_receipts(args, written)
    if args.wait:
        client.wait_anchored(written.record_ids, timeout=args.wait)
    if args.json:
        _emit_json(
            {
                "gtin": written.gtin,
                "lot": written.lot,
                "lotKey": written.lot_key,
                "digitalLink": written.digital_link,
                "recordIds": written.record_ids,
                "duplicates": sum(r.duplicate for r in written.records),
            }
        )
    else:
        for rid in written.record_ids:
            print(rid)
        print(
            f"{len(written.record_ids)} record(s) stored for {written.digital_link}",
            file=sys.stderr,
        )
    return EXIT_OK


@_run
def _cmd_events_add(args: argparse.Namespace) -> int:
    from .errors import ConfigurationError

    gtin, lot, events = _events_file(args)
    if not gtin or not lot:
        raise ConfigurationError("which lot? pass --gtin and --lot, or put them in the file")
    if not events:
        raise ConfigurationError(f"{args.file}: no events")
    with _client(args) as client:
        signed = _sign(args, client, gtin, lot, events)
        return _upload(args, client, gtin, lot, signed)


@_run
def _cmd_lot_register(args: argparse.Namespace) -> int:
    events: list[Any] = []
    if args.events:
        args.file = args.events
        _, _, events = _events_file(args)
    with _client(args) as client:
        signed = _sign(args, client, args.gtin, args.lot, events) if events else []
        written = client.register_lot(args.gtin, args.lot)
        state = "registered" if written.created else "already yours"
        print(written.digital_link)
        print(
            f"lot {written.lot} of GTIN {written.gtin} {state}; lot key {written.lot_key}",
            file=sys.stderr,
        )
        if signed:
            return _upload(args, client, written.gtin, written.lot, signed)
    return EXIT_OK


@_run
def _cmd_lot_recall(args: argparse.Namespace) -> int:
    gtin, lot = _lot_target(args)
    with _client(args) as client:
        recall = client.recall(gtin, lot, args.reason)
    onchain = (
        f"on chain in {recall.onchain_tx_hash}" if recall.onchain_tx_hash else "not yet on chain"
    )
    print(f"lot {recall.lot} recalled ({onchain})")
    return EXIT_OK


def _lot_target(args: argparse.Namespace) -> tuple[str, str]:
    from vntrace.node.records import RecordError, parse_digital_link

    from .errors import ConfigurationError

    if args.lot is None:
        try:
            return parse_digital_link(args.target)
        except RecordError as exc:
            raise ConfigurationError(f"{args.target}: {exc}; or pass GTIN LOT") from None
    return args.target, args.lot


@_run
def _cmd_lot_show(args: argparse.Namespace) -> int:
    from ._output import LABELS, render

    gtin, lot = _lot_target(args)
    with _client(args) as client:
        doc = client.provenance(gtin, lot)
        result = None
        if not args.no_verify:
            result = client.verify_lot(gtin, lot)
    if args.json:
        _emit_json({"provenance": doc, "verification": result.to_dict() if result else None})
        return EXIT_OK
    print(f"lot {doc['lot']} of GTIN {doc['gtin']}  {doc['digitalLink']}")
    producer = doc.get("producer") or {}
    print(f"producer {producer.get('name', '?')} ({producer.get('address', '?')})")
    verdicts = {r.record_id: r.status for r in result.records} if result else {}
    for i, rec in enumerate(doc.get("records", [])):
        event = rec.get("event") or {}
        status = LABELS.get(verdicts.get(rec.get("recordId"), ""), rec.get("status", "?"))
        print(
            f"{i + 1:>3}. {event.get('eventTime', '?'):<27} {event.get('kind', '?'):<10} "
            f"{status:<9} {rec.get('recordId', '')}"
        )
    if result is not None:
        print()
        print(render(result))
    return EXIT_OK


# -- verify ---------------------------------------------------------------------------------------


def _verify_target(args: argparse.Namespace) -> VerificationResult:
    from .verify import verify_bundle, verify_provenance

    target: str = args.target
    if _RECORD_ID.fullmatch(target):
        with _client(args) as client:
            return client.verify_record(target)
    if "/01/" in target and not Path(target).exists():
        with _client(args) as client:
            return client.verify_digital_link(target)
    doc = _load_json(target)
    is_lot = isinstance(doc, dict) and "multiproofs" in doc
    settings = _settings(args)
    if settings.rpc_url is None:  # the node's /rpc, and the node's registry unless pinned
        with _client(args) as client:
            return client.verify_provenance(doc) if is_lot else client.verify_bundle(doc)
    pins = {
        "expected_registry": settings.registry,
        "expected_chain_id": settings.chain_id,
        "witness_policy": settings.witness_policy,
    }
    check = verify_provenance if is_lot else verify_bundle
    return check(doc, rpc_url=settings.rpc_url, timeout=settings.timeout, **pins)


@_run
def _cmd_verify(args: argparse.Namespace) -> int:
    from ._output import render

    result = _verify_target(args)
    if args.json:
        _emit_json(result.to_dict())
    else:
        print(render(result))
    return VERDICT_EXIT.get(result.status, EXIT_FAILED)


# -- accountability -------------------------------------------------------------------------------


@_run
def _cmd_audit(args: argparse.Namespace) -> int:
    from ._output import render_audit
    from .errors import ConfigurationError
    from .receipts import load_receipts

    receipts = load_receipts(args.receipts_file)
    if not receipts:
        raise ConfigurationError(f"{args.receipts_file}: no receipts")
    now = None
    if args.now:
        from vntrace.node.records import parse_rfc3339

        try:
            now = parse_rfc3339(args.now)
        except ValueError as exc:
            raise ConfigurationError(f"--now: {exc}") from None
    with _client(args) as client:
        report = client.audit(receipts, now=now)
    for problem in report.node.problems:  # loud, whatever the output format
        _err(f"WARNING: {problem}")
    if args.json:
        _emit_json(report.to_dict())
    else:
        print(render_audit(report))
    return EXIT_OK if report.ok else EXIT_FAILED


@_run
def _cmd_disclosures(args: argparse.Namespace) -> int:
    from ._output import render_disclosures

    with _client(args) as client:
        result = client.disclosures(args.record_id, strict=False)
    if args.json:
        _emit_json(result.to_dict())
    else:
        print(render_disclosures(result))
    return EXIT_OK if result.ok else EXIT_FAILED


@_run
def _cmd_auditor_add(args: argparse.Namespace) -> int:
    with _client(args) as client:
        key = client.issue_auditor_key(label=args.label)
    if args.json:
        _emit_json({"keyId": key.key_id, "token": key.token})
    else:
        print(key.token)
        print(
            f"auditor key {key.key_id} printed above, once: it reads every record's "
            "confidential values (vntrace disclosures RECORD_ID)",
            file=sys.stderr,
        )
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------------


def _node_options(p: argparse.ArgumentParser, *, auth: bool = True) -> None:
    p.add_argument("--node", metavar="URL", help="the node's URL (default $VNTRACE_NODE_URL)")
    if auth:
        p.add_argument(
            "--api-key-file",
            metavar="FILE",
            help="read the API key from FILE instead of "
            "$VNTRACE_API_KEY (e.g. the node's admin-token)",
        )


def _key_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("signing key (one of)")
    g.add_argument("--keystore", metavar="FILE", help="encrypted keystore (vntrace key create)")
    g.add_argument("--key-env", metavar="VAR", help="environment variable holding the hex key")
    p.add_argument(
        "--password-env",
        metavar="VAR",
        help="variable holding the keystore password (default: ask)",
    )
    p.add_argument("--profile", help="product profile id or file (default: the node's)")


def _upload_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="events per request (default: as many as the node takes)",
    )
    p.add_argument(
        "--disclosures",
        metavar="FILE",
        help="where to keep your copy of private values and their salts "
        "(default: FILE.disclosures.json)",
    )
    p.add_argument(
        "--no-disclose",
        action="store_true",
        help="do not send private values to the node (auditors then ask you for them)",
    )
    p.add_argument(
        "--receipts",
        metavar="FILE",
        help="append the node's signed receipts here (default: receipts.jsonl beside FILE)",
    )
    p.add_argument(
        "--wait",
        type=float,
        nargs="?",
        const=60.0,
        default=None,
        metavar="SECONDS",
        help="wait until every record is anchored",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    p.add_argument("--json", action="store_true", help="print a JSON summary")


def _verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rpc",
        metavar="URL",
        help="chain JSON-RPC to check against (default $VNTRACE_RPC_URL, else the node's /rpc)",
    )
    p.add_argument(
        "--registry",
        metavar="ADDRESS",
        help="the registry you trust (default $VNTRACE_REGISTRY_ADDRESS, else the node's)",
    )
    p.add_argument(
        "--chain-id",
        type=int,
        help="the chain id you trust (default $VNTRACE_CHAIN_ID, else the node's)",
    )
    w = p.add_argument_group("witness policy (docs/witness.md)")
    w.add_argument(
        "--log-key",
        metavar="VKEY",
        help="require every epoch in this witnessed log (default $VNTRACE_LOG_KEY)",
    )
    w.add_argument(
        "--witness",
        metavar="VKEY",
        action="append",
        help="a witness cosigner key you trust (repeat; default $VNTRACE_WITNESSES)",
    )
    w.add_argument(
        "--min-witnesses",
        metavar="K",
        type=int,
        help="cosignatures required (default $VNTRACE_MIN_WITNESSES, else 1 with witnesses)",
    )


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``key``, ``producer``, ``lot``, ``events``, ``verify``, ``audit``,
    ``disclosures`` and ``auditor`` on ``sub``."""
    key = sub.add_parser("key", help="producer signing keys")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    create = key_sub.add_parser("create", help="create a key in an encrypted keystore file")
    create.add_argument("path", type=Path, help="keystore file to create (never overwritten)")
    create.add_argument(
        "--password-env", metavar="VAR", help="variable holding the password (default: ask twice)"
    )
    create.add_argument("--kdf-iterations", type=int, default=None, help=argparse.SUPPRESS)
    create.set_defaults(func=_cmd_key_create)

    producer = sub.add_parser("producer", help="register producers (administrator)")
    producer_sub = producer.add_subparsers(dest="producer_command", metavar="ACTION", required=True)
    add = producer_sub.add_parser("add", help="register a producer and issue its API key")
    add.add_argument("address", help="the producer's address (vntrace key create prints it)")
    add.add_argument("--name", required=True, help="the producer's name")
    add.add_argument("--uri", help="metadata URI recorded on chain")
    add.add_argument("--label", help="label of the API key")
    add.add_argument("--json", action="store_true", help="print JSON")
    _node_options(add)
    add.set_defaults(func=_cmd_producer_add)

    lot = sub.add_parser("lot", help="register, show and recall lots")
    lot_sub = lot.add_subparsers(dest="lot_command", metavar="ACTION", required=True)
    register = lot_sub.add_parser("register", help="register a lot (and upload its events)")
    register.add_argument("gtin")
    register.add_argument("lot")
    register.add_argument("--events", metavar="FILE", help="JSON file of events to sign and add")
    _node_options(register)
    _key_options(register)
    _upload_options(register)
    register.set_defaults(func=_cmd_lot_register)

    show = lot_sub.add_parser("show", help="a lot's provenance, verified against the chain")
    show.add_argument("target", help="a Digital Link URI, or GTIN followed by LOT")
    show.add_argument("lot", nargs="?", help="lot number (when TARGET is a GTIN)")
    show.add_argument("--no-verify", action="store_true", help="only show, do not verify")
    show.add_argument("--json", action="store_true", help="print JSON")
    _node_options(show, auth=False)
    _verify_options(show)
    show.set_defaults(func=_cmd_lot_show)

    recall = lot_sub.add_parser("recall", help="recall one of your lots (or any, as admin)")
    recall.add_argument("target", help="a Digital Link URI, or GTIN followed by LOT")
    recall.add_argument("lot", nargs="?", help="lot number (when TARGET is a GTIN)")
    recall.add_argument("--reason", required=True, help="why (stored on chain)")
    _node_options(recall)
    recall.set_defaults(func=_cmd_lot_recall)

    events = sub.add_parser("events", help="add signed events to a lot")
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    add_events = events_sub.add_parser(
        "add",
        help="sign the events of a JSON file and upload them",
        description="FILE holds a list of events, or {gtin, lot, events}. Events are "
        "validated and signed locally, then uploaded in batches, in order.",
    )
    add_events.add_argument("file", help="JSON file ('-' for stdin)")
    add_events.add_argument("--gtin", help="the lot's GTIN (if not in the file)")
    add_events.add_argument("--lot", help="the lot number (if not in the file)")
    _node_options(add_events)
    _key_options(add_events)
    _upload_options(add_events)
    add_events.set_defaults(func=_cmd_events_add)

    verify = sub.add_parser(
        "verify",
        help="verify a record or lot independently, against the chain",
        description="TARGET is a GS1 Digital Link URI (the lot's whole history), a record "
        "id (0x + 64 hex), or a bundle or provenance JSON file ('-' for stdin). Exit code: "
        "0 verified, 1 failed, 3 pending, 4 recalled, 2 usage, 5 unreachable.",
    )
    verify.add_argument("target")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    _node_options(verify, auth=False)
    _verify_options(verify)
    verify.set_defaults(func=_cmd_verify)

    audit = sub.add_parser(
        "audit",
        help="hold the node to its signed receipts: anchored in time, late, or never",
        description="Checks each receipt's signature with the node's key (from the node, "
        "cross-checked with the registry's anchorer metadata on chain), fetches the "
        "record's proof from the node and its root's anchor time from the chain. Exit "
        "code: 0 every record in time or pending, 1 any late, never anchored or invalid "
        "(or the node's key contradicts the registry), 2 usage, 5 unreachable.",
    )
    audit.add_argument("receipts_file", metavar="RECEIPTS", help="JSON-lines file of receipts")
    audit.add_argument("--json", action="store_true", help="print the report as JSON")
    audit.add_argument(
        "--now",
        metavar="TIME",
        help="judge deadlines as of TIME (RFC 3339), e.g. to see what would be overdue",
    )
    _node_options(audit, auth=False)
    _verify_options(audit)
    audit.set_defaults(func=_cmd_audit)

    disclosures = sub.add_parser(
        "disclosures",
        help="read a record's confidential values (auditor or its producer), checked",
        description="Fetches the record's private values and salts (an auditor's or the "
        "producer's API key) and checks each against the commitment the producer signed. "
        "Exit code: 0 all open their commitments, 1 any does not, 5 refused or unreachable.",
    )
    disclosures.add_argument("record_id", metavar="RECORD_ID")
    disclosures.add_argument("--json", action="store_true", help="print JSON")
    _node_options(disclosures)
    disclosures.set_defaults(func=_cmd_disclosures)

    auditor = sub.add_parser("auditor", help="auditor API keys (administrator)")
    auditor_sub = auditor.add_subparsers(dest="auditor_command", metavar="ACTION", required=True)
    auditor_add = auditor_sub.add_parser("add", help="issue an auditor key (printed once)")
    auditor_add.add_argument("--label", help="who holds it (e.g. customs)")
    auditor_add.add_argument("--json", action="store_true", help="print JSON")
    _node_options(auditor_add)
    auditor_add.set_defaults(func=_cmd_auditor_add)

    from .eudr_cli import add_commands as add_eudr_commands

    add_eudr_commands(sub)

    from .epcis_cli import add_commands as add_epcis_commands

    add_epcis_commands(sub)


__all__ = ["VERDICT_EXIT", "add_commands"]
