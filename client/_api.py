"""The gateway's HTTP surface, without I/O: one :class:`Call` per operation.

A :class:`Call` holds the request (method, path, query, JSON body, headers) and the
function that turns the response into a result, so :class:`~vntrace.client.Client`
and :class:`~vntrace.client.AsyncClient` differ only in how they send it. Error
mapping (problem+json to the exception tree) lives here too, in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from vntrace.node.records import RecordError, encode_lot, normalize_gtin, validate_lot

from .errors import (
    ApiError,
    AuthError,
    ConflictError,
    FieldIssue,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
    VntraceError,
)
from .models import (
    ApiKey,
    Epoch,
    EpochPage,
    LotWritten,
    Me,
    NodeIdentity,
    NodeInfo,
    Producer,
    Recall,
    RecordStatus,
    ServerVerdict,
    parse_model,
)
from .signer import SignedEvent, submissions

T = TypeVar("T")

IDEMPOTENCY_HEADER = "Idempotency-Key"
_PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors"}


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One HTTP exchange: what to send, how to read the answer, whether a retry is safe."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_safe: bool = False

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request(
            self.method, self.path, json=self.json, params=self.params, headers=self.headers
        )


def read(call: Call[T], response: httpx.Response) -> T:
    """The call's result, or the :class:`ApiError` subclass the response stands for."""
    if response.status_code >= 400:
        raise problem_error(response)
    if not response.content:
        return call.parse(None)
    try:
        body = response.json()
    except ValueError:
        raise ApiError(
            response.status_code, "the node answered something that is not JSON"
        ) from None
    try:
        return call.parse(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(
            response.status_code, f"unexpected answer to {call.method} {call.path}: {exc}"
        ) from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def problem_error(response: httpx.Response) -> ApiError:
    """Map an error response (RFC 9457 problem+json or anything else) to an exception."""
    status = response.status_code
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
        errors = tuple(FieldIssue.of(e) for e in body.get("errors") or ())
        kwargs: dict[str, Any] = {
            "type": str(body.get("type") or "about:blank"),
            "title": body.get("title"),
            "instance": body.get("instance"),
            "errors": errors,
            "extensions": {k: v for k, v in body.items() if k not in _PROBLEM_KEYS},
        }
    else:
        detail = response.text[:200] or response.reason_phrase
        kwargs = {"title": response.reason_phrase}
    kwargs["retry_after"] = _retry_after(response)
    cls: type[ApiError]
    if status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status in (400, 413, 415, 422):
        cls = ValidationError
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    else:
        cls = ApiError
    return cls(status, detail, **kwargs)


def retryable(exc: VntraceError) -> bool:
    """Transient: the request may be sent again (with the same idempotency key)."""
    return isinstance(exc, RateLimitError) or (
        isinstance(exc, ServerError) and exc.status in (502, 503, 504)
    )


def lot_path(gtin: str, lot: str) -> str:
    """``{gtin14}/{lot}`` with the lot percent-encoded as in its Digital Link."""
    try:
        return f"{normalize_gtin(gtin)}/{encode_lot(validate_lot(lot))}"
    except RecordError as exc:
        raise ValidationError(
            422, str(exc), errors=(FieldIssue("lot", str(exc)),), title="Invalid input"
        ) from None


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _list(cls: type[T]) -> Callable[[Any], list[T]]:
    return lambda body: [parse_model(cls, x) for x in body["items"]]


def _dict(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise TypeError("expected a JSON object")
    return body


# -- operations ----------------------------------------------------------------------------


def info() -> Call[NodeInfo]:
    return Call("GET", "/v1/info", lambda b: parse_model(NodeInfo, b), retry_safe=True)


def node_identity() -> Call[NodeIdentity]:
    return Call(
        "GET",
        "/.well-known/vntrace-node.json",
        lambda b: parse_model(NodeIdentity, b),
        retry_safe=True,
    )


def me() -> Call[Me]:
    return Call("GET", "/v1/me", lambda b: parse_model(Me, b), retry_safe=True)


def health() -> Call[dict[str, Any]]:
    return Call("GET", "/readyz", _dict, retry_safe=True)


def register_producer(address: str, name: str, metadata_uri: str | None) -> Call[Producer]:
    body: dict[str, Any] = {"address": address, "name": name}
    if metadata_uri is not None:
        body["metadataUri"] = metadata_uri
    return Call(
        "POST", "/v1/producers", lambda b: parse_model(Producer, b), json=body, retry_safe=True
    )


def list_producers() -> Call[list[Producer]]:
    return Call("GET", "/v1/producers", _list(Producer), retry_safe=True)


def get_producer(address: str) -> Call[Producer]:
    return Call(
        "GET", f"/v1/producers/{address}", lambda b: parse_model(Producer, b), retry_safe=True
    )


def issue_api_key(address: str, label: str | None) -> Call[ApiKey]:
    body = {"label": label} if label is not None else {}
    return Call("POST", f"/v1/producers/{address}/keys", lambda b: parse_model(ApiKey, b), body)


def issue_auditor_key(label: str | None) -> Call[ApiKey]:
    body = {"label": label} if label is not None else {}
    return Call("POST", "/v1/auditors/keys", lambda b: parse_model(ApiKey, b), body)


def list_api_keys(address: str) -> Call[list[ApiKey]]:
    return Call("GET", f"/v1/producers/{address}/keys", _list(ApiKey), retry_safe=True)


def revoke_api_key(address: str, key_id: str) -> Call[ApiKey]:
    return Call(
        "DELETE",
        f"/v1/producers/{address}/keys/{key_id}",
        lambda b: parse_model(ApiKey, b),
        retry_safe=True,
    )


def register_lot(
    gtin: str,
    lot: str,
    events: Sequence[SignedEvent | dict[str, Any]],
    idempotency_key: str | None,
    disclose: bool = True,
) -> Call[LotWritten]:
    body = {"gtin": gtin, "lot": lot, "events": submissions(events, disclose=disclose)}
    key = idempotency_key or new_idempotency_key()
    return Call(
        "POST",
        "/v1/lots",
        LotWritten.parse,
        json=body,
        headers={IDEMPOTENCY_HEADER: key},
        retry_safe=True,
    )


def append_events(
    gtin: str,
    lot: str,
    events: Sequence[SignedEvent | dict[str, Any]],
    idempotency_key: str | None,
    disclose: bool = True,
) -> Call[LotWritten]:
    key = idempotency_key or new_idempotency_key()
    return Call(
        "POST",
        f"/v1/lots/{lot_path(gtin, lot)}/events",
        LotWritten.parse,
        json={"events": submissions(events, disclose=disclose)},
        headers={IDEMPOTENCY_HEADER: key},
        retry_safe=True,
    )


def record(record_id: str) -> Call[RecordStatus]:
    return Call(
        "GET", f"/v1/records/{record_id}", lambda b: parse_model(RecordStatus, b), retry_safe=True
    )


def custodians(producer: str) -> Call[dict[str, Any]]:
    """The node's signed statement of a producer's custodial keys (checked by the caller)."""
    return Call("GET", f"/v1/producers/{producer}/custodians", _dict, retry_safe=True)


def bundle(record_id: str) -> Call[dict[str, Any]]:
    return Call("GET", f"/v1/records/{record_id}/bundle", _dict, retry_safe=True)


def disclosures(record_id: str) -> Call[dict[str, Any]]:
    """A record's private values and salts (``{path: {value, salt}}``), unchecked."""

    def parse(body: Any) -> dict[str, Any]:
        body = _dict(body)
        if str(body.get("recordId", "")).lower() != record_id.lower():
            raise ValueError("the node answered for another record")
        return _dict(body.get("disclosures") or {})

    return Call("GET", f"/v1/records/{record_id}/disclosures", parse, retry_safe=True)


def provenance(gtin: str, lot: str) -> Call[dict[str, Any]]:
    return Call("GET", f"/v1/lots/{lot_path(gtin, lot)}/provenance", _dict, retry_safe=True)


def recall(gtin: str, lot: str, reason: str) -> Call[Recall]:
    return Call(
        "POST",
        f"/v1/lots/{lot_path(gtin, lot)}/recall",
        lambda b: parse_model(Recall, b),
        json={"reason": reason},
        retry_safe=True,  # repeating a recall keeps the first one
    )


def epochs(after: int, limit: int) -> Call[EpochPage]:
    def parse(body: Any) -> EpochPage:
        return EpochPage(
            items=[parse_model(Epoch, x) for x in body["items"]], next_after=body.get("nextAfter")
        )

    return Call(
        "GET", "/v1/epochs", parse, params={"after": after, "limit": limit}, retry_safe=True
    )


def epoch(number: int) -> Call[Epoch]:
    return Call("GET", f"/v1/epochs/{number}", lambda b: parse_model(Epoch, b), retry_safe=True)


def server_verify(
    bundles: Sequence[dict[str, Any]], record_ids: Sequence[str]
) -> Call[list[ServerVerdict]]:
    body = {"bundles": list(bundles), "recordIds": list(record_ids)}
    return Call(
        "POST",
        "/v1/verify",
        lambda b: [parse_model(ServerVerdict, x) for x in b["results"]],
        json=body,
        retry_safe=True,
    )


# -- EPCIS 2.0 (REST bindings under /epcis; docs/epcis.md §8) -----------------------------

EPCIS_QUERY_NAMES = {
    "event_type": "eventType",
    "ge_event_time": "GE_eventTime",
    "lt_event_time": "LT_eventTime",
    "biz_step": "EQ_bizStep",
    "disposition": "EQ_disposition",
    "biz_location": "EQ_bizLocation",
    "read_point": "EQ_readPoint",
    "event_id": "EQ_eventID",
    "epc": "MATCH_epc",
    "any_epc": "MATCH_anyEPC",
    "epc_class": "MATCH_epcClass",
    "any_epc_class": "MATCH_anyEPCClass",
    "per_page": "perPage",
    "next_page_token": "nextPageToken",
}
"""Python names of the standard query parameters (GS1 names are accepted as they are)."""


def epcis_query_params(params: dict[str, Any]) -> dict[str, str]:
    """``query_events`` keywords as query parameters: lists become ``a|b`` (pipe-delimited,
    as the bindings define), ``None`` is left out."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        key = EPCIS_QUERY_NAMES.get(name, name)
        if isinstance(value, list | tuple | set):
            value = "|".join(str(v) for v in value)
        out[key] = "" if value is True else str(value)
    return out


def capture_epcis(document: dict[str, Any]) -> Call[dict[str, Any]]:
    # Retrying is safe: a record stored by a lost attempt comes back as a duplicate.
    return Call(
        "POST",
        "/epcis/capture",
        _dict,
        json=document,
        headers={"Content-Type": "application/ld+json"},
        retry_safe=True,
    )


def capture_job(capture_id: str) -> Call[dict[str, Any]]:
    return Call("GET", f"/epcis/capture/{capture_id}", _dict, retry_safe=True)


def query_events(params: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("GET", "/epcis/events", _dict, params=epcis_query_params(params), retry_safe=True)


def epcis_lot(gtin: str, lot: str) -> Call[dict[str, Any]]:
    return Call("GET", f"/epcis/lots/{lot_path(gtin, lot)}/events", _dict, retry_safe=True)
