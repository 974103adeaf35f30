"""The CBV 2.0 "EPCIS event hash ID" (CBV 2.0 §8.9), implemented here: pure, no network.

An event's pre-hash string is built field by field in the order CBV 2.0 §8.9.2 fixes
(``eventType``, ``eventTime``, ``eventTimeZoneOffset``, ``certificationInfo``,
``parentID``, EPC and quantity lists, ``action``, ``transformationID``, ``bizStep``,
``disposition``, ``persistentDisposition``, ``readPoint``, ``bizLocation``, business
transactions, sources, destinations, sensor elements), then the user extensions, each
written ``name=value`` with no separator; repeated elements are sorted, times are UTC
with millisecond precision, numbers lose redundant zeros, CBV bare words and URNs become
their ``https://ref.gs1.org/cbv/...`` web URIs and GS1 keys their canonical GS1 Digital
Link URIs (:mod:`.gs1keys`). ``eventID``, ``recordTime``, ``errorDeclaration`` and
comments are left out, so a correction can carry the same hash as what it corrects.
The hash ID is ``ni:///sha-256;{hex}?ver=CBV2.0`` (RFC 6920 named information).

Where the reference implementation (PyPI ``epcis-event-hash-generator``) differs from
the standard, this module follows the standard; docs/epcis.md lists each difference.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import HashIdError
from .gs1keys import canonical_gs1_uri

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
EPCIS_TYPES = frozenset(
    {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
)

_QTY = (("epcClass", None), ("quantity", None), ("uom", None))
_SENSOR_METADATA = tuple(
    (n, None)
    for n in [
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    ]
)
_SENSOR_REPORT = tuple(
    (n, None)
    for n in [
        "type",
        "exception",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "time",
        "microorganism",
        "chemicalSubstance",
        "value",
        "component",
        "stringValue",
        "booleanValue",
        "hexBinaryValue",
        "uriValue",
        "minValue",
        "maxValue",
        "meanValue",
        "sDev",
        "percRank",
        "percValue",
        "uom",
        "coordinateReferenceSystem",
    ]
)

# (JSON name, pre-hash element name, child order or None). A list's element name is the
# XML child name (epc, quantityElement ...), as CBV 2.0 §8.9.2 writes them.
ORDER: tuple[tuple[str, str, Any], ...] = (
    ("eventTime", "eventTime", None),
    ("eventTimeZoneOffset", "eventTimeZoneOffset", None),
    ("certificationInfo", "certificationInfo", None),
    ("epcList", "epcList", ("epc", None)),
    ("parentID", "parentID", None),
    ("inputEPCList", "inputEPCList", ("epc", None)),
    ("childEPCs", "childEPCs", ("epc", None)),
    ("quantityList", "quantityList", ("quantityElement", _QTY)),
    ("childQuantityList", "childQuantityList", ("quantityElement", _QTY)),
    ("inputQuantityList", "inputQuantityList", ("quantityElement", _QTY)),
    ("outputEPCList", "outputEPCList", ("epc", None)),
    ("outputQuantityList", "outputQuantityList", ("quantityElement", _QTY)),
    ("action", "action", None),
    ("transformationID", "transformationID", None),
    ("bizStep", "bizStep", None),
    ("disposition", "disposition", None),
    ("persistentDisposition", "persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", "readPoint", (("id", None),)),
    ("bizLocation", "bizLocation", (("id", None),)),
    ("bizTransactionList", "bizTransactionList", ("bizTransaction", "typed")),
    ("sourceList", "sourceList", ("source", "typed")),
    ("destinationList", "destinationList", ("destination", "typed")),
    (
        "sensorElementList",
        "sensorElementList",
        (
            "sensorElement",
            (
                ("sensorMetadata", _SENSOR_METADATA),
                ("sensorReport", _SENSOR_REPORT),
            ),
        ),
    ),
)
_STANDARD = frozenset(name for name, _, _ in ORDER)
IGNORED = frozenset(
    {
        "@context",
        "type",
        "eventID",
        "recordTime",
        "errorDeclaration",
        "rdfs:comment",
        "comment",
        "#text",
    }
)
"""Not part of the pre-hash string (CBV 2.0 §8.9.2: recordTime, eventID,
errorDeclaration and comments are excluded)."""

# Bare words (EPCIS 2.0 JSON-LD short forms) -> web vocabulary prefix, per field.
_VOCAB_PREFIX = {
    "bizStep": CBV + "BizStep-",
    "disposition": CBV + "Disp-",
    "set": CBV + "Disp-",
    "unset": CBV + "Disp-",
    "bizTransaction.type": CBV + "BTT-",
    "source.type": CBV + "SDT-",
    "destination.type": CBV + "SDT-",
    "sensorReport.type": GS1_VOC,
    "sensorReport.exception": GS1_VOC,
    "sensorReport.component": GS1_VOC,
}
_URN_VOCAB = (
    ("urn:epcglobal:cbv:bizstep:", CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)
_BARE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)


def _time(value: str) -> str:
    """UTC, millisecond precision, ``Z`` (CBV 2.0 §8.9.2 rules 8 and 9: the third decimal
    is rounded up when the fourth is 5-9, e.g. ``.1415`` -> ``.142``)."""
    if not _TIME.fullmatch(value):
        return value
    text = value.replace("z", "Z").replace("Z", "+00:00")
    frac = ""
    m = re.search(r"\.(\d+)", text)
    if m:
        frac = m.group(1)
        text = text[: m.start()] + text[m.end() :]
    dt = datetime.fromisoformat(text).astimezone(UTC)
    digits = (frac + "0000")[:4]
    millis = int(digits[:3]) + (1 if digits[3] >= "5" else 0)
    out = dt + timedelta(milliseconds=millis)
    return out.strftime("%Y-%m-%dT%H:%M:%S.") + f"{out.microsecond // 1000:03d}Z"


def _number(value: int | float) -> str:
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # xsd:boolean canonical form (see docs)
    if isinstance(value, int | float):
        return _number(value)
    return str(value).strip()


def _canon_string(text: str, field: str, namespaces: Mapping[str, str]) -> str:
    for urn, web in _URN_VOCAB:
        if text.startswith(urn):
            return web + text[len(urn) :]
    prefix = _VOCAB_PREFIX.get(field)
    if prefix is not None and _BARE_WORD.fullmatch(text):
        return prefix + text
    if prefix is not None and ":" in text:
        ns, _, local = text.partition(":")
        if ns in namespaces:
            return namespaces[ns] + local
    try:
        float(text)
    except ValueError:
        pass
    else:
        if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            return _number(float(text))
    gs1 = canonical_gs1_uri(text)
    return gs1 if gs1 is not None else text


def _value(value: Any, field: str, name: str, namespaces: Mapping[str, str]) -> str:
    if isinstance(value, str):
        lowered = name.lower()
        if "time" in lowered and "offset" not in lowered:
            return _time(value.strip())
        return _canon_string(value.strip(), field, namespaces)
    return _scalar_text(value)


def _key(key: str, namespaces: Mapping[str, str]) -> str:
    """``prefix:local`` -> ``{namespace}local`` (the XML Clark notation CBV uses)."""
    ns, sep, local = key.partition(":")
    if sep and ns in namespaces:
        return "{" + namespaces[ns] + "}" + local
    return key


def _generic(name: str, value: Any, namespaces: Mapping[str, str], parent: str) -> list[str]:
    """User extension content: ``name=value``, objects as name + sorted children, arrays
    as one entry per element (CBV 2.0 §8.9.2, extension rule)."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, list):
                out.append(name + _nested(item, namespaces))
            else:
                out.extend(_generic(name, item, namespaces, parent))
        return out
    if isinstance(value, dict):
        children = sorted(
            s
            for k, v in value.items()
            if k not in ("rdfs:comment", "comment", "#text")
            for s in _generic(_key(k, namespaces), v, namespaces, name)
        )
        return [name + "".join(children)] if children else []
    text = _scalar_text(value) if not isinstance(value, str) else value.strip()
    if not text:
        return [name] if name else []
    if isinstance(value, str):
        text = _canon_string(text, "", namespaces)
    return [f"{name}={text}"]


def _nested(items: list[Any], namespaces: Mapping[str, str]) -> str:
    """An array inside an array (GeoJSON coordinates): each member is an unnamed element,
    members sorted. XML, which the algorithm was written for, has no such arrays; this
    is the reference implementation's reading, kept so both agree on GeoJSON."""
    parts: list[str] = []
    for x in items:
        if isinstance(x, list):
            parts.append(_nested(x, namespaces))
        else:
            parts.extend(_generic("", x, namespaces, ""))
    return "".join(sorted(parts))


def _extensions(obj: Mapping[str, Any], known: set[str], namespaces: Mapping[str, str]) -> str:
    parts = sorted(
        s
        for k, v in obj.items()
        if k not in known and k not in IGNORED
        for s in _generic(_key(k, namespaces), v, namespaces, "")
    )
    return "".join(parts)


def _ordered(obj: Mapping[str, Any], order: Any, parent: str, ns: Mapping[str, str]) -> str:
    out = ""
    for json_name, child_sub in order:
        if json_name in obj:
            out += _element(json_name, obj[json_name], child_sub, parent, ns)
    return out


def _element(name: str, value: Any, sub: Any, parent: str, ns: Mapping[str, str]) -> str:
    field = (
        f"{parent}.{name}"
        if parent in ("bizTransaction", "source", "destination", "sensorReport")
        else name
    )
    if sub is None and not isinstance(value, dict | list):
        if value is None:
            return ""
        text = _value(value, field, name, ns)
        return f"{name}={text}" if text else ""
    if isinstance(value, list):
        entries = sorted(filter(None, (_element(name, v, sub, parent, ns) for v in value)))
        return "".join(entries)
    if isinstance(value, dict):
        order = sub or ()
        body = _ordered(value, order, name, ns)
        body += _extensions(value, {n for n, *_ in order}, ns)
        return name + body if body else ""
    return ""


def _list(spec: tuple[str, Any], name: str, items: Any, ns: Mapping[str, str]) -> str:
    child, sub = spec
    if not isinstance(items, list):
        items = [items]
    if sub == "typed":
        # bizTransactionList / sourceList / destinationList: each entry is
        # type=<BTT/SDT URI> then <child>=<value>; entries sorted as wholes.
        entries = []
        for item in items:
            if not isinstance(item, dict):
                continue
            text = ""
            if item.get("type") not in (None, ""):
                text += "type=" + _value(item["type"], f"{child}.type", "type", ns)
            if item.get(child) not in (None, ""):
                text += f"{child}=" + _value(item[child], child, child, ns)
            text += _extensions(item, {"type", child}, ns)
            if text:
                entries.append(text)
        body = "".join(sorted(entries))
    elif sub is None:
        body = "".join(sorted(filter(None, (_element(child, v, None, name, ns) for v in items))))
    else:
        body = "".join(sorted(filter(None, (_element(child, v, sub, name, ns) for v in items))))
    return name + body if body else ""


def namespaces_of(context: Any) -> dict[str, str]:
    """Prefix -> namespace IRI from a JSON-LD ``@context`` (inline objects only; remote
    contexts are never fetched: the EPCIS 2.0 context defines no user prefixes)."""
    out: dict[str, str] = {}
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, dict):
            for k, v in item.items():
                if isinstance(v, str) and not k.startswith("@"):
                    out[k] = v
    return out


def prehash_string(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The CBV 2.0 §8.9.2 canonical pre-hash string of one EPCIS 2.0 JSON(-LD) event.

    ``namespaces`` maps extension prefixes to IRIs; by default they come from the event's
    own ``@context``. Raises :class:`HashIdError` if the event has no known type or time.
    """
    if not isinstance(event, Mapping):
        raise HashIdError("an EPCIS event is a JSON object")
    etype = event.get("type")
    if etype not in EPCIS_TYPES:
        raise HashIdError(f"unknown EPCIS event type {str(etype)[:40]!r}")
    if not isinstance(event.get("eventTime"), str):
        raise HashIdError("an EPCIS event needs eventTime")
    ns = dict(namespaces_of(event.get("@context")))
    if namespaces:
        ns.update(namespaces)
    out = f"eventType={etype}"
    for json_name, _xml, sub in ORDER:
        if json_name not in event:
            continue
        value = event[json_name]
        if sub is not None and json_name.endswith(("List", "EPCs")):
            out += _list(sub, json_name, value, ns)
        else:
            out += _element(json_name, value, sub, "", ns)
    out += _extensions(event, set(_STANDARD), ns)
    return out


def hash_id_of_prehash(prehash: str) -> str:
    """``ni:///sha-256;{hex}?ver=CBV2.0`` of a pre-hash string (UTF-8, SHA-256)."""
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode('utf-8')).hexdigest()}?ver=CBV2.0"


def event_hash_id(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The CBV 2.0 event hash ID of one EPCIS event."""
    return hash_id_of_prehash(prehash_string(event, namespaces))


def document_events(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCISDocument or EPCISQueryDocument, in order."""
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        raise HashIdError("an EPCIS document needs an epcisBody object")
    if "eventList" in body:
        events = body["eventList"]
    elif "queryResults" in body:
        events = body["queryResults"].get("resultsBody", {}).get("eventList", [])
    elif "event" in body:
        events = [body["event"]]
    else:
        raise HashIdError("epcisBody has no eventList")
    if not isinstance(events, list):
        raise HashIdError("eventList must be an array")
    return events


def document_hash_ids(document: Mapping[str, Any]) -> list[str]:
    """The hash ID of every event of a document; the document's ``@context`` prefixes
    apply to every event (an event's own ``@context`` adds to them)."""
    ns = namespaces_of(document.get("@context"))
    return [event_hash_id(e, ns) for e in document_events(document)]
