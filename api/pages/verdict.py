"""The lot's verdict in words: verified, waiting, recalled, failed, or not checkable now.

The lot's verdict is the worst of its records' (``TraceNode.verify_records``): failed,
then recalled (by the node or on chain: a recall stored on the node counts before it
reaches the chain, so a shopper never reads "verified" for a recalled lot), then
waiting for anchoring, else verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vntrace.node.service import Verdict

from .formatting import TimeText, format_number, format_time
from .i18n import Texts

SOFT_REASONS = frozenset({"pending", "lot_recalled"})
"""Reasons that do not make a record fail: it waits, or its lot was recalled."""


@dataclass(frozen=True, slots=True)
class VerdictView:
    """The verdict box: status, headline, a sentence, and what supports it."""

    status: str  # verified | pending | recalled | failed | unavailable
    title: str
    text: str
    anchor_text: str | None = None
    reasons: tuple[str, ...] = ()
    recall_reason: str | None = None
    recall_time: TimeText | None = None
    signer_text: str | None = None
    """How many records the node signed for the producer (None: the producer signed all)."""


def custodial_count(provenance: dict[str, Any], verdicts: Sequence[Verdict] | None) -> int:
    """How many of the lot's records were signed by the node for the producer: what the
    verdicts found, or what the records say when there are none."""
    if verdicts is not None:
        return sum(v.signed_by == "custodial" for v in verdicts)
    return sum(
        isinstance(r.get("signer"), dict) and r["signer"].get("kind") == "custodial"
        for r in provenance["records"]
    )


def lot_status(verdicts: Sequence[Verdict] | None, recalled: bool, count: int) -> str:
    """The lot's verdict from its records' verdicts (None: the chain could not be read)."""
    if verdicts is None:
        return "recalled" if recalled else "unavailable"
    statuses = {v.status for v in verdicts}
    if "failed" in statuses:
        return "failed"
    if recalled or "recalled" in statuses:
        return "recalled"
    if "pending" in statuses or count == 0:
        return "pending"
    return "verified"


def _latest_anchor(provenance: dict[str, Any]) -> dict[str, Any] | None:
    anchors = [m["anchor"] for m in provenance.get("multiproofs", []) if m.get("anchor")]
    return max(anchors, key=lambda a: a.get("blockNumber") or 0, default=None)


def verdict_view(
    status: str,
    provenance: dict[str, Any],
    verdicts: Sequence[Verdict] | None,
    t: Texts,
) -> VerdictView:
    records = provenance["records"]
    count = len(records)
    recall = provenance.get("recall")
    recall_time = format_time(recall["at"], t.lang) if recall else None
    recall_reason = (recall.get("reason") or None) if recall else None
    anchor = _latest_anchor(provenance)
    anchor_text = None
    if anchor is not None:
        when = format_time(anchor.get("blockTimestamp"), t.lang)
        anchor_text = t(
            "verdict.anchor",
            block=format_number(anchor["blockNumber"], t.lang),
            time=when.text if when else "?",
        )
    custodial = custodial_count(provenance, verdicts)
    signer_text = t("verdict.custodial", custodial=custodial, count=count) if custodial else None
    common = {
        "recall_reason": recall_reason,
        "recall_time": recall_time,
        "signer_text": signer_text,
    }
    if status == "failed":
        assert verdicts is not None
        failed = [v for v in verdicts if v.status == "failed"]
        codes = sorted(
            {r for v in failed for r in v.reasons if r not in SOFT_REASONS}, key=Texts.reason_order
        )
        return VerdictView(
            status,
            t("verdict.failed.title"),
            t("verdict.failed.text", failed=len(failed), count=count),
            reasons=tuple(t.reason(c) for c in codes),
            **common,
        )
    if status == "recalled":
        when = recall_time.text if recall_time else "?"
        return VerdictView(
            status, t("verdict.recalled.title"), t("verdict.recalled.text", time=when), **common
        )
    if status == "unavailable":
        return VerdictView(
            status,
            t("verdict.unavailable.title"),
            t("verdict.unavailable.text"),
            signer_text=signer_text,
        )
    if status == "pending":
        if count == 0:
            return VerdictView(status, t("verdict.pending.title"), t("verdict.empty.text"))
        waiting = sum(v.status == "pending" for v in verdicts or ())
        return VerdictView(
            status,
            t("verdict.pending.title"),
            t("verdict.pending.text", pending=waiting, count=count),
            anchor_text,
            signer_text=signer_text,
        )
    return VerdictView(
        status,
        t("verdict.verified.title"),
        t("verdict.verified.text.custodial" if custodial else "verdict.verified.text", count=count),
        anchor_text,
        signer_text=signer_text,
    )
