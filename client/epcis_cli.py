"""``vntrace epcis capture|query|export``: EPCIS 2.0 over HTTP through the SDK.

Exit codes as the rest of the CLI: 0 done, 1 nothing found, 2 usage (bad file, no key),
5 refused by the node or unreachable. Errors are one line each, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .cli import (
    EXIT_FAILED,
    EXIT_OK,
    _client,
    _emit_json,
    _key_options,
    _load_json,
    _node_options,
    _run,
    _signer,
)


def _events_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


SIGNATURE_FIELD = "vnt:signature"
"""``vntrace.node.epcis.records.SIGNATURE_FIELD`` (not imported: sending an already
signed document needs no EPCIS validation packages)."""


def _is_signed(document: dict[str, Any]) -> bool:
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    return (
        isinstance(events, list)
        and bool(events)
        and all(isinstance(e, dict) and SIGNATURE_FIELD in e for e in events)
    )


def _sign(args: argparse.Namespace, client: Any, document: dict[str, Any]) -> dict[str, Any]:
    from .errors import ConfigurationError

    if not (args.keystore or args.key_env):
        raise ConfigurationError(
            f"{args.file}: events are not signed; pass --keystore FILE or --key-env VAR"
        )
    try:
        from . import epcis
    except ImportError as exc:  # the light install has no JSON Schema validator
        raise ConfigurationError(
            f"signing EPCIS events needs the EPCIS validation packages ({exc.name}): "
            "pip install 'vntrace[node]'"
        ) from None
    try:
        return epcis.sign_document_with(
            _signer(args, client), document, set_event_ids=args.set_event_ids
        )
    except ValueError as exc:  # EpcisError: the node would refuse the event anyway
        raise ConfigurationError(f"{args.file}: {exc}") from None


@_run
def _cmd_capture(args: argparse.Namespace) -> int:
    from .errors import ConfigurationError

    document = _load_json(args.file)
    if not isinstance(document, dict) or document.get("type") != "EPCISDocument":
        raise ConfigurationError(f"{args.file}: not an EPCISDocument")
    with _client(args) as client:
        if not _is_signed(document):
            document = _sign(args, client, document)
        job = client.capture_epcis(document)
    if args.json:
        _emit_json(job)
    else:
        print(f"capture {job['captureID']}: {job['recordCount']} event(s) stored")
        for record, hash_id in zip(job["records"], job["hashIDs"], strict=False):
            dup = " (already stored)" if record["duplicate"] else ""
            print(f"  {record['recordId']}  {hash_id}{dup}")
    return EXIT_OK


_QUERY_FLAGS = (
    ("--event-type", "event_type", "ObjectEvent, AggregationEvent, TransformationEvent, ..."),
    ("--since", "ge_event_time", "eventTime >= this RFC 3339 time"),
    ("--until", "lt_event_time", "eventTime < this RFC 3339 time"),
    ("--biz-step", "biz_step", "CBV bizStep (shipping, receiving, ...)"),
    ("--disposition", "disposition", "CBV disposition (in_transit, ...)"),
    ("--biz-location", "biz_location", "bizLocation (GLN URI or SGLN URN)"),
    ("--event-id", "event_id", "eventID or CBV 2.0 hash ID"),
    ("--epc", "any_epc", "an EPC in any role"),
    ("--epc-class", "any_epc_class", "an EPC class in any role (a lot's epcClass)"),
)


@_run
def _cmd_query(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {name: getattr(args, name) for _, name, _ in _QUERY_FLAGS}
    params["per_page"] = args.per_page
    events: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    with _client(args) as client:
        while True:
            doc = client.query_events(**params)
            events += _events_of(doc)
            records += doc.get("vnt:records", [])
            token = doc.get("vnt:nextPageToken")
            if not args.all or not token:
                break
            params["next_page_token"] = token
    if args.json:
        _emit_json({"events": events, "records": records, "nextPageToken": token})
    else:
        for event, record in zip(events, records, strict=False):
            print(
                f"{event.get('eventTime')}  {event.get('type')!s:<20} "
                f"{event.get('bizStep', '-')!s:<12} {record.get('status')!s:<9} "
                f"{event.get('eventID')}"
            )
        more = f"; more: --all (next token {token})" if token and not args.all else ""
        print(f"{len(events)} event(s){more}", file=sys.stderr)
    return EXIT_OK if events else EXIT_FAILED


@_run
def _cmd_export(args: argparse.Namespace) -> int:
    with _client(args) as client:
        doc = client.epcis_lot(args.gtin, args.lot)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)  # whole or not at all
        print(args.out)
    count = len(doc["epcisBody"]["eventList"])
    print(f"{count} event(s) of lot {args.lot}; proof bundles in vnt:records", file=sys.stderr)
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``epcis capture``, ``epcis query`` and ``epcis export``."""
    epcis = sub.add_parser("epcis", help="GS1 EPCIS 2.0: capture, query, export events")
    epcis_sub = epcis.add_subparsers(dest="epcis_command", metavar="ACTION", required=True)

    capture = epcis_sub.add_parser(
        "capture",
        help="capture an EPCISDocument (signed here first if its events are not)",
        description="All or nothing: a refused document stores nothing and each refused "
        "event is listed. Exit code: 0 stored, 2 bad file or no key, 5 refused.",
    )
    capture.add_argument("file", metavar="FILE", help="EPCISDocument (JSON-LD), - for stdin")
    capture.add_argument(
        "--set-event-ids",
        action="store_true",
        help="replace ni: eventIDs that are not the event's CBV 2.0 hash ID",
    )
    capture.add_argument("--json", action="store_true", help="print the capture job as JSON")
    _node_options(capture)
    _key_options(capture)
    capture.set_defaults(func=_cmd_capture)

    query = epcis_sub.add_parser(
        "query",
        help="the EPCIS simple event query (public)",
        description="Exit code: 0 events found, 1 none, 5 refused or unreachable.",
    )
    for flag, dest, text in _QUERY_FLAGS:
        query.add_argument(flag, dest=dest, metavar="VALUE", help=text)
    query.add_argument("--per-page", type=int, default=None, metavar="N")
    query.add_argument("--all", action="store_true", help="follow every page")
    query.add_argument("--json", action="store_true", help="print events and records as JSON")
    _node_options(query, auth=False)
    query.set_defaults(func=_cmd_query)

    export = epcis_sub.add_parser(
        "export", help="a lot's events as an EPCISDocument, each with its proof bundle link"
    )
    export.add_argument("gtin", metavar="GTIN")
    export.add_argument("lot", metavar="LOT")
    export.add_argument("--out", type=Path, metavar="FILE", help="write here (default stdout)")
    _node_options(export, auth=False)
    export.set_defaults(func=_cmd_export)
