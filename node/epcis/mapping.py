"""Profile events <-> EPCIS 2.0 events (JSON-LD), deterministically and losslessly.

The profile's event objects (``{"kind": "harvest", "eventTime": ..., fields}``) are the
input form producers know; the record's language is EPCIS 2.0 (shared/DESIGN.md,
"Standards the node speaks"). :func:`to_epcis` maps one to the other with the profile's
own classification (type, action, bizStep, disposition as CBV 2.0 bare words), the lot as
``epcClass`` in the GS1 Digital Link form ``https://id.gs1.org/01/{gtin}/10/{lot}``, the
quantities as EPCIS quantity elements (UN/ECE Rec. 20 ``uom``), the location as
``bizLocation`` (``https://id.gs1.org/414/{gln}``), an SSCC as ``parentID``
(``https://id.gs1.org/00/{sscc}``), and every other profile field, the EUDR GeoJSON
geolocation included, as a namespaced JSON-LD extension (``vnt:<field>``, see
:func:`profile_namespace`). :func:`from_epcis` is the exact inverse (tests prove
``from_epcis(to_epcis(e)) == e``). docs/epcis.md has the full table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vntrace.node.records.errors import IdentifierError
from vntrace.node.records.identifiers import normalize_gtin, parse_digital_link, validate_lot

from .errors import MappingError
from .gs1keys import GS1_RESOLVER, canonical_gs1_uri, gln_uri, lot_class_uri, sscc_uri
from .hashid import event_hash_id

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
"""The EPCIS 2.0 JSON-LD context (the URL the hash reference bundles, so it runs offline)."""
EXT_PREFIX = "vnt"
NAMESPACE_BASE = "https://vntrace.org/ns/"
NAMESPACE_VERSION = 1
"""Bumped only if a field's meaning changes incompatibly (not with the profile version)."""

_ECHO = frozenset({"type", "bizStep", "action", "disposition"})
_OFFSET = re.compile(r".*(Z|z|[+-]\d\d:\d\d)$")
# Which profile quantity field becomes which EPCIS quantity list, per event type.
_QUANTITY_ROLES: dict[str, dict[str, str]] = {
    "ObjectEvent": {"quantity": "quantityList"},
    "TransactionEvent": {"quantity": "quantityList"},
    "TransformationEvent": {
        "inputQuantity": "inputQuantityList",
        "outputQuantity": "outputQuantityList",
    },
    "AggregationEvent": {"netQuantity": "childQuantityList", "quantity": "childQuantityList"},
    "AssociationEvent": {"netQuantity": "childQuantityList", "quantity": "childQuantityList"},
}
_DEFAULT_LIST = {
    "ObjectEvent": ("quantityList",),
    "TransactionEvent": ("quantityList",),
    "TransformationEvent": ("inputQuantityList", "outputQuantityList"),
    "AggregationEvent": ("childQuantityList",),
    "AssociationEvent": ("childQuantityList",),
}


def profile_namespace(profile: Profile) -> str:
    """``https://vntrace.org/ns/{profile id}/1/``: the IRI of the profile's extension terms."""
    return f"{NAMESPACE_BASE}{profile.id}/{NAMESPACE_VERSION}/"


def extension_context(profile: Profile) -> dict[str, str]:
    """The inline JSON-LD context of the profile's fields: just the ``vnt`` prefix.

    Term definitions such as ``"@type": "@json"`` (a JSON-LD 1.1 JSON literal, the exact
    fit for GeoJSON) would be nicer, but the reference hash implementation and other EPCIS
    tools read inline contexts as plain prefix maps and fail on them; the JSON form of the
    values is unaffected either way (see docs/epcis.md).
    """
    return {EXT_PREFIX: profile_namespace(profile)}


def epcis_context(profile: Profile) -> list[Any]:
    """``@context`` of every mapped event: the EPCIS 2.0 context, then the extension one."""
    return [EPCIS_CONTEXT, extension_context(profile)]


def time_zone_offset(event_time: str) -> str:
    """EPCIS ``eventTimeZoneOffset`` of an RFC 3339 time (``Z`` -> ``+00:00``)."""
    m = _OFFSET.fullmatch(event_time) if isinstance(event_time, str) else None
    if m is None:
        raise MappingError(f"eventTime {str(event_time)[:40]!r} has no UTC offset")
    offset = m.group(1)
    return "+00:00" if offset in ("Z", "z") else offset


def _qty_element(epc_class: str, quantity: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": epc_class}
    if quantity is not None:
        element["quantity"] = quantity["value"]
        element["uom"] = quantity["unit"]
    return element


def _is_quantity(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"value", "unit"}


def to_epcis(
    profile: Profile,
    gtin: str,
    lot: str,
    event: dict[str, Any],
    *,
    with_context: bool = True,
    with_event_id: bool = True,
) -> dict[str, Any]:
    """The EPCIS 2.0 event of one profile event of lot (``gtin``, ``lot``).

    ``event`` should have passed :func:`vntrace.node.records.validate_event` (private
    fields may be values or commitments; they are carried as they are). ``eventID`` is the
    producer's ``eventId`` (a UUID URN) when present, else the CBV 2.0 event hash ID of
    the mapped event (CBV 2.0 §8.9: a hash ID is a valid eventID). Key order is fixed, but
    what is signed is the RFC 8785 form, which does not depend on it.
    """
    kind_name = event.get("kind")
    if kind_name not in profile.kinds:
        raise MappingError(f"unknown event kind {str(kind_name)[:40]!r} for profile {profile.id}")
    kind = profile.kinds[kind_name]
    fields = profile.fields_of(kind_name)
    try:
        gtin14, lot_number = normalize_gtin(gtin), validate_lot(lot)
    except IdentifierError as exc:
        raise MappingError(str(exc)) from None
    epc_class = lot_class_uri(gtin14, lot_number)
    event_time = event.get("eventTime")
    out: dict[str, Any] = {}
    if with_context:
        out["@context"] = epcis_context(profile)
    out["type"] = kind.event_type
    out["eventTime"] = event_time
    out["eventTimeZoneOffset"] = time_zone_offset(event_time)  # type: ignore[arg-type]
    roles = _QUANTITY_ROLES[kind.event_type]
    lists: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for name, list_name in roles.items():
        spec = fields.get(name)
        if (
            list_name not in lists
            and spec is not None
            and spec.type == "quantity"
            and _is_quantity(event.get(name))
        ):
            lists[list_name] = _qty_element(epc_class, event[name])
            used.add(name)
    for list_name in _DEFAULT_LIST[kind.event_type]:
        lists.setdefault(list_name, _qty_element(epc_class, None))
    if kind.event_type == "AggregationEvent":
        sscc_field = next((n for n, s in fields.items() if s.type == "sscc" and n in event), None)
        if sscc_field is not None and isinstance(event[sscc_field], str):
            out["parentID"] = sscc_uri(event[sscc_field])
            used.add(sscc_field)
    for list_name in (
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ):
        if list_name in lists:
            out[list_name] = [lists[list_name]]
    if kind.action is not None:
        out["action"] = kind.action
    out["bizStep"] = kind.biz_step
    if kind.disposition is not None:
        out["disposition"] = kind.disposition
    location = event.get("location")
    if isinstance(location, str):
        out["bizLocation"] = {"id": gln_uri(location)}
    out[f"{EXT_PREFIX}:kind"] = kind_name
    for key, value in event.items():
        if key in ("kind", "eventTime", "eventId", "location") or key in _ECHO or key in used:
            continue
        if ":" in key:
            out[key] = value  # the producer's own namespaced extension, kept as is
        else:
            out[f"{EXT_PREFIX}:{key}"] = value
    event_id = event.get("eventId")
    if isinstance(event_id, str):
        out["eventID"] = event_id
    elif with_event_id:
        out["eventID"] = event_hash_id(out, {EXT_PREFIX: profile_namespace(profile)})
    return out


@dataclass(frozen=True, slots=True)
class ProfileView:
    """An EPCIS event read back in the profile's terms (for display and validation)."""

    gtin: str
    lot: str
    event: dict[str, Any]
    event_id: str | None


def _lot_of(epc_class: Any) -> tuple[str, str]:
    if not isinstance(epc_class, str):
        raise MappingError("epcClass must be a string")
    uri = epc_class
    if uri.startswith("urn:epc:class:lgtin:"):
        uri = canonical_gs1_uri(uri) or uri
    try:
        return parse_digital_link(uri)
    except IdentifierError as exc:
        raise MappingError(f"epcClass {epc_class[:80]!r} is not a lot: {exc}") from None


def _gln_of(uri: Any) -> str:
    canonical = canonical_gs1_uri(uri) if isinstance(uri, str) else None
    prefix = f"{GS1_RESOLVER}/414/"
    if canonical is None or not canonical.startswith(prefix) or "/254/" in canonical:
        raise MappingError(f"bizLocation {str(uri)[:80]!r} is not a GLN (SGLN extension 0)")
    return canonical[len(prefix) :]


def _kind_of(profile: Profile, epcis: dict[str, Any]) -> str:
    named = epcis.get(f"{EXT_PREFIX}:kind")
    if isinstance(named, str):
        if named not in profile.kinds:
            raise MappingError(f"unknown event kind {named[:40]!r} for profile {profile.id}")
        return named
    matches = [
        name
        for name, k in profile.kinds.items()
        if (k.event_type, k.action, k.biz_step, k.disposition)
        == (epcis.get("type"), epcis.get("action"), epcis.get("bizStep"), epcis.get("disposition"))
    ]
    if len(matches) != 1:
        raise MappingError(
            f"cannot tell the {profile.id} event kind of this {epcis.get('type')} "
            f'(bizStep {epcis.get("bizStep")!r}); add "{EXT_PREFIX}:kind"'
        )
    return matches[0]


def from_epcis(profile: Profile, epcis: dict[str, Any]) -> ProfileView:
    """The profile event (and lot) an EPCIS event maps from: the inverse of :func:`to_epcis`.

    Works on events this module produced and on plain EPCIS events that use the same
    conventions (one lot as epcClass, CBV classification of one profile kind). Raises
    :class:`MappingError` when the event does not fit the profile's shape.
    """
    if not isinstance(epcis, dict):
        raise MappingError("an EPCIS event is a JSON object")
    kind_name = _kind_of(profile, epcis)
    kind = profile.kinds[kind_name]
    if epcis.get("type") != kind.event_type:
        raise MappingError(
            f"{kind_name} events are {kind.event_type}s, not {str(epcis.get('type'))[:40]}"
        )
    fields = profile.fields_of(kind_name)
    roles = _QUANTITY_ROLES[kind.event_type]
    event: dict[str, Any] = {"kind": kind_name, "eventTime": epcis.get("eventTime")}
    event_id = epcis.get("eventID")
    if isinstance(event_id, str) and event_id.startswith("urn:uuid:"):
        event["eventId"] = event_id
    lot_ids: set[tuple[str, str]] = set()
    for list_name in (
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ):
        elements = epcis.get(list_name)
        if elements is None:
            continue
        if not isinstance(elements, list) or len(elements) != 1:
            raise MappingError(f"{list_name} must hold exactly one element (the lot)")
        element = elements[0]
        if not isinstance(element, dict):
            raise MappingError(f"{list_name}[0] must be an object")
        lot_ids.add(_lot_of(element.get("epcClass")))
        if "quantity" in element:
            target = next((n for n, ln in roles.items() if ln == list_name and n in fields), None)
            if target is None:
                raise MappingError(f"{kind_name} events carry no quantity in {list_name}")
            event[target] = {"value": element["quantity"], "unit": element.get("uom")}
    if len(lot_ids) != 1:
        raise MappingError("an event must name exactly one lot (epcClass) in its quantity lists")
    gtin, lot = lot_ids.pop()
    if "parentID" in epcis:
        sscc_field = next((n for n, s in fields.items() if s.type == "sscc"), None)
        canonical = canonical_gs1_uri(str(epcis["parentID"])) or ""
        if sscc_field is None or not canonical.startswith(f"{GS1_RESOLVER}/00/"):
            raise MappingError("parentID must be an SSCC of a profile sscc field")
        event[sscc_field] = canonical.rsplit("/", 1)[1]
    if "bizLocation" in epcis:
        location = epcis["bizLocation"]
        event["location"] = _gln_of(location.get("id") if isinstance(location, dict) else None)
    prefix = f"{EXT_PREFIX}:"
    for key, value in epcis.items():
        if key == f"{EXT_PREFIX}:kind":
            continue
        if key.startswith(prefix):
            event[key[len(prefix) :]] = value
        elif ":" in key and not key.startswith("@") and key not in ("rdfs:comment",):
            event[key] = value
    return ProfileView(gtin=gtin, lot=lot, event=event, event_id=event_id)


def epcis_document(
    events: list[dict[str, Any]],
    profile: Profile,
    *,
    creation_date: datetime | None = None,
) -> dict[str, Any]:
    """An ``EPCISDocument`` (EPCIS 2.0 §9 JSON binding) holding ``events``.

    The document carries the ``@context``; an event's own ``@context`` (the signed,
    self-describing form) is dropped when it equals the document's, as in GS1's examples
    (tools such as the hash reference would otherwise treat it as event data). Use
    :func:`with_context` to restore the signed form of an event taken out of a document.
    """
    context = epcis_context(profile)
    created = (creation_date or datetime.now(UTC)).astimezone(UTC)
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": [_without_context(e, context) for e in events]},
    }


def _without_context(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("@context") == context:
        return {k: v for k, v in event.items() if k != "@context"}
    return event


def with_context(event: dict[str, Any], document_context: Any) -> dict[str, Any]:
    """An event of a document as a standalone JSON-LD event (``@context`` first)."""
    if "@context" in event:
        return event
    return {"@context": document_context, **event}
