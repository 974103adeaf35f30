"""``/epcis``: the node's events in GS1 EPCIS 2.0 (JSON-LD, CBV 2.0); see docs/epcis.md.

The EPCIS 2.0 REST bindings (GS1's OpenAPI): ``POST /epcis/capture`` of SDK-signed
documents (202 and a capture job), ``GET /epcis/capture/{captureID}``, the simple event
query ``GET /epcis/events`` and its top-level resources (``/eventTypes``, ``/epcs``,
``/bizSteps``, ``/bizLocations``, ``/readPoints``, ``/dispositions``: each a collection of
what the captured events hold, each member's ``/…/{value}/events`` the query with that
filter), ``GET /epcis/events/{eventID}``, ``GET /epcis/`` (the top-level resources);
plus vntrace's export of one lot (``GET /epcis/lots/{gtin}/{lot}/events``). Answers
name each event's record and proof bundle in ``vnt:records``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from vntrace.node.epcis.collections import (
    MEMBER_RESOURCES,
    SUB_RESOURCES,
    TOP_LEVEL,
    collection,
)
from vntrace.node.epcis.hashid import EPCIS_TYPES
from vntrace.node.epcis.index import ANY_IDENTIFIER, QUERY_PARAMETERS, EpcisQueryError
from vntrace.node.epcis.records import lot_document
from vntrace.node.epcis.store import CaptureRow
from vntrace.node.epcis.validate import MAX_EVENTS
from vntrace.node.services.epcis import (
    CaptureRefusedError,
    CaptureResult,
    CaptureTooLargeError,
    EpcisService,
)

from ..body import check_json_content_type, read_body
from ..deps import EpcisDep, ProducerDep, ProfileDep, ProvenanceDep
from ..epcis_versions import NOT_ACCEPTABLE, VERSION_HEADERS, add_discovery, negotiate
from ..problems import Problem
from ..schemas.epcis import CaptureAccepted, CaptureJob, capture_job_json
from ..schemas.lots import RecordAck
from .common import lot_identity

router = APIRouter(
    prefix="/epcis", tags=["epcis"], dependencies=[Depends(negotiate)], responses=NOT_ACCEPTABLE
)

EPCIS_HEADERS = VERSION_HEADERS
LD_JSON = "application/ld+json"


def _ld(body: Any) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type=LD_JSON,
        headers=EPCIS_HEADERS,
    )


@router.get("/eventTypes", response_class=Response, responses={200: {"content": {LD_JSON: {}}}})
def event_types() -> Response:
    """The EPCIS 2.0 event types this node serves (an `EventTypeCollection`)."""
    return _ld(collection(sorted(EPCIS_TYPES)))


@router.get(
    "/lots/{gtin}/{lot:path}/events",
    response_class=Response,
    responses={200: {"content": {LD_JSON: {}}}},
)
def lot_events(gtin: str, lot: str, profile: ProfileDep, provenance: ProvenanceDep) -> Response:
    """The lot's events as an EPCIS 2.0 document (public, like provenance: private
    fields are commitments). Each event's proof bundle is linked in ``vnt:records``."""
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    return _ld(lot_document(profile, provenance.provenance(gtin14, lot)))


# -- capture and query (EPCIS 2.0 REST bindings; GS1's OpenAPI, docs/epcis.md §8) --------

_QUERY_DOC = {
    "parameters": [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "EPCIS 2.0 simple event query parameter (pipe-delimited values).",
        }
        for name in sorted(QUERY_PARAMETERS)
    ]
}
_LD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {LD_JSON: {}}},
    400: {"description": "A bad query parameter (`QueryParameterException`)."},
    413: {"description": "More events than `maxEventCount` (`QueryTooLargeException`)."},
}
_CAPTURE_EXAMPLE = {
    "@context": [
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"vnt": "https://vntrace.org/ns/robusta-vn/1/"},
    ],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-03-01T12:00:00.000Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "eventTime": "2026-03-01T08:00:00+07:00",
                "eventTimeZoneOffset": "+07:00",
                "quantityList": [
                    {
                        "epcClass": "https://id.gs1.org/01/08930000000019/10/EA-2026-001",
                        "quantity": 1200,
                        "uom": "KGM",
                    }
                ],
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "vnt:kind": "shipping",
                "vnt:destinationCountry": "DE",
                "vnt:shipper": {"name": "Simexco Đắk Lắk"},
                "eventID": "ni:///sha-256;…?ver=CBV2.0",
                "vnt:signature": {
                    "producer": "0x…",
                    "salt": "0x…",
                    "signature": "0x…",
                    "chainId": 1,
                    "registry": "0x…",
                    "signer": "producer",
                },
            }
        ]
    },
}


def _query_problem(exc: EpcisQueryError) -> Problem:
    # GS1: an unusable query parameter is a QueryParameterException, answered 400; a
    # result over maxEventCount a QueryTooLargeException, 413 (413QueryScopeOrSize).
    too_large = exc.status == 413
    return Problem(
        exc.status,
        str(exc),
        title="EPCIS query too large" if too_large else "EPCIS query parameter exception",
        errors=[
            {
                "field": exc.parameter,
                "message": str(exc),
                "code": "query_too_large" if too_large else "query_parameter",
            }
        ],
        epcisException=exc.epcis_exception,
        headers=EPCIS_HEADERS,
    )


def _page(request: Request, epcis: EpcisService, fixed: dict[str, str] | None = None) -> Response:
    params = dict(request.query_params)
    if len(params) != len(request.query_params.multi_items()):
        raise Problem(400, "give each query parameter once (several values: a|b)")
    try:
        page = epcis.query(params, fixed)
    except EpcisQueryError as exc:
        raise _query_problem(exc) from None
    response = _ld(epcis.query_document(page))
    if page.next_page_token is not None:
        nxt = request.url.include_query_params(nextPageToken=page.next_page_token)
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return response


@router.post(
    "/capture",
    status_code=202,
    response_model=CaptureAccepted,
    responses={
        202: {"headers": {"Location": {"description": "The capture job: /epcis/capture/{id}"}}},
        400: {"description": "The document was refused; `errors` names each event."},
        413: {"description": "Over the capture size limit."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                LD_JSON: {"schema": {"type": "object"}, "example": _CAPTURE_EXAMPLE},
                "application/json": {"schema": {"type": "object"}, "example": _CAPTURE_EXAMPLE},
            },
        }
    },
)
async def capture(request: Request, producer: ProducerDep, epcis: EpcisDep) -> Response:
    """Capture an `EPCISDocument` whose events the vntrace SDK signed (each carries
    `vnt:signature`). All or nothing (`GS1-Capture-Error-Behaviour: rollback`): the
    whole document is checked first; a refusal is a 400 problem naming each event."""
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback")
    if behaviour != "rollback":
        raise Problem(
            400,
            "GS1-Capture-Error-Behaviour: only rollback is supported (all or nothing)",
            errors=[{"field": "GS1-Capture-Error-Behaviour", "message": "unsupported"}],
        )
    check_json_content_type(request)
    body = await read_body(request, epcis.max_document_bytes)

    def run() -> tuple[CaptureResult, CaptureRow]:
        result = epcis.capture(producer, body)
        return result, epcis.capture_job(result.capture_id)

    try:
        result, job = await run_in_threadpool(run)  # database and CPU work off the loop
    except CaptureRefusedError as exc:
        raise Problem(
            400,
            exc.detail,
            title=exc.title,
            errors=exc.errors,
            captureID=exc.capture_id,
            epcisException="ValidationException",
            headers={**EPCIS_HEADERS, "Location": f"/epcis/capture/{exc.capture_id}"},
        ) from None
    except CaptureTooLargeError as exc:
        raise Problem(413, exc.detail) from None
    request.app.state.metrics.add_records(sum(not a.duplicate for a in result.acknowledgements))
    answer = CaptureAccepted(
        **CaptureJob.of(job).model_dump(by_alias=False),
        records=[RecordAck.of(a) for a in result.acknowledgements],
        hash_ids=result.hash_ids,
    )
    return JSONResponse(
        capture_job_json(answer),
        status_code=202,
        headers={**EPCIS_HEADERS, "Location": f"/epcis/capture/{result.capture_id}"},
    )


@router.get("/capture/{capture_id}", response_model=CaptureJob)
def capture_job(capture_id: str, producer: ProducerDep, epcis: EpcisDep) -> Response:
    """A capture job's state (GS1 `CaptureJob`: `running`, `success`, `errors`); only
    the producer who captured sees it (another's is 404, as an unknown one)."""
    row = epcis.capture_job(capture_id)
    if row.producer_id != producer.id:
        raise Problem(404, f"no capture job {capture_id[:80]}")
    job = CaptureJob.of(row)
    return JSONResponse(capture_job_json(job), headers=EPCIS_HEADERS)


@router.get("/events", response_class=Response, responses=_LD_RESPONSES, openapi_extra=_QUERY_DOC)
def events(request: Request, epcis: EpcisDep) -> Response:
    """The simple event query: an `EPCISQueryDocument` of matching events, oldest
    record first, `perPage` at a time; the next page's URL is in `Link: rel="next"`.
    `vnt:records` names each event's record and proof bundle."""
    return _page(request, epcis)


@router.get("/events/{event_id:path}", response_class=Response, responses=_LD_RESPONSES)
def event(event_id: str, request: Request, epcis: EpcisDep) -> Response:
    """The event(s) with this eventID or CBV 2.0 hash ID (an event and its error
    declarations share one eventID, EPCIS 2.0 §7.4.1.4)."""
    extra = dict(request.query_params)
    if event_id.startswith("ni:") and list(extra) == ["ver"]:
        # An unencoded hash ID (``ni:///sha-256;…?ver=CBV2.0``): its query is part of it.
        event_id, extra = f"{event_id}?ver={extra['ver']}", {}
    if extra:
        raise Problem(400, "this resource takes no query parameters (percent-encode the eventID)")
    try:
        page = epcis.query({"EQ_eventID": event_id, "perPage": "1000"})
    except EpcisQueryError as exc:
        raise _query_problem(exc) from None
    if not page.events:
        raise Problem(404, f"no event {event_id[:120]}")
    return _ld(epcis.query_document(page))


_RESOURCES = (
    ("eventTypes", "{value}", "eventType"),
    ("epcs", "{value:path}", ANY_IDENTIFIER),
    ("bizSteps", "{value}", "EQ_bizStep"),
    ("bizLocations", "{value:path}", "EQ_bizLocation"),
    ("readPoints", "{value:path}", "EQ_readPoint"),
    ("dispositions", "{value}", "EQ_disposition"),
)
"""The bindings' top-level resources: name, the member's path, the query parameter
``/{name}/{member}/events`` fixes (EPC: any role, a lot's ``epcClass`` included)."""


def _add_resource(resource: str, member_path: str, fixed: str) -> None:
    """``/{resource}`` (its members), ``/{resource}/{member}`` (its sub-resources) and
    ``/{resource}/{member}/events`` (the event query with ``fixed`` set)."""

    def events_of(value: str, request: Request, epcis: EpcisDep) -> Response:
        return _page(request, epcis, {fixed: value})

    def member(value: str) -> Response:
        return _ld(collection(SUB_RESOURCES))

    def members(request: Request, epcis: EpcisDep) -> Response:
        return _members(request, epcis, resource)

    events_of.__doc__ = f"`/events?{fixed}=…` as a resource."
    member.__doc__ = f"One of /{resource}: its sub-resources (`events`)."
    members.__doc__ = f"The {resource} found in the captured events, `perPage` at a time."
    common: dict[str, Any] = {"methods": ["GET"], "response_class": Response}
    router.add_api_route(
        f"/{resource}/{member_path}/events",
        events_of,
        name=f"{resource}_events",
        responses=_LD_RESPONSES,
        openapi_extra=_QUERY_DOC,
        **common,
    )
    router.add_api_route(f"/{resource}/{member_path}", member, name=f"{resource}_member", **common)
    if resource in MEMBER_RESOURCES:
        router.add_api_route(f"/{resource}", members, name=f"{resource}_members", **common)


def _members(request: Request, epcis: EpcisService, resource: str) -> Response:
    params = dict(request.query_params)
    try:
        found, token = epcis.members(resource, params)
    except EpcisQueryError as exc:
        raise _query_problem(exc) from None
    response = _ld(collection(found))
    if token is not None:
        nxt = request.url.include_query_params(nextPageToken=token)
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return response


for _resource in _RESOURCES:
    _add_resource(*_resource)


@router.get("/", response_class=Response)
def top_level() -> Response:
    """The top-level resources this node serves (the bindings' `GET /`)."""
    return _ld(collection(TOP_LEVEL))


def _capture_discovery(epcis: EpcisDep) -> dict[str, str]:
    """``OPTIONS /capture``'s own headers (``204CaptureEndpointDiscovery``)."""
    return {
        "GS1-EPCIS-Capture-Limit": str(MAX_EVENTS),
        "GS1-EPCIS-Capture-File-Size-Limit": str(epcis.max_document_bytes),
        "GS1-Capture-Error-Behaviour": "rollback",
    }


add_discovery(router, extra={"/capture": _capture_discovery})  # OPTIONS on every path
