"""What the people commands print: a progress line for uploads, readable verdicts.

No third-party progress library: one line on stderr, redrawn in place on a terminal
and printed once per batch otherwise (so CI logs stay readable).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from .results import VerificationResult

if TYPE_CHECKING:
    from .audit import AuditReport
    from .disclosures import DisclosureResult

LABELS = {
    "verified": "VERIFIED",
    "pending": "PENDING",
    "recalled": "RECALLED",
    "failed": "FAILED",
}


class ProgressLine:
    """``progress(done, total)`` callback drawing ``uploading 1200/5000 events (24%)``."""

    def __init__(self, what: str = "events", stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        pct = 100 * done // total if total else 100
        line = f"uploading {done}/{total} {self.what} ({pct}%), {done / elapsed:,.0f}/s"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _short(value: str | None, keep: int = 10) -> str:
    if not value:
        return "-"
    return value if len(value) <= keep + 6 else f"{value[:keep]}…{value[-4:]}"


CUSTODIAL = "signed by the node for the producer"
"""What a record the node signed with a custodial key reads as (docs/epcis.md §6)."""


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(result: VerificationResult, *, what: str | None = None) -> str:
    """A few lines for people: the verdict first, then why and what the chain says."""
    if what is None:
        if result.records or (result.lot and not result.record_id):
            what = f"lot {result.lot} (GTIN {result.gtin})"
        else:
            what = f"record {result.record_id}" if result.record_id else "document"
    lines = [f"{LABELS.get(result.status, result.status.upper())}  {what}"]
    for reason, detail in zip(result.reasons, result.details, strict=True):
        lines.append(f"  - {reason}: {detail}")
    if result.producer:
        lines.append(f"  producer  {result.producer}")
    if result.signed_by == "custodial":
        lines.append(f"  signed    {CUSTODIAL}")
    by_node = sum(r.signed_by == "custodial" for r in result.records)
    if by_node:
        lines.append(f"  signed    {by_node} of {len(result.records)} records {CUSTODIAL}")
    if result.records:
        counts: dict[str, int] = {}
        for r in result.records:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        lines.append(f"  records   {len(result.records)}: {summary}")
    anchors = [result.anchor] if result.anchor else []
    seen = set()
    for r in result.records:
        if r.anchor and r.anchor.root not in seen:
            seen.add(r.anchor.root)
            anchors.append(r.anchor)
    for a in anchors:
        where = f", tx {_short(a.tx_hash)} block {a.block_number}" if a.tx_hash else ""
        revoked = " REVOKED" if a.revoked else ""
        lines.append(
            f"  anchored  epoch {a.epoch}, root {_short(a.root)}, {_when(a.timestamp)}"
            f"{where}{revoked}"
        )
    if result.recall:
        lines.append(
            f"  recalled  {_when(result.recall.timestamp)} by {_short(result.recall.recalled_by)}:"
            f" {result.recall.reason}"
        )
    if result.cosigners:
        lines.append(f"  witnessed {', '.join(result.cosigners)}")
    if result.chain_id is not None:
        lines.append(f"  chain     {result.chain_id}, registry {result.registry}")
    return "\n".join(lines)


def _stamp(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_audit(report: AuditReport) -> str:
    """One line per receipt, the node's key and any warning, then the summary."""
    node = report.node
    lines = [f"!! WARNING: {problem}" for problem in node.problems]
    where = "registered on chain" if node.confirmed else "served by the node only"
    lines.append(f"node       {node.node_id} (operator {node.operator}), key {where}")
    lines += [f"note       {note}" for note in node.notes]
    for e in report.entries:
        if e.anchored_at is not None:
            what = f"anchored {_stamp(e.anchored_at)}, deadline {_stamp(e.deadline)}"
        else:
            what = f"deadline {_stamp(e.deadline)}"
        detail = f": {e.detail}" if e.detail else ""
        lines.append(f"{e.status:<10} {e.record_id or '-'}  {what}{detail}")
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n)
    verdict = "OK" if report.ok else "FAILED"
    lines.append(f"AUDIT {verdict}  {len(report.entries)} receipt(s): {counts or 'none'}")
    return "\n".join(lines)


def render_disclosures(result: DisclosureResult) -> str:
    """Each disclosed value and whether it opens its commitment."""
    verdict = "OPENED" if result.ok else "FAILED"
    lines = [f"{verdict}  record {result.record_id}"]
    failed = {f.field for f in result.failures}
    width = max((len(p) for p in result.disclosures), default=0)
    for path, opened in result.disclosures.items():
        value = json.dumps(opened["value"], ensure_ascii=False)
        check = "does NOT open its commitment" if path in failed else "opens its commitment"
        lines.append(f"  {path:<{width}}  {value}  {check}")
    for f in result.failures:
        if f.field not in result.disclosures:
            lines.append(f"  - {f}")
    if result.undisclosed:
        lines.append(f"  withheld  {', '.join(result.undisclosed)} (committed, not disclosed)")
    if result.producer:
        lines.append(f"  producer  {result.producer}")
    return "\n".join(lines)


__all__ = ["LABELS", "ProgressLine", "render", "render_audit", "render_disclosures"]
