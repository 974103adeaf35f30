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
from urllib.parse import quote

from vntrace.node.eudr.geometry import GeometryRules
from vntrace.node.eudr.lot import lot_summary
from vntrace.node.profile import Profile
from vntrace.node.records import encode_lot
from vntrace.node.service import Verdict

from .formatting import TimeText, format_number, format_time
from .geo import PlotMap, plot_map
from .i18n import Lang, Texts
from .memo import Derived, derive
from .timeline import (
    EventView,
    Row,
    TechRow,
    chronological,
    event_view,
    plot_inputs,
    plot_rows,
    recall_view,
    time_key,
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


SMALL_LOT = 30
"""Up to this many events the journey is one list, every event shown (as before)."""
PER_PAGE = 10
"""Events shown per stage and page of a larger lot."""


@dataclass(frozen=True, slots=True)
class StageView:
    """One stage of a larger lot's journey (its events of one kind) and the page of its
    events on show, with plain links to the other pages (no JavaScript needed)."""

    kind: str
    label: str
    anchor: str
    count_text: str
    count: int
    failed_text: str | None
    first: TimeText | None
    last: TimeText | None
    events: tuple[EventView, ...]
    showing: str
    page_text: str | None
    prev: str | None
    next: str | None
    all: Link | None


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
    stages: tuple[StageView, ...]
    plots: PlotMap | None
    plots_text: str | None
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
            TechRow(
                t("tech.leaves"),
                tuple(m["leaves"])
                if len(m["leaves"]) <= SMALL_LOT
                else (t("tech.leaves.many", count=len(m["leaves"])),),
            ),
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


def _eudr_rows(facts: dict[str, Any], lang: Lang, t: Texts) -> tuple[Row, ...]:
    """The EUDR facts a buyer looks for (docs/eudr.md): plots, area, countries, DDS."""
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


def _page_link(lang: Lang, kind: str, page: int | None) -> str:
    which = "all=1" if page is None else f"page={page}"
    return f"?lang={lang}&stage={quote(kind, safe='')}&{which}#stage-{quote(kind, safe='')}"


def _stages(
    records: Sequence[dict[str, Any]],
    verdicts: Sequence[Verdict] | None,
    view: Any,
    profile: Profile,
    t: Texts,
    chosen: tuple[str | None, int, bool],
) -> tuple[StageView, ...]:
    """The events grouped by kind, stages in the order of their first event; only the
    events of each stage's page on show are turned into views (what keeps a large lot's
    page small and quick). ``chosen`` is the stage, page and "show all" of the query."""
    order = sorted(
        range(len(records)), key=lambda i: time_key(records[i]["event"].get("eventTime"))
    )
    groups: dict[str, list[int]] = {}
    for i in order:
        groups.setdefault(str(records[i]["event"].get("kind", "?")), []).append(i)
    stage, wanted, show_all = chosen
    out = []
    for kind, members in groups.items():
        count = len(members)
        pages = -(-count // PER_PAGE)
        page = min(max(wanted, 1), pages) if kind == stage else 1
        everything = show_all and kind == stage
        start = 0 if everything else (page - 1) * PER_PAGE
        shown = members if everything else members[start : start + PER_PAGE]
        failed = sum(verdicts[i].status == "failed" for i in members) if verdicts else 0
        spec = profile.kinds.get(kind)
        paged = pages > 1 and not everything
        out.append(
            StageView(
                kind=kind,
                label=spec.label[t.lang] if spec else kind,
                anchor=f"stage-{kind}",
                count_text=t("stage.count.one") if count == 1 else t("stage.count", count=count),
                count=count,
                failed_text=t("stage.failed", count=failed) if failed else None,
                first=format_time(records[members[0]]["event"].get("eventTime"), t.lang),
                last=format_time(records[members[-1]]["event"].get("eventTime"), t.lang),
                events=tuple(view(i) for i in shown),
                showing=t("stage.showing", first=start + 1, last=start + len(shown), count=count),
                page_text=t("paging.page", page=page, pages=pages) if paged else None,
                prev=_page_link(t.lang, kind, page - 1) if paged and page > 1 else None,
                next=_page_link(t.lang, kind, page + 1) if paged and page < pages else None,
                all=(
                    Link(t("paging.less"), _page_link(t.lang, kind, 1))
                    if everything and pages > 1
                    else Link(t("paging.all", count=count), _page_link(t.lang, kind, None))
                    if paged
                    else None
                ),
            )
        )
    return tuple(out)


def build_lot_page(
    *,
    profile: Profile,
    provenance: dict[str, Any],
    verdicts: Sequence[Verdict] | None,
    lang: Lang,
    node_url: str,
    witnessing: Witnessing | None = None,
    stage: str | None = None,
    page: int = 1,
    show_all: bool = False,
    eudr_rules: GeometryRules | None = None,
    derived: Derived | None = None,
) -> LotPage:
    """Everything the lot page says, in ``lang``.

    ``verdicts`` are the node's verdicts of ``provenance["records"]`` in the same order,
    or None when the chain could not be read: the lot's verdict is always theirs, all of
    them. A lot of up to ``SMALL_LOT`` events shows every event in one list; a larger one
    shows its stages with ``PER_PAGE`` events each, ``stage``'s at ``page`` (or all of
    them with ``show_all``). ``eudr_rules`` are the node's geometry rules; ``derived``
    memoises what depends on the events' bytes alone (EUDR summary, map).
    """
    t = Texts(lang)
    records = provenance["records"]
    recall = provenance.get("recall")
    epochs = {m["epoch"]: m for m in provenance.get("multiproofs", [])}

    def drawn() -> tuple[PlotMap | None, dict[int, str]]:
        inputs, anchors = plot_inputs(records, profile, t)
        return plot_map(inputs), anchors

    plots, plot_anchors = derive(derived, f"map:{lang}", drawn)
    facts = derive(derived, "eudr", lambda: lot_summary(profile, provenance, eudr_rules))

    def view(i: int) -> EventView:
        record = records[i]
        anchor = None
        if plots is not None:
            anchor = "plots" if plots.compact else plot_anchors.get(i)
        return event_view(
            record,
            verdicts[i] if verdicts is not None else None,
            epochs.get(record.get("epoch")),
            profile,
            t,
            anchor,
        )

    events: list[EventView] = []
    stages: tuple[StageView, ...] = ()
    if len(records) <= SMALL_LOT:
        events = [view(i) for i in range(len(records))]
        if recall is not None:
            events.append(recall_view(recall, t))
    else:
        stages = _stages(records, verdicts, view, profile, t, (stage, page, show_all))

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
        stages=stages,
        plots=plots,
        plots_text=t("plots.many", count=format_number(plots.count, lang))
        if plots is not None and plots.compact
        else None,
        plot_rows=() if plots is None or plots.compact else plot_rows(plots, t),
        eudr=_eudr_rows(facts, lang, t),
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


__all__ = ["PER_PAGE", "SMALL_LOT", "Link", "LotPage", "StageView", "Witnessing", "build_lot_page"]
