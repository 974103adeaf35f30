"""``/epcis/queries``: EPCIS 2.0 named queries and webhook subscriptions (docs/epcis.md §9).

The paths, bodies and status codes of GS1's OpenAPI of the EPCIS 2.0 REST bindings:
``POST/GET /queries``, ``GET/DELETE /queries/{queryName}``,
``GET /queries/{queryName}/events``, ``POST/GET /queries/{queryName}/subscriptions``,
``GET/DELETE /queries/{queryName}/subscriptions/{subscriptionID}``. A producer's API key
creates and deletes (and owns what it created); a named query's definition and events
are public like ``/events``; a subscription is seen only by the producer who made it.
Refusals are problem+json with the bindings' ``epcisException`` name: the service's
errors are node errors (:mod:`vntrace.node.epcis.subscriptions`), answered by the
gateway's one handler for them.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from vntrace.node.epcis.index import MAX_PER_PAGE, EpcisQueryError
from vntrace.node.epcis.subscription_store import QueryRow
from vntrace.node.records import RecordError
from vntrace.node.records.canonical import parse_json
from vntrace.node.services.epcis_subscriptions import EpcisSubscriptionService

from ..body import check_json_content_type, read_body
from ..deps import NodeDep, ProducerDep, SettingsDep
from ..epcis_versions import NOT_ACCEPTABLE, SUBSCRIPTION, add_discovery, negotiate
from ..problems import Problem
from .epcis import EPCIS_HEADERS, LD_JSON, _ld

router = APIRouter(
    prefix="/epcis", tags=["epcis"], dependencies=[Depends(negotiate)], responses=NOT_ACCEPTABLE
)


def get_subscriptions(node: NodeDep) -> EpcisSubscriptionService:
    return node.epcis_subscriptions


SubscriptionsDep = Annotated[EpcisSubscriptionService, Depends(get_subscriptions)]

_QUERY_EXAMPLE = {"name": "myShipments", "query": {"EQ_bizStep": ["shipping", "receiving"]}}
_SUBSCRIPTION_EXAMPLE = {
    "dest": "https://client.example.com/queryCallback",
    "signatureToken": "13df38d8275b13f05704629e5f1cf3d45d6132d5",
    "stream": True,
}


def _query_problem(exc: EpcisQueryError) -> Problem:
    # 400 QueryParameterException, or 413 QueryTooLargeException (maxEventCount).
    return Problem(
        exc.status,
        str(exc),
        title=f"EPCIS {exc.epcis_exception}",
        errors=[{"field": exc.parameter, "message": str(exc), "code": exc.epcis_exception}],
        epcisException=exc.epcis_exception,
        headers=EPCIS_HEADERS,
    )


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**EPCIS_HEADERS, **(headers or {})})


async def _body(request: Request, settings: Any) -> Any:
    check_json_content_type(request)
    raw = await read_body(request, settings.max_body_bytes)
    try:
        return parse_json(raw, max_bytes=settings.max_body_bytes)
    except RecordError as exc:
        raise Problem(
            400, f"the body is not JSON: {exc}", epcisException="ValidationException"
        ) from None


def _definition(row: QueryRow) -> dict[str, Any]:
    return {"name": row.name, "query": row.definition}


def _single(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if len(params) != len(request.query_params.multi_items()):
        raise Problem(400, "give each query parameter once (several values: a|b)")
    return params


@router.post(
    "/queries",
    status_code=201,
    responses={
        201: {"headers": {"Location": {"description": "/epcis/queries/{queryName}"}}},
        400: {"description": "A bad definition (`QueryParameterException`)."},
        409: {"description": "The name is taken (`ResourceAlreadyExistsException`)."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": _QUERY_EXAMPLE}
            },
        }
    },
)
async def create_query(
    request: Request, producer: ProducerDep, subs: SubscriptionsDep, settings: SettingsDep
) -> Response:
    """Create a named query (`{name, query}`, the query of GS1's query schema: lists of
    values, the parameters of `GET /events`). Its events are at `Location` + `/events`."""
    body = await _body(request, settings)
    row = await run_in_threadpool(subs.create_query, producer, body)
    return _json(_definition(row), 201, {"Location": f"/epcis/queries/{row.name}"})


@router.get("/queries")
def list_queries(request: Request, subs: SubscriptionsDep) -> Response:
    """The named queries, by name, `perPage` at a time (`Link: rel="next"`)."""
    params = _single(request)
    extra = sorted(set(params) - {"perPage", "nextPageToken"})
    if extra:
        raise _query_problem(EpcisQueryError(extra[0], "is not a parameter of this resource"))
    try:
        per_page = int(params.get("perPage", "100"))
    except ValueError:
        raise _query_problem(EpcisQueryError("perPage", "must be an integer")) from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise _query_problem(EpcisQueryError("perPage", f"must be between 1 and {MAX_PER_PAGE}"))
    after = ""
    if "nextPageToken" in params:
        token = params["nextPageToken"]
        try:
            after = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["n"]
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise _query_problem(
                EpcisQueryError("nextPageToken", "is not a token this node issued")
            ) from None
        if not isinstance(after, str):
            raise _query_problem(
                EpcisQueryError("nextPageToken", "is not a token this node issued")
            )
    rows = subs.queries(after, per_page + 1)
    response = _json([_definition(r) for r in rows[:per_page]])
    if len(rows) > per_page:
        raw = json.dumps({"n": rows[per_page - 1].name}).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        nxt = request.url.include_query_params(nextPageToken=token)
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return response


@router.get("/queries/{query_name}")
def get_query(query_name: str, subs: SubscriptionsDep) -> Response:
    """A named query's definition (public)."""
    return _json(_definition(subs.query(query_name)))


@router.delete("/queries/{query_name}", status_code=204)
def delete_query(query_name: str, producer: ProducerDep, subs: SubscriptionsDep) -> Response:
    """Remove a named query and every subscription to it (its creator's key only)."""
    subs.delete_query(producer, query_name)
    return Response(status_code=204, headers=EPCIS_HEADERS)


@router.get(
    "/queries/{query_name}/events",
    response_class=Response,
    responses={200: {"content": {LD_JSON: {}}}},
)
def query_events(query_name: str, request: Request, subs: SubscriptionsDep) -> Response:
    """The named query's events: an `EPCISQueryDocument`, paged as `/events` is
    (`perPage`, `nextPageToken`, `Link: rel="next"`)."""
    try:
        page = subs.query_events(query_name, _single(request))
    except EpcisQueryError as exc:
        raise _query_problem(exc) from None
    doc = subs.query_document(page)
    response = _ld(doc)
    if page.next_page_token is not None:
        nxt = request.url.include_query_params(nextPageToken=page.next_page_token)
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return response


@router.post(
    "/queries/{query_name}/subscriptions",
    status_code=201,
    responses={
        201: {"headers": {"Location": {"description": "The subscription's URL"}}},
        400: {"description": "Bad controls (`SubscriptionControlsException`)."},
        404: {"description": "No such query (`NoSuchNameException`)."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": _SUBSCRIPTION_EXAMPLE}
            },
        }
    },
)
async def subscribe(
    query_name: str,
    request: Request,
    producer: ProducerDep,
    subs: SubscriptionsDep,
    settings: SettingsDep,
) -> Response:
    """Subscribe a webhook `dest` to the query: `stream: true` (each new matching event)
    or a `schedule` (with `reportIfEmpty`), from `initialRecordTime` (default now). Every
    delivery is a POST of an `EPCISQueryDocument` with `GS1-Signature` =
    base64(HMAC-SHA256(signatureToken, body)); `signatureToken` is required."""
    body = await _body(request, settings)
    sub = await run_in_threadpool(subs.subscribe, producer, query_name, body)
    out = sub.to_json()
    location = f"/epcis/queries/{query_name}/subscriptions/{out['subscriptionID']}"
    return _json(out, 201, {"Location": location})


@router.get("/queries/{query_name}/subscriptions")
def list_subscriptions(query_name: str, producer: ProducerDep, subs: SubscriptionsDep) -> Response:
    """The caller's subscriptions to the query."""
    return _json([s.to_json() for s in subs.subscriptions(producer, query_name)])


@router.get("/queries/{query_name}/subscriptions/{subscription_id}")
def get_subscription(
    query_name: str, subscription_id: str, producer: ProducerDep, subs: SubscriptionsDep
) -> Response:
    """One of the caller's subscriptions (`lastNotifiedAt`: the last 2xx from `dest`)."""
    return _json(subs.subscription(producer, query_name, subscription_id).to_json())


@router.delete("/queries/{query_name}/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(
    query_name: str, subscription_id: str, producer: ProducerDep, subs: SubscriptionsDep
) -> Response:
    """Unsubscribe: nothing more is sent, including deliveries still owed."""
    subs.unsubscribe(producer, query_name, subscription_id)
    return Response(status_code=204, headers=EPCIS_HEADERS)


def _subscription_discovery(
    query_name: str, subscription_id: str, producer: ProducerDep, subs: SubscriptionsDep
) -> dict[str, str]:
    """``OPTIONS`` on one subscription (``204SubscriptionEndpointDiscovery``): only its
    owner sees it, as for GET. ``GS1-Query-Min-Record-Time``: ``initialRecordTime``, then
    the last successful delivery."""
    sub = subs.subscription(producer, query_name, subscription_id).to_json()
    return {"GS1-Query-Min-Record-Time": sub.get("lastNotifiedAt", sub["initialRecordTime"])}


add_discovery(  # OPTIONS on every path
    router,
    kinds={"/queries/{query_name}/subscriptions/{subscription_id}": SUBSCRIPTION},
    extra={"/queries/{query_name}/subscriptions/{subscription_id}": _subscription_discovery},
)
