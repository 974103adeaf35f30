"""A lot judged before filing: its plots, quantities, dates, anchoring and DDS references.

Pure: a provenance document (what ``TraceNode.provenance(gtin, lot)`` returns) and the
profile in, a :class:`LotReport` out. Which kind carries plots, and under which field
names, comes from the profile's ``plotGeometry`` rule, so nothing about coffee is
hard-coded. :func:`lot_facts` is what the consumer page shows per lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from .geometry import GeometryRules, PlotIssue, check_geometry, geodesic_area_ha, simplified
from .geometry import to_shape as _shape

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

NOTIFICATION_KIND = "regulatory_notification"
"""The profile kind that carries the DDS reference and verification numbers."""
MASS_TOLERANCE = 0.005
"""Relative slack when comparing masses (rounding of TNE to KGM on scales)."""


@dataclass(frozen=True, slots=True)
class PlotFields:
    """Where a profile keeps a plot: the kind and its field names."""

    kind: str
    geometry: str
    area: str
    country: str | None
    plot_id: str | None
    harvest_date: str | None
    harvest_end: str | None
    quantity: str | None
    producer: str | None


def plot_fields(profile: Profile) -> PlotFields | None:
    """The first kind with a ``plotGeometry`` rule (None: the profile has no plots)."""
    for name, kind in profile.kinds.items():
        for rule in kind.rules:
            if rule.type == "plotGeometry":
                fields = profile.fields_of(name)

                def pick(kind_of: str, *names: str, f: dict[str, Any] = fields) -> str | None:
                    for n in names:
                        if n in f and f[n].type == kind_of:
                            return n
                    return next((n for n, s in f.items() if s.type == kind_of), None)

                return PlotFields(
                    kind=name,
                    geometry=rule.geometry,
                    area=rule.area,
                    country=pick("country", "countryOfProduction"),
                    plot_id="plotId" if "plotId" in fields else None,
                    harvest_date="harvestDate" if "harvestDate" in fields else None,
                    harvest_end="harvestEndDate" if "harvestEndDate" in fields else None,
                    quantity=pick("quantity", "quantity"),
                    producer=pick("party", "producer"),
                )
    return None


@dataclass(frozen=True, slots=True)
class Plot:
    """One plot of a lot, from one harvest record."""

    record_id: str
    lot: str
    name: str
    geometry: Any
    area_ha: float | None
    country: str | None
    producer: str | None
    status: str
    event: dict[str, Any]


def plots_of(profile: Profile, provenance: dict[str, Any]) -> list[Plot]:
    """The lot's plots in intake order (harvest records, geolocation as recorded)."""
    pf = plot_fields(profile)
    if pf is None:
        return []
    out = []
    for i, rec in enumerate(provenance.get("records", [])):
        event = rec.get("event") or {}
        if event.get("kind") != pf.kind:
            continue
        name = event.get(pf.plot_id) if pf.plot_id else None
        party = event.get(pf.producer) if pf.producer else None
        area = event.get(pf.area)
        out.append(
            Plot(
                record_id=rec["recordId"],
                lot=provenance["lot"],
                name=str(name) if isinstance(name, str) and name else f"#{i + 1}",
                geometry=event.get(pf.geometry),
                area_ha=area if isinstance(area, int | float) else None,
                country=event.get(pf.country) if pf.country else None,
                producer=party.get("name") if isinstance(party, dict) else None,
                status=rec.get("status", "pending"),
                event=event,
            )
        )
    return out


@dataclass(slots=True)
class LotReport:
    """Everything the EU would refuse (``refused``) or an auditor would question."""

    gtin: str
    lot: str
    plots: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def add(
        self, severity: str, rule: str, message: str, *, plot: str | None = None, **extra: Any
    ) -> None:
        item: dict[str, Any] = {"severity": severity, "rule": rule, "message": message}
        if plot is not None:
            item["plot"] = plot
        item.update({k: v for k, v in extra.items() if v is not None})
        self.issues.append(item)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gtin": self.gtin,
            "lot": self.lot,
            "ok": self.ok,
            "plots": self.plots,
            "issues": self.issues,
        }


def _kg(profile: Profile, q: Any) -> float | None:
    if not isinstance(q, dict) or not isinstance(q.get("value"), int | float):
        return None
    unit = profile.units.get(q.get("unit", ""))
    if unit is None or unit.dimension != "mass":
        return None
    return float(q["value"]) * unit.factor


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _plot_label(p: Plot) -> str:
    return f"{p.name} ({p.record_id[:10]}…)"


def check_lot(
    profile: Profile, provenance: dict[str, Any], rules: GeometryRules | None = None
) -> LotReport:
    """Judge one lot as the EU information system and an auditor would."""
    rules = rules or GeometryRules()
    report = LotReport(provenance["gtin"], provenance["lot"])
    records = provenance.get("records", [])
    plots = plots_of(profile, provenance)
    report.plots = len(plots)
    if not plots:
        report.add("refused", "no_plots", "the lot has no harvest event with a plot geolocation")

    for p in plots:
        label = _plot_label(p)
        if not isinstance(p.geometry, dict) or "commitment" in p.geometry:
            report.add(
                "refused",
                "no_geolocation",
                "harvest event without a readable geolocation",
                plot=label,
                recordId=p.record_id,
            )
            continue
        for issue in check_geometry(
            p.geometry, plot=label, declared_area_ha=p.area_ha, country=p.country, rules=rules
        ):
            report.add(
                "refused",
                issue.rule,
                issue.message,
                plot=label,
                recordId=p.record_id,
                where=issue.where,
                path=issue.path or None,
            )

    for rec in records:
        if rec.get("status") != "anchored":
            kind = (rec.get("event") or {}).get("kind")
            report.add(
                "questioned",
                "not_anchored",
                f"{kind} record is {rec.get('status')}: not yet anchored on chain",
                recordId=rec.get("recordId"),
            )

    countries = sorted({p.country for p in plots if p.country})
    if len(countries) > 1:
        report.add(
            "questioned",
            "mixed_countries",
            f"plots from several countries of production: {', '.join(countries)}",
        )
    if provenance.get("recall"):
        report.add("questioned", "recalled", "the lot was recalled")

    _check_dates(profile, records, plots, report)
    _check_mass(profile, records, plots, report)
    return report


def _check_dates(
    profile: Profile, records: list[dict[str, Any]], plots: list[Plot], report: LotReport
) -> None:
    pf = plot_fields(profile)
    if pf is None:
        return
    produced = [
        d
        for r in records
        if (r.get("event") or {}).get("kind") not in (pf.kind, NOTIFICATION_KIND)
        and (d := _day((r.get("event") or {}).get("eventTime"))) is not None
    ]
    if not produced:
        return
    production = min(produced)
    for p in plots:
        for name in (pf.harvest_date, pf.harvest_end):
            d = _day(p.event.get(name)) if name else None
            if d is not None and d > production:
                report.add(
                    "questioned",
                    "harvest_after_production",
                    f"{name} {d} is after the lot's production date {production} "
                    "(its first processing event)",
                    plot=_plot_label(p),
                    recordId=p.record_id,
                )


def _check_mass(
    profile: Profile, records: list[dict[str, Any]], plots: list[Plot], report: LotReport
) -> None:
    """Mass must not appear from nowhere between harvest and packing (and shipping)."""
    pf = plot_fields(profile)
    if pf is None or pf.quantity is None:
        return
    harvested = sum(_kg(profile, p.event.get(pf.quantity)) or 0.0 for p in plots)
    previous: tuple[str, float] | None = ("harvest (sum of plots)", harvested) if plots else None
    for rec in records:
        event = rec.get("event") or {}
        kind = event.get("kind")
        if kind in (pf.kind, NOTIFICATION_KIND):
            continue
        incoming = _kg(profile, event.get("inputQuantity"))
        if incoming is None:
            incoming = _kg(profile, event.get("netQuantity"))
        if incoming is None:
            incoming = _kg(profile, event.get("quantity"))
        if incoming is not None and previous is not None:
            what, before = previous
            if incoming > before * (1 + MASS_TOLERANCE):
                report.add(
                    "questioned",
                    "mass_balance",
                    f"{kind} takes {incoming:g} kg but {what} gave only {before:g} kg: "
                    "coffee from plots not in the lot?",
                    recordId=rec.get("recordId"),
                )
        out = _kg(profile, event.get("outputQuantity"))
        if out is None:
            out = incoming
        if out is not None:
            previous = (kind or "event", out)


def net_mass_kg(profile: Profile, provenance: dict[str, Any]) -> float | None:
    """The lot's net mass: its last packing ``netQuantity`` (else the last output)."""
    last: float | None = None
    for rec in provenance.get("records", []):
        event = rec.get("event") or {}
        for key in ("netQuantity", "outputQuantity"):
            kg = _kg(profile, event.get(key))
            if kg is not None:
                last = kg
                if key == "netQuantity":
                    break
    return last


def dds_references(provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """DDS reference/verification numbers recorded for the lot, oldest first."""
    out = []
    for rec in provenance.get("records", []):
        event = rec.get("event") or {}
        if event.get("kind") == NOTIFICATION_KIND:
            out.append(
                {
                    "referenceNumber": event.get("ddsReferenceNumber"),
                    "verificationNumber": event.get("ddsVerificationNumber"),
                    "activityType": event.get("activityType"),
                    "recordId": rec.get("recordId"),
                    "status": rec.get("status"),
                    "eventTime": event.get("eventTime"),
                }
            )
    return out


def plot_feature(p: Plot, *, display: bool = False) -> dict[str, Any]:
    """One plot as a GeoJSON Feature; properties follow the EU file description
    (``ProducerName``, ``ProducerCountry``, ``ProductionPlace``, ``Area`` for points) plus
    the anchored record it comes from."""
    props: dict[str, Any] = {
        "ProducerName": p.producer,
        "ProducerCountry": p.country,
        "ProductionPlace": p.name,
    }
    if p.geometry.get("type") == "Point" and p.area_ha is not None:
        props["Area"] = p.area_ha
    props.update({"recordId": p.record_id, "lot": p.lot, "plotAreaHa": p.area_ha})
    geometry = simplified(p.geometry) if display else p.geometry
    return {"type": "Feature", "properties": props, "geometry": geometry}


def lot_summary(
    profile: Profile, provenance: dict[str, Any], rules: GeometryRules | None = None
) -> dict[str, Any]:
    """The EUDR facts a buyer looks for, as the consumer page shows them: plots, total
    area, countries and the DDS references (:func:`lot_facts` without the drawing)."""
    return _facts(profile, provenance, rules, drawing=False)


def lot_facts(
    profile: Profile, provenance: dict[str, Any], rules: GeometryRules | None = None
) -> dict[str, Any]:
    """:func:`lot_summary`, plus the readable plots simplified for drawing (GeoJSON)."""
    return _facts(profile, provenance, rules, drawing=True)


def _facts(
    profile: Profile, provenance: dict[str, Any], rules: GeometryRules | None, drawing: bool
) -> dict[str, Any]:
    plots = plots_of(profile, provenance)
    readable = [
        p
        for p in plots
        if isinstance(p.geometry, dict)
        and not check_geometry(p.geometry, plot=p.name, rules=rules or GeometryRules())
    ]
    shown = {id(p) for p in readable}  # identity: Plot's __eq__ made this O(n^2)
    area = 0.0
    for p in plots:
        if p.geometry and p.geometry.get("type") != "Point" and id(p) in shown:
            area += geodesic_area_ha(_shape(p.geometry))
        elif p.area_ha is not None:
            area += p.area_ha
    facts: dict[str, Any] = {
        "plots": len(plots),
        "totalAreaHa": round(area, 4),
        "countries": sorted({p.country for p in plots if p.country}),
    }
    if drawing:
        facts["geojson"] = {
            "type": "FeatureCollection",
            "features": [plot_feature(p, display=True) for p in readable],
        }
    facts["ddsReferences"] = dds_references(provenance)
    return facts


__all__ = [
    "NOTIFICATION_KIND",
    "LotReport",
    "Plot",
    "PlotIssue",
    "check_lot",
    "dds_references",
    "lot_facts",
    "lot_summary",
    "net_mass_kg",
    "plot_feature",
    "plots_of",
]
