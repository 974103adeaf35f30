"""What the node indexes of an EPCIS event, and the standard query's parameters (pure).

The index holds, per record, the fields GS1's simple event query filters on (EPCIS 2.0
§8.2.7.1, the REST bindings' ``GET /events`` parameters): type, action, eventTime,
bizStep, disposition, bizLocation, readPoint, eventID and the CBV 2.0 hash ID, the error
declaration's reason and corrective eventIDs, and the EPCs and EPC classes by role (the
record time is the store's, not the event's: the store adds it). Values are normalised on
both sides so that equal identifiers match whatever form they were written in: CBV words
bare (``shipping`` for ``https://ref.gs1.org/cbv/BizStep-shipping`` or
``urn:epcglobal:cbv:bizstep:shipping``), GS1 keys as the constrained canonical GS1 Digital
Link URI (an SGTIN URN and its DL form are the same EPC). Matching is exact: EPC patterns
(``…:*``) are not supported. Results are in record order unless ``orderBy`` asks for
eventTime or recordTime; page tokens carry the sort key and record id (keyset paging).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vntrace.node.records import parse_rfc3339

from .corrections import CBV_ERROR_REASONS, correction_of
from .errors import EpcisError
from .gs1keys import canonical_gs1_uri
from .hashid import EPCIS_TYPES

_CBV = "https://ref.gs1.org/cbv/"
_PREFIXES = {
    "bizStep": (_CBV + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": (_CBV + "Disp-", "urn:epcglobal:cbv:disp:"),
    "errorReason": (_CBV + "ER-", "urn:epcglobal:cbv:er:"),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
MAX_VALUE = 400
"""Longest identifier the index holds (the column width)."""
INDEX_VERSION = 2
"""What an index row holds: 1 = migration 4's columns, 2 = with migration 7's (action,
error reason, corrective eventIDs, record time). Rows of an older version are re-derived
from their records (``EpcisStore.stale``); bump it when :func:`index_entry` changes."""
ACTIONS = ("ADD", "OBSERVE", "DELETE")
"""EPCIS 2.0 §7.3.2 (Action), the values ``EQ_action`` takes."""
ORDER_FIELDS = ("eventTime", "recordTime")
"""What ``orderBy`` may name here (the standard also allows extension fields)."""
MAX_COUNT = 2**31 - 1
"""Largest ``eventCountLimit`` / ``maxEventCount`` accepted."""

# role -> the event's lists (EPCIS 2.0 §7.4); ``parent`` is parentID.
EPC_ROLES = {
    "epc": ("epcList", "childEPCs"),
    "input": ("inputEPCList",),
    "output": ("outputEPCList",),
}
CLASS_ROLES = {
    "class": ("quantityList", "childQuantityList"),
    "inputClass": ("inputQuantityList",),
    "outputClass": ("outputQuantityList",),
}


class EpcisQueryError(EpcisError):
    """A query parameter or page token is not acceptable (EPCIS 2.0 §8.2.7.1:
    QueryParameterException; the REST bindings answer 400)."""

    status = 400
    epcis_exception = "QueryParameterException"

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class QueryTooLargeError(EpcisQueryError):
    """The query would return more events than ``maxEventCount`` allows (EPCIS 2.0
    §8.2.7.1: QueryTooLargeException; the bindings' ``413QueryScopeOrSize``)."""

    status = 413
    epcis_exception = "QueryTooLargeException"


def vocab_word(field_name: str, value: str) -> str:
    """A bizStep/disposition as the index keeps it: CBV words bare, other URIs as given."""
    for prefix in _PREFIXES[field_name]:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def identifier(value: str) -> str:
    """An EPC, class or location as the index keeps it (canonical GS1 DL if a GS1 key)."""
    return canonical_gs1_uri(value) or value


def event_time_ms(value: Any) -> int:
    """An RFC 3339 time as epoch milliseconds (UTC)."""
    if not isinstance(value, str):
        raise EpcisError("a time must be a string")
    try:
        when = parse_rfc3339(value)  # the profile's own parser: one reading of times
    except ValueError as exc:
        raise EpcisError(f"{value[:40]!r}: {exc}") from None
    return (when - _EPOCH) // timedelta(milliseconds=1)


def _fit(value: str) -> str:
    return value[:MAX_VALUE]


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed record: the row of ``epcis_events`` and its ``epcis_epcs``."""

    event_hash_id: str
    event_id: str | None
    event_type: str
    biz_step: str | None
    disposition: str | None
    event_time: int
    biz_location: str | None
    read_point: str | None
    correction_of: str | None
    declaration_time: int | None
    capture_id: str | None
    epcs: tuple[tuple[str, str], ...] = field(default=())
    """``(role, value)`` pairs: roles ``epc``, ``parent``, ``input``, ``output``,
    ``class``, ``inputClass``, ``outputClass``."""
    action: str | None = None
    error_reason: str | None = None
    """The error declaration's reason as a bare CBV word (``incorrect_data``)."""
    corrective_event_ids: tuple[str, ...] = ()


def index_entry(event: Mapping[str, Any], hash_id: str, capture_id: str | None) -> IndexEntry:
    """The index entry of a (valid) EPCIS event whose CBV 2.0 hash ID is ``hash_id``."""
    epcs: set[tuple[str, str]] = set()
    for role, lists in EPC_ROLES.items():
        for name in lists:
            for epc in event.get(name) or []:
                if isinstance(epc, str):
                    epcs.add((role, _fit(identifier(epc))))
    if isinstance(event.get("parentID"), str):
        epcs.add(("parent", _fit(identifier(event["parentID"]))))
    for role, lists in CLASS_ROLES.items():
        for name in lists:
            for element in event.get(name) or []:
                if isinstance(element, dict) and isinstance(element.get("epcClass"), str):
                    epcs.add((role, _fit(identifier(element["epcClass"]))))

    def place(name: str) -> str | None:
        value = event.get(name)
        ident = value.get("id") if isinstance(value, dict) else None
        return _fit(identifier(ident)) if isinstance(ident, str) else None

    correction = correction_of(dict(event))
    event_id = event.get("eventID")
    action = event.get("action")
    return IndexEntry(
        event_hash_id=hash_id,
        event_id=_fit(event_id) if isinstance(event_id, str) else None,
        event_type=str(event.get("type")),
        biz_step=_vocab(event, "bizStep"),
        disposition=_vocab(event, "disposition"),
        event_time=event_time_ms(event.get("eventTime")),
        biz_location=place("bizLocation"),
        read_point=place("readPoint"),
        correction_of=(
            _fit(correction.corrected_event_id)
            if correction is not None and correction.corrected_event_id
            else None
        ),
        declaration_time=(
            event_time_ms(correction.declaration_time) if correction is not None else None
        ),
        capture_id=capture_id,
        epcs=tuple(sorted(epcs)),
        action=action if action in ACTIONS else None,
        error_reason=(
            _fit(correction.reason) if correction is not None and correction.reason else None
        ),
        corrective_event_ids=(
            tuple(sorted({_fit(i) for i in correction.corrective_event_ids}))
            if correction is not None
            else ()
        ),
    )


def _vocab(event: Mapping[str, Any], name: str) -> str | None:
    value = event.get(name)
    return _fit(vocab_word(name, value)) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class EventQuery:
    """The simple event query's filters this node supports (each a set: OR within,
    AND across parameters, EPCIS 2.0 §8.2.7.1), its ordering and its limits."""

    event_types: tuple[str, ...] = ()
    ge_event_time: int | None = None
    lt_event_time: int | None = None
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    match: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    """``(roles, values)`` per MATCH_ parameter: the event has one of values in one of roles."""
    exists_error_declaration: bool = False
    per_page: int = DEFAULT_PER_PAGE
    ge_record_time: int | None = None
    lt_record_time: int | None = None
    actions: tuple[str, ...] = ()
    error_reasons: tuple[str, ...] = ()
    corrective_event_ids: tuple[str, ...] = ()
    order_by: str | None = None
    """``eventTime`` or ``recordTime``; ``None``: record order (ascending record id)."""
    descending: bool = True
    """``orderDirection`` (DESC unless ASC is given: §8.2.7.1); only with ``order_by``."""
    event_count_limit: int | None = None
    max_event_count: int | None = None

    def fingerprint(self) -> str:
        """Identifies the filters, ordering and limits (not the page size): a token is
        only good for them. A query of migration 4's parameters only keeps the
        fingerprint it had then, so tokens issued before stay good."""
        data: list[Any] = [
            self.event_types,
            self.ge_event_time,
            self.lt_event_time,
            self.biz_steps,
            self.dispositions,
            self.biz_locations,
            self.read_points,
            self.event_ids,
            self.match,
            self.exists_error_declaration,
        ]
        later = {
            "geRecordTime": self.ge_record_time,
            "ltRecordTime": self.lt_record_time,
            "actions": self.actions,
            "errorReasons": self.error_reasons,
            "correctiveEventIDs": self.corrective_event_ids,
            "orderBy": self.order_by,
            "desc": self.descending if self.order_by else None,
            "eventCountLimit": self.event_count_limit,
            "maxEventCount": self.max_event_count,
        }
        if any(v not in (None, ()) for v in later.values()):
            data.append(later)
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


MATCH_PARAMETERS: dict[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc",),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "parent", "input", "output"),
    "MATCH_epcClass": ("class",),
    "MATCH_inputEPCClass": ("inputClass",),
    "MATCH_outputEPCClass": ("outputClass",),
    "MATCH_anyEPCClass": ("class", "inputClass", "outputClass"),
}
ORDERING_PARAMETERS = frozenset({"orderBy", "orderDirection", "eventCountLimit", "maxEventCount"})
"""What shapes the result rather than filtering it (a subscription delivers in record
order, every matching event once, so it leaves these out)."""
QUERY_PARAMETERS = frozenset(
    {
        "eventType",
        "GE_eventTime",
        "LT_eventTime",
        "GE_recordTime",
        "LT_recordTime",
        "EQ_action",
        "EQ_bizStep",
        "EQ_disposition",
        "EQ_bizLocation",
        "EQ_readPoint",
        "EQ_eventID",
        "EXISTS_errorDeclaration",
        "EQ_errorReason",
        "EQ_correctiveEventID",
        "perPage",
        "nextPageToken",
        *ORDERING_PARAMETERS,
        *MATCH_PARAMETERS,
    }
)


def _values(parameter: str, raw: str) -> tuple[str, ...]:
    # The bindings' multi-valued parameters are ``pipeDelimited`` (OpenAPI ``style``).
    values = tuple(v for v in raw.split("|") if v)
    if not values:
        raise EpcisQueryError(parameter, "needs at least one value")
    if any(len(v) > MAX_VALUE for v in values):
        raise EpcisQueryError(parameter, f"values are at most {MAX_VALUE} characters")
    return values


def error_reason(value: str) -> str:
    """An ``EQ_errorReason`` value as the index keeps reasons: a CBV 2.0 reason bare
    (``incorrect_data`` for ``https://ref.gs1.org/cbv/ER-incorrect_data`` or
    ``urn:epcglobal:cbv:er:incorrect_data``), another URI as given (the schema's
    ``error-reason``: a CBV word or a URI outside the CBV namespace)."""
    word = vocab_word("errorReason", value)
    if word in CBV_ERROR_REASONS:
        return word
    if word != value or value.startswith(("urn:epcglobal:cbv:", "https://ref.gs1.org/cbv/")):
        raise EpcisQueryError("EQ_errorReason", f"{value[:60]!r} is not a CBV 2.0 error reason")
    if ":" not in value:
        raise EpcisQueryError(
            "EQ_errorReason",
            f"{value[:60]!r} is neither a CBV 2.0 error reason "
            f"({', '.join(sorted(CBV_ERROR_REASONS))}) nor a URI",
        )
    return value


def _count(name: str, text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise EpcisQueryError(name, "must be an integer") from None
    if not 0 <= n <= MAX_COUNT:
        raise EpcisQueryError(name, f"must be between 0 and {MAX_COUNT}")
    return n


ANY_IDENTIFIER = "@anyIdentifier"
"""Internal parameter of ``/epcs/{epc}/events``: the EPC in any EPC *or* EPC class role
(a lot is an EPC class, so a lot's events are found by its epcClass URI)."""


def parse_query(params: Mapping[str, str], fixed: Mapping[str, str] | None = None) -> EventQuery:
    """An :class:`EventQuery` from the query string; unknown parameters are refused
    (EPCIS 2.0 §8.2.7.1: an unrecognised parameter is a QueryParameterException).
    ``fixed`` are the filters a top-level resource's path sets (``/bizSteps/{b}/events``)."""
    unknown = sorted(set(params) - QUERY_PARAMETERS)
    if unknown:
        raise EpcisQueryError(unknown[0], "is not a query parameter this node supports")
    fixed = dict(fixed or {})
    both = sorted(set(params) & set(fixed))
    if both:
        raise EpcisQueryError(both[0], "is already set by the resource path")
    any_id = fixed.pop(ANY_IDENTIFIER, None)
    params = {**params, **fixed}
    args: dict[str, Any] = {}
    if "eventType" in params:
        types = _values("eventType", params["eventType"])
        bad = [t for t in types if t not in EPCIS_TYPES]
        if bad:
            raise EpcisQueryError("eventType", f"{bad[0][:60]!r} is not an EPCIS 2.0 event type")
        args["event_types"] = tuple(sorted(set(types)))
    for name, key in (
        ("GE_eventTime", "ge_event_time"),
        ("LT_eventTime", "lt_event_time"),
        ("GE_recordTime", "ge_record_time"),
        ("LT_recordTime", "lt_record_time"),
    ):
        if name in params:
            try:
                args[key] = event_time_ms(params[name])
            except EpcisError as exc:
                raise EpcisQueryError(name, str(exc)) from None
    if "EQ_action" in params:
        actions = _values("EQ_action", params["EQ_action"])
        bad = [a for a in actions if a not in ACTIONS]
        if bad:
            raise EpcisQueryError(
                "EQ_action", f"{bad[0][:60]!r} is not an action ({', '.join(ACTIONS)})"
            )
        args["actions"] = tuple(sorted(set(actions)))
    for name, key, norm in (
        ("EQ_bizStep", "biz_steps", lambda v: vocab_word("bizStep", v)),
        ("EQ_disposition", "dispositions", lambda v: vocab_word("disposition", v)),
        ("EQ_bizLocation", "biz_locations", identifier),
        ("EQ_readPoint", "read_points", identifier),
        ("EQ_eventID", "event_ids", str),
        ("EQ_errorReason", "error_reasons", error_reason),
        ("EQ_correctiveEventID", "corrective_event_ids", str),
    ):
        if name in params:
            args[key] = tuple(sorted({norm(v) for v in _values(name, params[name])}))
    match = []
    for name, roles in MATCH_PARAMETERS.items():
        if name in params:
            values = tuple(sorted({identifier(v) for v in _values(name, params[name])}))
            if any(v.endswith("*") for v in values):
                raise EpcisQueryError(name, "EPC patterns are not supported; give exact EPCs")
            match.append((roles, values))
    if any_id is not None:
        every = tuple(dict.fromkeys(r for roles in MATCH_PARAMETERS.values() for r in roles))
        match.append((every, (identifier(any_id),)))
    args["match"] = tuple(match)
    if "EXISTS_errorDeclaration" in params:
        if params["EXISTS_errorDeclaration"] not in ("", "true"):
            raise EpcisQueryError("EXISTS_errorDeclaration", "takes no value (or true)")
        args["exists_error_declaration"] = True
    if "perPage" in params:
        args["per_page"] = parse_per_page(params["perPage"])
    args.update(_ordering(params))
    return EventQuery(**args)


def _ordering(params: Mapping[str, str]) -> dict[str, Any]:
    """``orderBy``, ``orderDirection``, ``eventCountLimit``, ``maxEventCount`` (§8.2.7.1)."""
    args: dict[str, Any] = {}
    if "orderBy" in params:
        order_by = params["orderBy"]
        if order_by not in ORDER_FIELDS:
            raise EpcisQueryError(
                "orderBy",
                f"{order_by[:60]!r}: this node orders by eventTime or recordTime "
                "(not by extension fields)",
            )
        args["order_by"] = order_by
    if "orderDirection" in params:
        direction = params["orderDirection"]
        if direction not in ("ASC", "DESC"):
            raise EpcisQueryError("orderDirection", "must be ASC or DESC")
        # Without orderBy the direction orders nothing (§8.2.7.1: "if specified and
        # orderBy is also specified"); it is checked, then has no effect.
        args["descending"] = direction == "DESC"
    if "eventCountLimit" in params and "maxEventCount" in params:
        raise EpcisQueryError(
            "eventCountLimit", "and maxEventCount are mutually exclusive: give one of them"
        )
    if "eventCountLimit" in params:
        if "order_by" not in args:
            raise EpcisQueryError("eventCountLimit", "may only be used with orderBy")
        args["event_count_limit"] = _count("eventCountLimit", params["eventCountLimit"])
    if "maxEventCount" in params:
        args["max_event_count"] = _count("maxEventCount", params["maxEventCount"])
    return args


def parse_per_page(text: str) -> int:
    """The bindings' ``perPage``: 1 to :data:`MAX_PER_PAGE`."""
    try:
        per_page = int(text)
    except ValueError:
        raise EpcisQueryError("perPage", "must be an integer") from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise EpcisQueryError("perPage", f"must be between 1 and {MAX_PER_PAGE}")
    return per_page


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page starts: after the record ``after_id`` whose sort key was
    ``key`` (``None`` in record order), ``returned`` events into the result."""

    after_id: int = 0
    key: int | None = None
    returned: int = 0


def encode_page_token(
    query: EventQuery, after_id: int, key: int | None = None, returned: int = 0
) -> str:
    """Opaque token for the page after record id ``after_id`` whose sort key (eventTime
    or recordTime in ms, when ``orderBy`` is given) is ``key``: keyset paging, stable
    while events are added, every event exactly once. ``returned`` counts the events
    already answered, for ``eventCountLimit`` across pages."""
    data: dict[str, Any] = {"a": after_id, "q": query.fingerprint()}
    if query.order_by is not None:
        data["k"] = key
    if returned:
        data["n"] = returned
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(query: EventQuery, token: str) -> PageCursor:
    """The cursor of a token made for the same filters and ordering, else
    :class:`EpcisQueryError` naming ``nextPageToken``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after, fingerprint = data["a"], data["q"]
        key, returned = data.get("k"), data.get("n", 0)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError, AttributeError):
        raise EpcisQueryError("nextPageToken", "is not a token this node issued") from None
    if fingerprint != query.fingerprint():
        raise EpcisQueryError(
            "nextPageToken", "belongs to another query (its filters, orderBy or limits differ)"
        )
    ordered = query.order_by is not None
    if (
        not _natural(after)
        or not _natural(returned)
        or (ordered and not isinstance(key, int))
        or (not ordered and key is not None)
        or isinstance(key, bool)
    ):
        raise EpcisQueryError("nextPageToken", "is not a token this node issued")
    return PageCursor(after_id=after, key=key, returned=returned)


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
