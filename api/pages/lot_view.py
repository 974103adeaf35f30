"""The consumer page of a lot as data: verdict, journey, plots and proofs, in one language.

Built from what the node already computes: ``TraceNode.provenance`` (events, epochs,
anchors, recall) and ``TraceNode.verify_records`` (one verdict per record, the same
checks a consumer's SDK makes). Pure, so what the page says is testable without a
browser; ``render`` turns it into HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vntrace.node.eudr.lot import lot_facts
from vntrace.node.profile import Profile
from vntrace.node.records import encode_lot
from vntrace.node.service import Verdict

from .formatting import format_number
from .geo import PlotMap, plot_map
from .i18n import Lang, Texts
from .timeline import (
    EventView,
    Row,
    TechRow,
    chronological,
    event_view,
    plot_inputs,
    plot_rows,
    recall_view,
)
from .verdict import VerdictView, lot_status, verdict_view


@dataclass(frozen=True, slots=True)
class Link:
    """A link of the page (language switch, label, QR codes, JSON)."""

    text: str
    href: str


@dataclass(frozen=True, slots=True)
class Witnessing:
    """Who witnesses this node's log: the log key, the configured witnesses' keys, and
    the names of those that cosigned every anchored epoch of the lot."""

    log_key: str
    witness_keys: tuple[str, ...]
    cosigners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LotPage:
    """Everything ``lot.html`` shows, already in words of one language."""

    lang: Lang
    title: str
    product: str
    lot: str
    gtin: str
    producer: str
    events_text: str
    verdict: VerdictView
    command: str
    independence: str
    witnessed: str | None
    events: tuple[EventView, ...]
    plots: PlotMap | None
    plot_rows: tuple[Row, ...]
    eudr: tuple[Row, ...]
    tech: tuple[TechRow, ...]
    multiproofs: tuple[tuple[str, tuple[TechRow, ...]], ...]
    links: tuple[Link, ...]
    switch: Link


def _multiproofs(
    provenance: dict[str, Any], t: Texts
) -> tuple[tuple[str, tuple[TechRow, ...]], ...]:
    """Each epoch's multiproof of the lot: what ``vntrace verify`` checks for the lot."""
    out = []
    for m in provenance.get("multiproofs", []):
        tx = m["anchor"]["txHash"] if m.get("anchor") else t("tech.none")
        flags = " ".join("1" if f else "0" for f in m["proofFlags"]) or "[]"
        rows = (
            TechRow(t("tech.root"), (m["root"],)),
            TechRow(t("tech.tx"), (tx,)),
            TechRow(t("tech.leaves"), tuple(m["leaves"])),
            TechRow(t("tech.proof"), tuple(m["proof"]) or ("[]",)),
            TechRow(t("tech.flags"), (flags,)),
        )
        out.append((t("tech.multiproof", epoch=m["epoch"]), rows))
    return tuple(out)


def _lot_facts(provenance: dict[str, Any], t: Texts) -> tuple[TechRow, ...]:
    return (
        TechRow(t("tech.digital_link"), (provenance["digitalLink"],)),
        TechRow(t("tech.lot_key"), (provenance["lotKey"],)),
        TechRow(t("tech.producer_address"), (provenance["producer"]["address"],)),
        TechRow(t("tech.chain"), (str(provenance["chainId"]),)),
        TechRow(t("tech.registry"), (provenance["registry"],)),
    )


def _command(node_url: str, digital_link: str, w: Witnessing | None) -> str:
    command = f"vntrace verify --node {node_url} {digital_link}"
    if w is None or not w.witness_keys:
        return command
    keys = " ".join(f"--witness '{k}'" for k in w.witness_keys)
    k = max(1, len(w.cosigners))
    return f"{command} --log-key '{w.log_key}' {keys} --min-witnesses {k}"


def _witnessed(w: Witnessing | None, anchored: bool, t: Texts) -> str | None:
    if w is None or not w.witness_keys or not anchored:
        return None
    if not w.cosigners:
        return t("verdict.unwitnessed", count=len(w.witness_keys))
    return t("verdict.witnessed", count=len(w.cosigners), names=", ".join(w.cosigners))


def _eudr_rows(
    profile: Profile, provenance: dict[str, Any], lang: Lang, t: Texts
) -> tuple[Row, ...]:
    """The EUDR facts a buyer looks for (docs/eudr.md): plots, area, countries, DDS."""
    facts = lot_facts(profile, provenance)
    if not facts["plots"] and not facts["ddsReferences"]:
        return ()
    area = format_number(round(facts["totalAreaHa"], 2), lang)
    rows = [
        Row(t("eudr.plots"), format_number(facts["plots"], lang)),
        Row(t("eudr.area"), t("plots.area", area=area)),
    ]
    if facts["countries"]:
        rows.append(Row(t("eudr.countries"), ", ".join(facts["countries"])))
    for ref in facts["ddsReferences"]:
        text = t(
            "eudr.dds.value",
            reference=ref["referenceNumber"],
            verification=ref["verificationNumber"],
        )
        rows.append(Row(t("eudr.dds"), text))
    if not facts["ddsReferences"]:
        rows.append(Row(t("eudr.dds"), t("eudr.dds.none")))
    return tuple(rows)


def build_lot_page(
    *,
    profile: Profile,
    provenance: dict[str, Any],
    verdicts: Sequence[Verdict] | None,
    lang: Lang,
    node_url: str,
    witnessing: Witnessing | None = None,
) -> LotPage:
    """Everything the lot page says, in ``lang``.

    ``verdicts`` are the node's verdicts of ``provenance["records"]`` in the same order,
    or None when the chain could not be read.
    """
    t = Texts(lang)
    records = provenance["records"]
    recall = provenance.get("recall")
    epochs = {m["epoch"]: m for m in provenance.get("multiproofs", [])}
    inputs, plot_anchors = plot_inputs(records, profile, t)
    plots = plot_map(inputs)
    events = [
        event_view(
            record,
            verdicts[i] if verdicts is not None else None,
            epochs.get(record.get("epoch")),
            profile,
            t,
            plot_anchors.get(i) if plots else None,
        )
        for i, record in enumerate(records)
    ]
    if recall is not None:
        events.append(recall_view(recall, t))

    gtin, lot, digital_link = provenance["gtin"], provenance["lot"], provenance["digitalLink"]
    lot_url = f"/v1/lots/{gtin}/{encode_lot(lot)}"
    product = profile.name[lang]
    count = len(records)
    status = lot_status(verdicts, recall is not None, count)
    return LotPage(
        lang=lang,
        title=t("page.title", lot=lot, product=product),
        product=product,
        lot=lot,
        gtin=gtin,
        producer=provenance["producer"]["name"],
        events_text=t("lot.events.one") if count == 1 else t("lot.events", count=count),
        verdict=verdict_view(status, provenance, verdicts, t),
        command=_command(node_url, digital_link, witnessing),
        independence=t(
            "verdict.node_view.rpc", registry=provenance["registry"], chain=provenance["chainId"]
        ),
        witnessed=_witnessed(witnessing, bool(epochs), t),
        events=tuple(chronological(events)),
        plots=plots,
        plot_rows=plot_rows(plots, t),
        eudr=_eudr_rows(profile, provenance, lang, t),
        tech=_lot_facts(provenance, t),
        multiproofs=_multiproofs(provenance, t),
        links=(
            Link(t("links.label"), f"{lot_url}/label?lang={lang}"),
            Link(t("links.qr_svg"), f"{lot_url}/qr?format=svg"),
            Link(t("links.qr_png"), f"{lot_url}/qr?format=png"),
            Link(t("links.json"), "?format=json"),
        ),
        switch=Link(Texts(t.other)("lang.name"), f"?lang={t.other}"),
    )


__all__ = ["Link", "LotPage", "Witnessing", "build_lot_page"]
