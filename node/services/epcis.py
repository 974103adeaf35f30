"""EPCIS 2.0 capture and query (the REST bindings' ``/capture`` and ``/events``).

Capture takes an ``EPCISDocument`` whose events the vntrace SDK signed (each carries
the ``vnt:signature`` envelope, docs/epcis.md §6) and, from a producer with a custodial
key, unsigned events of a plain EPCIS client, which the node signs for the producer
(:mod:`.custodial`; a document may mix both). The document is checked whole
before anything is written: size before parsing, GS1's JSON Schema, CBV 2.0
vocabulary, the profile's rules with private fields committed, each event's signature
recovering to the calling producer, each lot the caller's. Only then are the records
stored, in ONE transaction for the whole document (the store's ``add_records``, the
path every intake takes: acknowledged = committed, anchored by the same pipeline), and
indexed in the transaction right after. The index is derived data: a crash between
the two leaves acknowledged records unindexed, which a retry of the capture (its
records come back as duplicates) or :meth:`EpcisService.rebuild_index` repairs.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vntrace.node.epcis.collections import next_token, page_params
from vntrace.node.epcis.custodial import prepare_unsigned_event
from vntrace.node.epcis.errors import DocumentTooLargeError, DocumentValidationError, EpcisError
from vntrace.node.epcis.hashid import event_hash_id, namespaces_of
from vntrace.node.epcis.index import (
    EventQuery,
    PageCursor,
    QueryTooLargeError,
    decode_page_token,
    encode_page_token,
    index_entry,
    parse_query,
)
from vntrace.node.epcis.mapping import epcis_document, with_context
from vntrace.node.epcis.records import (
    BUNDLE_VERSION_EPCIS,
    SIGNATURE_FIELD,
    event_version,
    split_signature,
    verify_epcis_record,
)
from vntrace.node.epcis.store import CaptureRow, EpcisStore, EventRow
from vntrace.node.epcis.validate import MAX_DOCUMENT_BYTES, validate_document
from vntrace.node.errors import (
    NodeError,
    NotFoundError,
)
from vntrace.node.records import (
    RecordError,
    SignedRecord,
    build_signed_record,
    canonicalize,
    lot_key,
)
from vntrace.node.records.canonical import parse_json
from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store.clock import from_ms, to_ms, utc_now
from vntrace.node.store.types import ProducerRow

from .context import NodeContext, hex0x
from .custodial import CustodialService, CustodialSigner, how_to_get_one
from .disclosures import DisclosureService
from .intake import CheckedRecord, IntakeService
from .models import Acknowledgement
from .producers import ProducerService

log = logging.getLogger("vntrace.epcis")

BUNDLE_URL = "/v1/records/{recordId}/bundle"
"""Where each event's proof bundle is (the same link as the lot export's ``vnt:records``)."""
_REBUILD_PAGE = 500


class CaptureRefusedError(NodeError):
    """A capture document was refused; ``errors`` names each event (index, eventID, rule).

    400, as the EPCIS 2.0 REST bindings answer a ValidationException on ``POST /capture``.
    """

    status = 400
    title = "EPCIS validation exception"

    def __init__(self, detail: str, *, capture_id: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)
        self.capture_id = capture_id


class CaptureTooLargeError(NodeError):
    """The document is over the capture size limit (refused before parsing)."""

    status = 413
    title = "Capture payload too large"


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """A finished capture job: its id and every stored record's acknowledgement."""

    capture_id: str
    acknowledgements: list[Acknowledgement]
    hash_ids: list[str]


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of a query: the events as stored, and where their proofs are."""

    events: list[dict[str, Any]]
    records: list[dict[str, Any]]
    next_page_token: str | None = None
    query: EventQuery = field(default_factory=EventQuery)


def _problem(index: int | None, event_id: Any, rule: str, message: str) -> dict[str, Any]:
    return {
        "index": index,
        "eventID": event_id if isinstance(event_id, str) else None,
        "rule": rule,
        "path": "",
        "message": message,
    }


class EpcisService:
    """Capture of SDK-signed EPCIS documents; the standard event query over the index."""

    def __init__(
        self,
        ctx: NodeContext,
        intake: IntakeService,
        producers: ProducerService,
        disclosures: DisclosureService,
        *,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        custodial: CustodialService | None = None,
    ) -> None:
        self._ctx = ctx
        self._intake = intake
        self._producers = producers
        self._disclosures = disclosures
        self._custodial = custodial
        """Signs the unsigned events of producers that asked for a custodial key."""
        self.max_document_bytes = max_document_bytes
        self.store = EpcisStore(ctx.store.engine)
        self._fresh = False
        """Whether this process re-derived the rows an older index wrote (once)."""
        self._fresh_lock = threading.Lock()

    # -- capture -----------------------------------------------------------------------

    def capture(self, producer: ProducerRow, document: bytes) -> CaptureResult:
        """Check, store and index a capture document, all or nothing (EPCIS 2.0 REST
        bindings: ``GS1-Capture-Error-Behaviour: rollback``, the default)."""
        if len(document) > self.max_document_bytes:
            raise CaptureTooLargeError(
                f"the document is {len(document)} bytes; this node captures at most "
                f"{self.max_document_bytes} bytes per request"
            )
        capture_id = "cap_" + secrets.token_hex(12)
        self.store.create_capture(capture_id, producer.id, to_ms(utc_now()))
        try:
            result = self._capture(producer, document, capture_id)
        except CaptureRefusedError as exc:
            self.store.finish_capture(capture_id, "failed", to_ms(utc_now()), errors=exc.errors)
            raise
        except NodeError as exc:
            errors = exc.errors or [_problem(None, None, "capture", exc.detail)]
            self.store.finish_capture(capture_id, "failed", to_ms(utc_now()), errors=errors)
            raise
        self.store.finish_capture(
            capture_id, "success", to_ms(utc_now()), record_count=len(result.acknowledgements)
        )
        return result

    def _refuse(self, capture_id: str, errors: list[dict[str, Any]], total: int) -> None:
        events = {e["index"] for e in errors if e["index"] is not None}
        head = errors[0]
        where = f"event {head['index']}" if head["index"] is not None else "document"
        raise CaptureRefusedError(
            f"{len(events)} of {total} events refused, nothing was stored "
            f"(first: {where}: {head['rule']}: {head['message']})",
            capture_id=capture_id,
            errors=errors,
        )

    def _capture(self, producer: ProducerRow, document: bytes, capture_id: str) -> CaptureResult:
        ctx = self._ctx
        try:
            doc = parse_json(document, max_bytes=self.max_document_bytes)
        except RecordError as exc:
            self._refuse(capture_id, [_problem(None, None, "json", str(exc))], 0)
        if not isinstance(doc, dict):
            self._refuse(capture_id, [_problem(None, None, "document", "not an object")], 0)
        body = doc.get("epcisBody")
        raw_events = body.get("eventList") if isinstance(body, dict) else None
        if not isinstance(raw_events, list) or not raw_events:
            self._refuse(
                capture_id,
                [_problem(None, None, "document", "epcisBody.eventList holds no events")],
                0,
            )
        total = len(raw_events)
        context = doc.get("@context")
        # Events without an envelope (a plain EPCIS client) are signed by the node with
        # the producer's custodial key, if it asked for one (docs/epcis.md §6).
        signer = None
        if self._custodial is not None and any(
            isinstance(e, dict) and SIGNATURE_FIELD not in e for e in raw_events
        ):
            signer = self._custodial.signer(producer)
        custodial: dict[int, bytes] = {}  # event index -> its derived salt
        # The envelope is not event data: take it off before the schema and profile see it.
        errors: list[dict[str, Any]] = []
        envelopes: list[Any] = []
        stripped: list[Any] = []
        opened: list[Any] = []
        for i, event in enumerate(raw_events):
            envelope = None
            raw_envelope = event.get(SIGNATURE_FIELD) if isinstance(event, dict) else None
            opened.append(
                raw_envelope.get("disclosures") if isinstance(raw_envelope, dict) else None
            )
            if isinstance(event, dict):
                try:
                    event, envelope = split_signature(event)
                except EpcisError as exc:
                    errors.append(_problem(i, event.get("eventID"), "signature", str(exc)))
                    event = {k: v for k, v in event.items() if k != SIGNATURE_FIELD}
                    envelope = False
                if envelope is None and signer is not None:
                    # Private fields committed, eventID set, salt derived: as the SDK does.
                    prepared, disclosed, salt = prepare_unsigned_event(
                        ctx.profile, event, context, signer.derive
                    )
                    if salt is not None:
                        event = _in_document(prepared, context)
                        custodial[i] = salt
                        opened[-1] = disclosed or None
            stripped.append(event)
            envelopes.append(envelope)
        plain = {**doc, "epcisBody": {**body, "eventList": stripped}}
        try:
            captured = validate_document(
                plain, ctx.profile, max_bytes=self.max_document_bytes, private="committed"
            )
        except DocumentTooLargeError as exc:
            raise CaptureTooLargeError(str(exc)) from None
        except DocumentValidationError as exc:
            captured = []
            errors += exc.to_dicts()
        for i, envelope in enumerate(envelopes):
            if envelope is None and i not in custodial:
                how = (
                    "the node could not prepare it for signing (not canonical JSON)"
                    if signer is not None
                    else "sign the events with the vntrace SDK, or let the node sign them "
                    f"for you (custodial signing): {how_to_get_one(producer)}"
                )
                errors.append(
                    _problem(
                        i,
                        stripped[i].get("eventID") if isinstance(stripped[i], dict) else None,
                        "signature",
                        f"no {SIGNATURE_FIELD} envelope: {how}",
                    )
                )
        if errors:
            self._refuse(capture_id, sorted(errors, key=_order), total)

        address = to_checksum_address(producer.address)
        chain_id, registry = ctx.chain.chain_id, ctx.chain.registry_address
        checked = []
        for c in captured:
            envelope = envelopes[c.index]
            signed = with_context(c.event, context)
            if c.index in custodial:
                pass  # the node signs it below, once its eventID is checked
            elif envelope is None:
                continue  # refused above (no custodial key)
            elif envelope.producer.lower() != address.lower():
                errors.append(
                    _problem(
                        c.index,
                        c.event_id,
                        "signature",
                        f"signed for producer {envelope.producer}, but the API key is {address}'s",
                    )
                )
                continue
            elif envelope.chain_id != chain_id:
                errors.append(
                    _problem(
                        c.index,
                        c.event_id,
                        "signature",
                        f"signed for chain {envelope.chain_id}; this node anchors on {chain_id}",
                    )
                )
                continue
            hashed = isinstance(c.event_id, str) and c.event_id.startswith("ni:///")
            if hashed and c.event_id != event_hash_id(signed):
                errors.append(
                    _problem(
                        c.index,
                        c.event_id,
                        "identifier",
                        "eventID is a CBV 2.0 hash ID but not this event's (was it edited?)",
                    )
                )
                continue
            try:
                if c.index in custodial:
                    assert signer is not None
                    rec = _custodial_record(c, signed, custodial[c.index], signer, ctx)
                else:
                    # The profile checks ran on the whole document above (schema,
                    # vocabulary, profile with private fields committed; the lot is the
                    # event's own), so only the cryptography is left: it halves the cost.
                    rec = verify_epcis_record(
                        None,
                        gtin=c.gtin,
                        lot=c.lot,
                        event=signed,
                        salt=envelope.salt,
                        producer=address,
                        signature=envelope.signature,
                        chain_id=chain_id,
                        registry=registry,
                    )
            except RecordError as exc:
                errors.append(_problem(c.index, c.event_id, "signature", str(exc)))
                continue
            # Private values the SDK opened for auditors: checked against the event's
            # commitments, sealed at rest, as /v1/lots does (never in a public view).
            sealed, problems = self._disclosures.seal(rec.leaf, rec.event, opened[c.index])
            if problems:
                errors += [
                    _problem(c.index, c.event_id, "disclosure", f"{p['field']}: {p['message']}")
                    for p in problems
                ]
                continue
            try:  # pure, before anything is stored: a record is never left unindexable
                entry = index_entry(signed, c.hash_id, capture_id)
            except EpcisError as exc:
                errors.append(_problem(c.index, c.event_id, "index", str(exc)))
                continue
            checked.append((c, signed, rec, sealed, entry))
        # Lots: read first, write only once the whole document is known to be good.
        lot_rows = {}
        for c, *_ in checked:
            if (c.gtin, c.lot) in lot_rows:
                continue
            row = ctx.store.get_lot(lot_key(c.gtin, c.lot))
            if row is not None and row.producer_id != producer.id:
                errors.append(
                    _problem(
                        c.index,
                        c.event_id,
                        "lot",
                        f"lot {c.lot} of GTIN {c.gtin} belongs to another producer",
                    )
                )
            lot_rows[(c.gtin, c.lot)] = row
        if errors:
            self._refuse(capture_id, sorted(errors, key=_order), total)
        for key in lot_rows:
            lot_rows[key] = self._producers.own_lot(producer, *key)

        acks = self._intake.store(  # the one path to the store every intake takes
            producer,
            [
                CheckedRecord(
                    leaf=rec.leaf,
                    lot=lot_rows[(c.gtin, c.lot)],
                    digest=rec.digest,
                    salt=rec.salt,
                    event_json=rec.canonical or canonicalize(signed),
                    signature=rec.signature,
                    sealed_disclosures=sealed,
                    custodian=signer.address if signer and c.index in custodial else None,
                )
                for c, signed, rec, sealed, _ in checked
            ],
        )
        self.store.index([(rec.leaf, entry) for _, _, rec, _, entry in checked])
        return CaptureResult(
            capture_id=capture_id,
            acknowledgements=acks,
            hash_ids=[c.hash_id for c, *_ in checked],
        )

    def capture_job(self, capture_id: str) -> CaptureRow:
        """A capture job's state (the bindings' ``GET /capture/{captureID}``)."""
        row = self.store.get_capture(capture_id) if len(capture_id) <= 64 else None
        if row is None:
            raise NotFoundError(f"no capture job {capture_id[:80]}")
        return row

    # -- query -------------------------------------------------------------------------

    def query(self, params: Mapping[str, str], fixed: Mapping[str, str] | None = None) -> EventPage:
        """One page of the simple event query (EPCIS 2.0 §8.2.7.1) over indexed records.

        Public, like provenance: the events are the stored, signed ones, so private
        fields are commitments. Record order unless ``orderBy`` (eventTime or
        recordTime, DESC unless ``orderDirection=ASC``); ``eventCountLimit`` truncates
        the whole result (across pages), ``maxEventCount`` refuses it when more would be
        returned (:class:`~vntrace.node.epcis.index.QueryTooLargeError`). Raises
        :class:`~vntrace.node.epcis.index.EpcisQueryError`.
        """
        q = parse_query(params, fixed)
        token = params.get("nextPageToken")
        cursor = decode_page_token(q, token) if token else PageCursor()
        self.ensure_fresh_index()
        if q.max_event_count is not None:
            found = self.store.count(q, at_most=q.max_event_count + 1)
            if found > q.max_event_count:
                raise QueryTooLargeError(
                    "maxEventCount",
                    f"the query matches more than {q.max_event_count} events; narrow it "
                    "or raise maxEventCount",
                )
        size = q.per_page
        if q.event_count_limit is not None:
            size = min(size, q.event_count_limit - cursor.returned)
        rows = (
            self.store.query(q, after_id=cursor.after_id, after_key=cursor.key, limit=size + 1)
            if size > 0
            else []
        )
        more = len(rows) > size
        rows = rows[:size]
        if q.event_count_limit is not None and cursor.returned + len(rows) >= q.event_count_limit:
            more = False  # the result is truncated here: no next page
        events = [_event_of(r) for r in rows]
        index = [
            {
                "eventID": e.get("eventID"),
                "recordId": hex0x(r.leaf),
                "version": BUNDLE_VERSION_EPCIS,
                "status": r.status,
                "bundle": BUNDLE_URL.format(recordId=hex0x(r.leaf)),
                **({"recordTime": _rfc3339(r.record_time)} if r.record_time is not None else {}),
            }
            for e, r in zip(events, rows, strict=True)
        ]
        next_token = None
        if more and rows:
            last = rows[-1]
            key = {"eventTime": last.event_time, "recordTime": last.record_time}.get(
                q.order_by or ""
            )
            next_token = encode_page_token(
                q,
                last.record_id,
                key,
                cursor.returned + len(rows) if q.event_count_limit is not None else 0,
            )
        return EventPage(events=events, records=index, next_page_token=next_token, query=q)

    def query_document(self, page: EventPage) -> dict[str, Any]:
        """An ``EPCISQueryDocument`` (EPCIS 2.0 §9, the bindings' 200 answer) of a page,
        with ``vnt:records`` naming each event's record and proof bundle (as the lot
        export does, docs/epcis.md §5)."""
        doc = epcis_document(page.events, self._ctx.profile)
        event_list = doc.pop("epcisBody")["eventList"]
        doc["type"] = "EPCISQueryDocument"
        doc["epcisBody"] = {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": event_list},
            }
        }
        doc["vnt:records"] = page.records
        if page.next_page_token is not None:
            # Also in ``Link: rel="next"`` (the bindings' way); here for clients that
            # keep only the body.
            doc["vnt:nextPageToken"] = page.next_page_token
        return doc

    def members(self, resource: str, params: Mapping[str, str]) -> tuple[list[str], str | None]:
        """One page of a top-level resource's members (``GET /epcis/bizSteps`` ...): the
        values found in the captured events, ascending, and the next page's token."""
        per_page, after = page_params(resource, params)
        found = self.store.members(resource, after=after, limit=per_page)
        return found, next_token(resource, found, per_page)

    # -- the index is derived: rebuildable ---------------------------------------------

    def rebuild_index(self) -> int:
        """Index every stored EPCIS record that is not indexed yet, and re-derive the
        rows an older index wrote (before migration 7); returns how many records were
        (re)indexed.

        Idempotent and safe beside running captures (an indexed record is left alone).
        """
        done, after = refresh_index(self.store), 0
        while True:
            rows = self.store.unindexed(after, _REBUILD_PAGE)
            if not rows:
                return done
            after = rows[-1].record_id
            entries = [(r.leaf, e) for r in rows if (e := _entry_of(r)) is not None]
            self.store.index(entries)
            done += len(entries)

    def ensure_fresh_index(self) -> None:
        """Once per process, before the first query: re-derive the index rows written
        before migration 7 (they lack action, error reason, corrective eventIDs and
        record time), so every parameter sees every event. Cheap when there are none."""
        if self._fresh:
            return
        with self._fresh_lock:
            if not self._fresh:
                n = refresh_index(self.store)
                if n:
                    log.info("re-derived %d EPCIS index rows written by an older index", n)
                self._fresh = True


def refresh_index(store: EpcisStore) -> int:
    """Re-derive, from their records, the index rows an older derivation wrote (those
    indexed before migration 7 have ``index_version`` NULL); returns how many. A row
    whose event no longer indexes is left as it was (and logged)."""
    done, after = 0, 0
    while True:
        rows = store.stale(after, _REBUILD_PAGE)
        if not rows:
            return done
        after = rows[-1].record_id
        entries = []
        for r in rows:
            entry = _entry_of(r)
            if entry is None:
                log.warning("indexed record %d no longer indexes; left as it was", r.record_id)
                continue
            entries.append((r.leaf, entry))
        store.refresh(entries)
        done += len(entries)


def _entry_of(row: EventRow) -> Any:
    """The index entry of a stored record's event, ``None`` unless an EPCIS (v2) event."""
    event = parse_json(row.event_json)
    if not isinstance(event, dict) or "kind" in event:
        return None
    try:
        if event_version(event) != BUNDLE_VERSION_EPCIS:
            return None
        ns = namespaces_of(event.get("@context"))
        return index_entry(event, event_hash_id(event, ns), None)
    except EpcisError:
        return None


def _in_document(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A standalone event as it sits in a document with ``context`` (``@context`` off
    where it is the document's, as the document's other events are)."""
    if event.get("@context") == context:
        return {k: v for k, v in event.items() if k != "@context"}
    return event


def _custodial_record(
    c: Any, signed: dict[str, Any], salt: bytes, signer: CustodialSigner, ctx: NodeContext
) -> SignedRecord:
    """The record of an unsigned event, signed by the node with the producer's
    custodial key: the same digest, leaf and EIP-712 signature a producer makes."""
    chain = ctx.chain
    return build_signed_record(
        c.gtin,
        c.lot,
        signed,
        salt,
        producer=signer.custodian,
        chain_id=chain.chain_id,
        registry=chain.registry_address,
        sign=signer.sign,
    )


def _rfc3339(ms: int) -> str:
    return from_ms(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_of(row: EventRow) -> dict[str, Any]:
    event = parse_json(row.event_json)
    if not isinstance(event, dict):  # pragma: no cover - the store holds what intake checked
        raise EpcisError("stored event is not an object")
    return event


def _order(problem: dict[str, Any]) -> tuple[int, str]:
    index = problem["index"]
    return (-1 if index is None else index, problem["rule"])
