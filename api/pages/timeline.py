"""The lot's journey: each event as rows of who, where and what, with its proof details.

Fields are grouped by their type in the profile (parties are "who"; countries, GLNs,
places and geometries "where"; the rest "what") and shown in words by
:func:`~.formatting.show_value`. Confidential fields show only that they are committed;
the commitments, hashes and anchor of each record fold out for the curious.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vntrace.node.profile import GeoJsonField, PlotGeometryRule, Profile
from vntrace.node.records import is_commitment
from vntrace.node.service import Verdict

from .formatting import TimeText, format_number, format_time, parse_time, show_value
from .geo import PlotInput, PlotMap, format_position, position
from .i18n import Texts
from .verdict import SOFT_REASONS
from .vocab import field_label

_RESERVED = frozenset({"kind", "eventTime", "type", "bizStep", "action", "disposition"})
_TECH_ONLY = frozenset({"eventId"})
_WHERE_TYPES = frozenset({"country", "gln", "geojson"})
_WHERE_NAMES = frozenset({"province", "plotId", "portOfLoading", "containerNumber"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of an event: a label and a value in words."""

    label: str
    text: str
    confidential: bool = False
    link: str | None = None


@dataclass(frozen=True, slots=True)
class TechRow:
    """One technical fact (hashes, proofs): values are shown monospaced, one per line."""

    label: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EventView:
    """One entry of the journey: an event (or the node's recall) and its record's check."""

    kind: str
    label: str
    time: TimeText | None
    status: str  # verified | pending | recalled | failed | unavailable | notice
    badge: str
    reasons: tuple[str, ...] = ()
    who: tuple[Row, ...] = ()
    where: tuple[Row, ...] = ()
    what: tuple[Row, ...] = ()
    tech: tuple[TechRow, ...] = ()
    bundle: str | None = None  # the record's proof bundle (JSON), one click away
    signer: str | None = None
    """Set when the node signed the record for the producer (a plain EPCIS client's
    capture): "signed by the node for the producer" is not "signed by the producer"."""


def custodian_of(record: dict[str, Any], verdict: Verdict | None) -> str | None:
    """The custodian address of a record the node signed for its producer, else None.
    The verdict decides when there is one (it checked the signature); the record's own
    ``signer`` section otherwise."""
    section = record.get("signer")
    custodian = section.get("custodian") if isinstance(section, dict) else None
    if verdict is not None and verdict.signed_by is not None:
        return (custodian or "?") if verdict.signed_by == "custodial" else None
    return custodian if isinstance(custodian, str) else None


def _record_badge(verdict: Verdict | None, anchor: dict[str, Any] | None, t: Texts) -> str:
    if verdict is None:
        return t("record.unavailable")
    if verdict.status == "verified":
        block = anchor.get("blockNumber") if anchor else None
        return t("record.verified", block=format_number(block, t.lang) if block else "?")
    return t(f"record.{verdict.status}")


def _rows(
    event: dict[str, Any], profile: Profile, t: Texts, plot_anchor: str | None
) -> tuple[tuple[Row, ...], tuple[Row, ...], tuple[Row, ...]]:
    kind = event.get("kind")
    specs = profile.fields_of(kind) if isinstance(kind, str) and kind in profile.kinds else {}
    names = [n for n in specs if n in event]
    names += sorted(n for n in event if n not in specs and n not in _RESERVED)
    who: list[Row] = []
    where: list[Row] = []
    what: list[Row] = []
    for name in names:
        if name in _TECH_ONLY:
            continue
        spec = specs.get(name)
        value = event[name]
        label = field_label(name, t.lang)
        kind_of = spec.type if spec is not None else None
        if kind_of == "geojson" and not is_commitment(value):
            where.append(_geometry_row(label, value, t, plot_anchor))
            continue
        shown = show_value(value, spec, profile, t)
        row = Row(label, shown.text, shown.confidential)
        if kind_of == "party":
            who.append(row)
        elif kind_of in _WHERE_TYPES or name in _WHERE_NAMES:
            where.append(row)
        else:
            what.append(row)
    return tuple(who), tuple(where), tuple(what)


def _geometry_row(label: str, value: Any, t: Texts, plot_anchor: str | None) -> Row:
    point = position(value.get("coordinates")) if isinstance(value, dict) else None
    if point is not None and value.get("type") == "Point":
        text = format_position(*point)
    else:
        text = t("timeline.plot_link")
    return Row(label, text, link=f"#{plot_anchor}" if plot_anchor else None)


def _tech_rows(
    record: dict[str, Any],
    verdict: Verdict | None,
    epoch: dict[str, Any] | None,
    t: Texts,
) -> tuple[TechRow, ...]:
    event = record["event"]
    custodian = custodian_of(record, verdict)
    signer = (
        t("signer.producer")
        if custodian is None
        else t("signer.custodial.detail", custodian=custodian)
    )
    rows = [
        TechRow(t("tech.record_id"), (record["recordId"],)),
        TechRow(t("tech.digest"), (record["digest"],)),
        TechRow(t("tech.salt"), (record["salt"],)),
        TechRow(t("tech.signature"), (record["signature"],)),
        TechRow(t("timeline.signed_by"), (signer,)),
    ]
    received = format_time(record.get("receivedAt"), t.lang)
    if received:
        rows.append(TechRow(t("tech.received"), (received.text,)))
    none = t("tech.none")
    anchor = epoch.get("anchor") if epoch else None
    rows += [
        TechRow(
            t("tech.epoch"), (str(record["epoch"]) if record.get("epoch") is not None else none,)
        ),
        TechRow(
            t("tech.leaf_index"),
            (str(record["leafIndex"]) if record.get("leafIndex") is not None else none,),
        ),
        TechRow(t("tech.root"), (epoch["root"] if epoch else none,)),
        TechRow(t("tech.tx"), (anchor["txHash"] if anchor else none,)),
        TechRow(t("tech.block"), (str(anchor["blockNumber"]) if anchor else none,)),
    ]
    if anchor:
        when = format_time(anchor.get("blockTimestamp"), t.lang)
        rows.append(TechRow(t("tech.block_time"), (when.text if when else "?",)))
    if isinstance(event.get("eventId"), str):
        rows.append(TechRow(t("tech.event_id"), (event["eventId"],)))
    commitments = tuple(
        f"{name}: {value['commitment']}" for name, value in event.items() if is_commitment(value)
    )
    if commitments:
        rows.append(TechRow(t("tech.commitments"), commitments))
    if verdict is not None and verdict.reasons:
        rows.append(
            TechRow(
                t("tech.reasons"),
                tuple(f"{code}: {t.reason(code)}" for code in verdict.reasons),
            )
        )
    return tuple(rows)


def plot_inputs(
    records: Sequence[dict[str, Any]], profile: Profile, t: Texts
) -> tuple[list[PlotInput], dict[int, str]]:
    """Each record's plot geometry (at most one per record) and its anchor id in the map."""
    inputs: list[PlotInput] = []
    anchors: dict[int, str] = {}
    for i, record in enumerate(records):
        event = record["event"]
        kind = event.get("kind")
        if not isinstance(kind, str) or kind not in profile.kinds:
            continue
        fields = profile.fields_of(kind)
        geo = next(
            (n for n, s in fields.items() if isinstance(s, GeoJsonField) and n in event), None
        )
        if geo is None or is_commitment(event[geo]):
            continue
        area = None
        for rule in profile.kinds[kind].rules:
            if isinstance(rule, PlotGeometryRule) and rule.geometry == geo:
                value = event.get(rule.area)
                area = float(value) if isinstance(value, int | float) else None
        plot_id = event.get("plotId")
        label = (
            plot_id if isinstance(plot_id, str) else f"{profile.kinds[kind].label[t.lang]} {i + 1}"
        )
        anchors[i] = f"plot-{len(inputs) + 1}"
        inputs.append(PlotInput(label, event[geo], area))
    return inputs, anchors


def plot_rows(plots: PlotMap | None, t: Texts) -> tuple[Row, ...]:
    """The plots as text under the map: position, kind of geometry, area."""
    if plots is None:
        return ()
    rows = []
    for shape in plots.shapes:
        where = format_position(shape.lon, shape.lat)
        what = (
            t("plots.point") if shape.kind == "point" else t("plots.polygon", count=shape.corners)
        )
        parts = [where, what]
        if shape.area_ha is not None:
            parts.append(t("plots.area", area=format_number(shape.area_ha, t.lang)))
        rows.append(Row(shape.label, " · ".join(parts), link=f"#{shape.anchor}"))
    return tuple(rows)


def event_view(
    record: dict[str, Any],
    verdict: Verdict | None,
    epoch: dict[str, Any] | None,
    profile: Profile,
    t: Texts,
    plot_anchor: str | None,
) -> EventView:
    """One record of the provenance as a journey entry (``verdict`` None: not checked)."""
    event = record["event"]
    kind = str(event.get("kind", "?"))
    spec = profile.kinds.get(kind)
    anchor = epoch.get("anchor") if epoch else None
    who, where, what = _rows(event, profile, t, plot_anchor)
    reasons = sorted(verdict.reasons, key=Texts.reason_order) if verdict else []
    return EventView(
        kind=kind,
        label=spec.label[t.lang] if spec else kind,
        time=format_time(event.get("eventTime"), t.lang),
        status=verdict.status if verdict else "unavailable",
        badge=_record_badge(verdict, anchor, t),
        reasons=tuple(t.reason(r) for r in reasons if r not in SOFT_REASONS),
        who=who,
        where=where,
        what=what,
        tech=_tech_rows(record, verdict, epoch, t),
        bundle=f"/v1/records/{record['recordId']}/bundle",
        signer=t("signer.custodial") if custodian_of(record, verdict) else None,
    )


def recall_view(recall: dict[str, Any], t: Texts) -> EventView:
    """The node's recall of the lot as a journey entry (it is not a signed event)."""
    return EventView(
        kind="recall",
        label=t("timeline.recall"),
        time=format_time(recall["at"], t.lang),
        status="notice",
        badge=t("verdict.recalled.title"),
        what=(Row(t("verdict.recalled.reason"), recall.get("reason") or "—"),),
    )


def chronological(events: Sequence[EventView]) -> list[EventView]:
    """Events by event time (stable: intake order among equal times, untimed last)."""
    return sorted(events, key=lambda e: (0, e.time.moment) if e.time else (1, _EPOCH))


def time_key(value: Any) -> tuple[int, datetime]:
    """The sort key of :func:`chronological` for a raw event time (untimed last)."""
    moment = parse_time(value)
    return (0, moment) if moment is not None else (1, _EPOCH)
