"""EPCIS 2.0 named queries and query subscriptions: the pure parts (docs/epcis.md §9).

The REST bindings (GS1's OpenAPI of EPCIS 2.0, ``REST Bindings/openapi.json``) define
``POST /queries`` (``{name, query}``, the query object of ``query-schema.json``) and
``POST /queries/{queryName}/subscriptions`` (``dest``, ``signatureToken``,
``initialRecordTime``, and either ``stream: true`` or a ``schedule`` with
``reportIfEmpty``). The query semantics are the SimpleEventQuery's (EPCIS 2.0
§8.2.7.1, :mod:`.index`); the schedule grammar and matching rule are the QuerySchedule's
(EPCIS §8.2.5.3, ``query-schedule.json``); ``initialRecordTime`` bounds the first run
(§8.2.5.2). Everything here is dicts and strings in, values or a
:class:`SubscriptionError` out; the service (:mod:`vntrace.node.services.epcis_subscriptions`)
does the I/O.

Each error names the EPCIS exception the bindings answer with: a bad query definition is
a ``QueryParameterException`` (400), bad subscription controls a
``SubscriptionControlsException`` (400), an unknown query or subscription a
``NoSuchNameException`` (404), a query name in use a ``ResourceAlreadyExistsException``
(409, the bindings' name for EPCIS 1.x's DuplicateNameException), another producer's
resource a ``SecurityException`` (403). The errors are :class:`~vntrace.node.errors.NodeError`
kinds (invalid input, not found, conflict, forbidden), so the gateway answers them as it
answers every node error, with the name as the problem's ``epcisException``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from vntrace.node.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NodeError,
    NotFoundError,
)

from . import VERSION_HEADERS
from .errors import EpcisError
from .index import QUERY_PARAMETERS, EpcisQueryError, event_time_ms, parse_query

SIGNATURE_HEADER = "GS1-Signature"
"""The bindings' header for a delivery's signature (callback ``querySubscriptionResults``)."""
QUERY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,99}")
"""A query name is one path segment of unreserved URI characters (RFC 3986 §2.3)."""
MIN_TOKEN, MAX_TOKEN = 16, 1024
MAX_DEST = 2048
_PAGING = frozenset({"perPage", "nextPageToken"})
_INTEGER_PARAMETERS = frozenset({"eventCountLimit", "maxEventCount"})


class SubscriptionError(NodeError):
    """A named query or subscription request was refused; ``epcis_exception`` is GS1's
    name, which the problem carries as ``epcisException`` (with the EPCIS headers). Each
    subclass is also the :mod:`vntrace.node.errors` kind its status says."""

    status = 400
    epcis_exception = "ValidationException"
    headers = VERSION_HEADERS

    def __init__(self, field: str, message: str) -> None:
        code = self.epcis_exception
        super().__init__(
            f"{field}: {message}" if field else message,
            errors=[{"field": field, "message": message, "code": code}],
        )
        self.field = field
        self.message = message
        self.title = f"EPCIS {code}"

    @property
    def extensions(self) -> dict[str, Any]:
        return {"epcisException": self.epcis_exception}


class QueryDefinitionError(InvalidInputError, SubscriptionError):
    status = 400  # the bindings answer 400, not the node's 422
    epcis_exception = "QueryParameterException"


class SubscriptionControlsError(InvalidInputError, SubscriptionError):
    status = 400
    epcis_exception = "SubscriptionControlsException"


class NoSuchNameError(NotFoundError, SubscriptionError):
    epcis_exception = "NoSuchNameException"


class NameExistsError(ConflictError, SubscriptionError):
    epcis_exception = "ResourceAlreadyExistsException"


class NotOwnerError(ForbiddenError, SubscriptionError):
    epcis_exception = "SecurityException"


# -- named queries ---------------------------------------------------------------------


def check_query_name(name: Any) -> str:
    if not isinstance(name, str) or not QUERY_NAME.fullmatch(name):
        raise QueryDefinitionError(
            "name", "must be 1-100 characters of A-Z a-z 0-9 . _ ~ - (one URL path segment)"
        )
    return name


def query_params(query: Any) -> dict[str, str]:
    """The query object of ``query-schema.json`` as the query-string parameters that
    ``GET /events`` takes (lists become ``a|b``), checked by the same parser."""
    if not isinstance(query, dict):
        raise QueryDefinitionError("query", "must be an object of query parameters")
    params: dict[str, str] = {}
    for key, value in query.items():
        if key in _PAGING:
            raise QueryDefinitionError(key, "is paging, not part of a query definition")
        if key not in QUERY_PARAMETERS:
            raise QueryDefinitionError(key, "is not a query parameter this node supports")
        if isinstance(value, bool):
            if not key.startswith("EXISTS_") or not value:
                raise QueryDefinitionError(key, "takes strings (true only for EXISTS_)")
            params[key] = "true"
        elif isinstance(value, str):
            params[key] = value
        elif isinstance(value, int) and key in _INTEGER_PARAMETERS:  # query schema: integer
            params[key] = str(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if any("|" in v or not v for v in value):
                raise QueryDefinitionError(key, "values must be non-empty and hold no '|'")
            params[key] = "|".join(value)
        else:
            raise QueryDefinitionError(key, "must be a string or a non-empty list of strings")
    try:
        parse_query(params)
    except EpcisQueryError as exc:
        raise QueryDefinitionError(exc.parameter, str(exc)) from None
    return params


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    query: dict[str, Any]
    """The definition as the client gave it (what ``GET /queries/{name}`` returns)."""
    params: dict[str, str]


def parse_named_query(body: Any) -> NamedQuery:
    """A ``POST /queries`` body (the bindings' ``QueryDefinition``: ``name``, ``query``)."""
    if not isinstance(body, dict):
        raise QueryDefinitionError("", "the body must be a JSON object {name, query}")
    extra = sorted(set(body) - {"name", "query"})
    if extra:
        raise QueryDefinitionError(extra[0], "is not a field of a query definition")
    if "query" not in body:
        raise QueryDefinitionError("query", "is required")
    name = check_query_name(body.get("name"))
    return NamedQuery(name, body["query"], query_params(body["query"]))


# -- schedules (EPCIS §8.2.5.3, query-schedule.json) ------------------------------------

SCHEDULE_FIELDS: dict[str, tuple[int, int]] = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "dayOfMonth": (1, 31),
    "month": (1, 12),
    "dayOfWeek": (1, 7),
}
_ELEMENT = re.compile(r"(\d+)|\[(\d+)-(\d+)\]")
_SEARCH_DAYS = 366 * 8  # long enough for 29 February on a given weekday


def _field_values(name: str, raw: Any) -> frozenset[int]:
    low, high = SCHEDULE_FIELDS[name]
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw:
        raise SubscriptionControlsError(
            f"schedule.{name}", "must be a string such as 5 or [1-5],30"
        )
    values: set[int] = set()
    for element in raw.split(","):
        m = _ELEMENT.fullmatch(element.strip())
        if m is None:
            raise SubscriptionControlsError(
                f"schedule.{name}", f"{element[:20]!r}: expected a number or a range [a-b]"
            )
        a, b = (int(m[1]), int(m[1])) if m[1] is not None else (int(m[2]), int(m[3]))
        if a > b or a < low or b > high:
            raise SubscriptionControlsError(
                f"schedule.{name}", f"{element[:20]!r}: values are {low} to {high}, low first"
            )
        values.update(range(a, b + 1))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A QuerySchedule: per field the allowed values, ``None`` where omitted (any value).

    Times are matched in UTC (the standard lets the service choose the time zone)."""

    fields: tuple[tuple[str, frozenset[int] | None], ...]
    spec: dict[str, str]

    def allowed(self, name: str) -> frozenset[int] | None:
        return dict(self.fields)[name]

    def matches(self, t: datetime) -> bool:
        t = t.astimezone(UTC)
        now = {
            "second": t.second,
            "minute": t.minute,
            "hour": t.hour,
            "dayOfMonth": t.day,
            "month": t.month,
            "dayOfWeek": t.isoweekday(),
        }
        return all(v is None or now[k] in v for k, v in self.fields)

    def next_after(self, after_ms: int) -> int:
        """The first matching whole second strictly after ``after_ms`` (epoch ms)."""
        start = datetime.fromtimestamp(after_ms // 1000 + 1, UTC)

        def pick(name: str, full: range) -> list[int]:
            v = self.allowed(name)
            return sorted(full if v is None else v)

        hours, minutes, seconds = (
            pick("hour", range(24)),
            pick("minute", range(60)),
            pick("second", range(60)),
        )
        day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
        for d in range(_SEARCH_DAYS):
            day = day0 + timedelta(days=d)
            if not all(
                v is None or x in v
                for x, v in (
                    (day.day, self.allowed("dayOfMonth")),
                    (day.month, self.allowed("month")),
                    (day.isoweekday(), self.allowed("dayOfWeek")),
                )
            ):
                continue
            for h in hours:
                if d == 0 and h < start.hour:
                    continue
                for m in minutes:
                    if d == 0 and (h, m) < (start.hour, start.minute):
                        continue
                    for s in seconds:
                        t = day.replace(hour=h, minute=m, second=s)
                        if t >= start:
                            return int(t.timestamp()) * 1000
        raise SubscriptionControlsError("schedule", "matches no date (check dayOfMonth/month)")


def parse_schedule(raw: Any) -> Schedule:
    if not isinstance(raw, dict) or not raw:
        raise SubscriptionControlsError("schedule", "must be an object naming at least one field")
    unknown = sorted(set(raw) - set(SCHEDULE_FIELDS))
    if unknown:
        raise SubscriptionControlsError(f"schedule.{unknown[0]}", "is not a schedule field")
    fields = tuple(
        (name, _field_values(name, raw[name]) if name in raw else None) for name in SCHEDULE_FIELDS
    )
    schedule = Schedule(fields, {k: str(v) for k, v in raw.items()})
    schedule.next_after(0)  # refuses a schedule that never fires
    return schedule


# -- subscriptions ---------------------------------------------------------------------

_SUBSCRIPTION_FIELDS = frozenset(
    {"dest", "signatureToken", "stream", "schedule", "reportIfEmpty", "initialRecordTime"}
)


@dataclass(frozen=True, slots=True)
class SubscriptionControls:
    dest: str
    signature_token: str
    stream: bool
    schedule: Schedule | None
    report_if_empty: bool
    initial_record_time: int
    """Epoch ms: only events recorded at or after it are considered (EPCIS §8.2.5.2)."""


def check_dest_syntax(dest: Any) -> str:
    if not isinstance(dest, str) or not dest or len(dest) > MAX_DEST:
        raise SubscriptionControlsError("dest", f"must be an http(s) URL of at most {MAX_DEST}")
    try:
        parts = urlsplit(dest)
        port = parts.port
    except ValueError:
        raise SubscriptionControlsError("dest", "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SubscriptionControlsError("dest", "must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise SubscriptionControlsError("dest", "must not carry credentials (use signatureToken)")
    if parts.fragment:
        raise SubscriptionControlsError("dest", "must not have a #fragment")
    if port == 0:
        raise SubscriptionControlsError("dest", "port 0 is not a destination")
    return dest


def parse_subscription(body: Any, now_ms: int) -> SubscriptionControls:
    """A ``POST /queries/{queryName}/subscriptions`` body, checked (not the address: that
    needs DNS, :func:`check_dest_addresses`).

    ``signatureToken`` is required here (the bindings make it optional): every delivery
    this node makes is signed."""
    if not isinstance(body, dict):
        raise SubscriptionControlsError("", "the body must be a JSON object")
    unknown = sorted(set(body) - _SUBSCRIPTION_FIELDS)
    if unknown:
        raise SubscriptionControlsError(unknown[0], "is not a subscription field")
    dest = check_dest_syntax(body.get("dest"))
    token = body.get("signatureToken")
    if not isinstance(token, str) or not MIN_TOKEN <= len(token) <= MAX_TOKEN:
        raise SubscriptionControlsError(
            "signatureToken",
            f"is required: {MIN_TOKEN} to {MAX_TOKEN} characters the client chose; "
            f"every delivery carries {SIGNATURE_HEADER} = base64(HMAC-SHA256(token, body))",
        )
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise SubscriptionControlsError("stream", "must be true or false")
    report = body.get("reportIfEmpty", False)
    if not isinstance(report, bool):
        raise SubscriptionControlsError("reportIfEmpty", "must be true or false")
    schedule = None
    if "schedule" in body:
        if stream:
            raise SubscriptionControlsError("schedule", "give either stream: true or a schedule")
        schedule = parse_schedule(body["schedule"])
    elif not stream:
        raise SubscriptionControlsError(
            "stream", "set stream: true or give a schedule (the bindings require one of them)"
        )
    if stream and report:
        raise SubscriptionControlsError(
            "reportIfEmpty", "applies to scheduled subscriptions; a stream reports new events"
        )
    initial = now_ms
    if "initialRecordTime" in body:
        raw = body["initialRecordTime"]
        try:
            if not isinstance(raw, str):
                raise EpcisError("must be a date-time string")
            initial = event_time_ms(raw)
        except EpcisError as exc:
            raise SubscriptionControlsError("initialRecordTime", str(exc)) from None
    return SubscriptionControls(dest, token, stream, schedule, report, initial)


Resolver = Callable[[str, int], Iterable[str]]
"""``(host, port) -> IP addresses`` (the service passes one over ``socket.getaddrinfo``)."""


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_dest_addresses(dest: str, resolve: Resolver, *, allow_private: bool) -> list[str]:
    """The addresses ``dest`` resolves to, refused unless each is public (loopback,
    private, link-local, shared, reserved and multicast addresses would let a caller make
    the node call its own network) or ``allow_private``."""
    parts = urlsplit(dest)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = sorted(set(resolve(host, port)))
    except OSError as exc:
        raise SubscriptionControlsError(
            "dest", f"host {host[:80]} does not resolve: {exc}"
        ) from None
    if not addresses:
        raise SubscriptionControlsError("dest", f"host {host[:80]} has no address")
    if not allow_private:
        for a in addresses:
            if not _is_public(ipaddress.ip_address(a.split("%")[0])):
                raise SubscriptionControlsError(
                    "dest",
                    f"{host[:80]} resolves to {a}, a non-public address; this node delivers "
                    "only to public addresses (setting VNTRACE_EPCIS_WEBHOOK_ALLOW_PRIVATE)",
                )
    return addresses


# -- deliveries ------------------------------------------------------------------------


def sign_body(token: str, body: bytes) -> str:
    """``GS1-Signature``: base64 of HMAC-SHA256 over the exact body bytes, keyed by the
    UTF-8 of the subscription's ``signatureToken`` (the bindings leave the choice to the
    implementation and name HMAC with SHA-256 first; FasTnT's EPCIS server signs the same
    way, so receivers written for it verify ours)."""
    mac = hmac.new(token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def verify_signature(token: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign_body(token, body), header.strip())


def retry_delay(attempts: int, base_seconds: float, cap_seconds: float = 3600.0) -> float:
    """Seconds to wait after the ``attempts``-th failure: ``base * 2**(attempts-1)``, capped."""
    return min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
