"""Validation of an EPCIS 2.0 capture document: size, JSON, GS1's JSON Schema, CBV 2.0
vocabulary, the product profile's rules; every problem named by event index and eventID.

Order of checks: size before parsing (:data:`MAX_DOCUMENT_BYTES`), strict JSON
(no duplicate keys, no NaN), GS1's EPCIS 2.0 JSON Schema (draft-07, compiled once, with
format checks), vocabulary (bizStep/disposition must be CBV 2.0 words or their web/URN
forms, or a URI the profile itself declares), then per event: the mapping back to the
profile (:func:`.mapping.from_epcis`) and :func:`vntrace.node.records.validate_event`.
All-or-nothing: :func:`validate_document` returns every event or raises with every
problem.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from vntrace.node.profile import CBV_BIZ_STEPS, CBV_DISPOSITIONS
from vntrace.node.records import validate_event
from vntrace.node.records.canonical import parse_json
from vntrace.node.records.errors import EventValidationError, RecordError

from .corrections import Correction, correction_of
from .errors import (
    DocumentTooLargeError,
    DocumentValidationError,
    EpcisError,
    EventProblem,
)
from .hashid import document_events, event_hash_id, namespaces_of
from .mapping import from_epcis

if TYPE_CHECKING:
    from vntrace.node.profile import Profile
    from vntrace.node.records.validation import PrivateMode

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_EVENTS = 10_000
SCHEMA_FILE = "EPCIS-JSON-Schema.json"
_CBV = "https://ref.gs1.org/cbv/"
_VOCAB = {
    "bizStep": (CBV_BIZ_STEPS, _CBV + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": (CBV_DISPOSITIONS, _CBV + "Disp-", "urn:epcglobal:cbv:disp:"),
}


@lru_cache(maxsize=1)
def epcis_schema_validator() -> jsonschema.protocols.Validator:
    """GS1's EPCIS 2.0 JSON Schema, compiled once (shipped as package data)."""
    text = resources.files("vntrace.node.epcis").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = copy.deepcopy(cls.FORMAT_CHECKER)
    base_uri = checker.checkers["uri"][0] if "uri" in checker.checkers else None

    @checker.checks("uri", raises=ValueError)
    def _uri_or_blank_node(value: object) -> bool:
        # JSON-LD 1.1 §4.5: where an IRI is expected (``id`` is ``@id``), a blank node
        # identifier ``_:name`` may stand; GS1's own examples use ``"id": "_:document1"``.
        if isinstance(value, str) and value.startswith("_:") and len(value) > 2:
            return True
        return base_uri(value) if base_uri is not None else True

    return cls(schema, format_checker=checker)


def schema_path() -> Path:
    """Where the packaged copy of GS1's schema lives (tests compare it with the vector)."""
    return Path(str(resources.files("vntrace.node.epcis").joinpath(SCHEMA_FILE)))


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """One event of a valid document, with what the node stores and indexes."""

    index: int
    event: dict[str, Any]
    event_id: str | None
    hash_id: str
    gtin: str
    lot: str
    kind: str
    correction: Correction | None


def _vocab_word(field: str, value: Any, profile: Profile) -> str | None:
    """``None`` if acceptable, else the message."""
    words, web, urn = _VOCAB[field]
    if not isinstance(value, str):
        return f"{field} must be a string"
    word = value
    for prefix in (web, urn):
        if value.startswith(prefix):
            word = value[len(prefix) :]
    if word in words:
        return None
    declared = {
        getattr(k, "biz_step" if field == "bizStep" else "disposition")
        for k in profile.kinds.values()
    }
    if value in declared:
        return None
    return f"{value[:80]!r} is not a CBV 2.0 {field} (nor one the profile declares)"


def _event_id(event: Any) -> str | None:
    if isinstance(event, dict) and isinstance(event.get("eventID"), str):
        return event["eventID"]
    return None


def validate_document(
    data: bytes | str | dict[str, Any],
    profile: Profile,
    *,
    now: datetime | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    private: PrivateMode = "either",
) -> list[CapturedEvent]:
    """Validate a capture document (raw bytes/str, or already parsed); return its events.

    ``private`` is passed to :func:`vntrace.node.records.validate_event`: ``"committed"``
    at signed-record intake (no confidential value in a public record), ``"either"`` for a
    plain client's capture, whose private values the node commits before it signs.
    Raises :class:`DocumentTooLargeError` before parsing when over ``max_bytes``, and
    :class:`DocumentValidationError` listing every problem (index, eventID, rule).
    """
    if isinstance(data, bytes | str):
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        if size > max_bytes:
            raise DocumentTooLargeError(f"document is {size} bytes; the limit is {max_bytes}")
        try:
            doc = parse_json(data, max_bytes=max_bytes)
        except RecordError as exc:
            raise DocumentValidationError([EventProblem(None, None, "json", str(exc))]) from None
    else:
        doc = data
    if not isinstance(doc, dict) or doc.get("type") != "EPCISDocument":
        raise DocumentValidationError(
            [EventProblem(None, None, "document", "expected an EPCISDocument object")]
        )
    problems: list[EventProblem] = []
    events_raw = (
        doc.get("epcisBody", {}).get("eventList")
        if isinstance(doc.get("epcisBody"), dict)
        else None
    )
    events = events_raw if isinstance(events_raw, list) else []
    if len(events) > MAX_EVENTS:
        raise DocumentValidationError(
            [EventProblem(None, None, "size", f"{len(events)} events; at most {MAX_EVENTS}")]
        )
    for error in epcis_schema_validator().iter_errors(doc):
        path = list(error.absolute_path)
        index = None
        if len(path) >= 3 and path[:2] == ["epcisBody", "eventList"] and isinstance(path[2], int):
            index = path[2]
            path = path[3:]
        event_id = _event_id(events[index]) if index is not None else None
        problems.append(
            EventProblem(
                index, event_id, "schema", error.message[:300], ".".join(str(p) for p in path)
            )
        )
    if any(p.index is None for p in problems):
        raise DocumentValidationError(problems)
    schema_failed = {p.index for p in problems}
    ns = namespaces_of(doc.get("@context"))
    out: list[CapturedEvent] = []
    for i, event in enumerate(document_events(doc)):
        if i in schema_failed:
            continue  # the profile checks would only repeat the schema's complaint
        eid = _event_id(event)
        before = len(problems)
        for field in ("bizStep", "disposition"):
            if field in event:
                message = _vocab_word(field, event[field], profile)
                if message is not None:
                    problems.append(EventProblem(i, eid, "vocabulary", message, field))
        try:
            correction = correction_of(event)
            view = from_epcis(profile, event)
            validate_event(profile, view.event, now=now, private=private)
            if view.gtin not in profile.gtins:
                problems.append(
                    EventProblem(
                        i,
                        eid,
                        "identifier",
                        f"GTIN {view.gtin} is not a product of profile {profile.id}",
                        "epcClass",
                    )
                )
        except EventValidationError as exc:
            for fe in exc.errors:
                problems.append(EventProblem(i, eid, "profile", fe.message, fe.path))
            continue
        except EpcisError as exc:
            problems.append(EventProblem(i, eid, "profile", str(exc)))
            continue
        if len(problems) > before:
            continue
        out.append(
            CapturedEvent(
                index=i,
                event=event,
                event_id=eid,
                hash_id=event_hash_id(event, ns),
                gtin=view.gtin,
                lot=view.lot,
                kind=str(view.event["kind"]),
                correction=correction,
            )
        )
    if problems:
        raise DocumentValidationError(problems)
    return out
