"""Checking disclosed confidential values against the commitments the producer signed.

A private field reaches the public record only as ``{"commitment": keccak256(field_salt
|| JCS(value))}``. Whoever is shown the value and its salt (an auditor reading
``GET /v1/records/{id}/disclosures``, or a producer's own ``*.disclosures.json``) checks
here, without trusting whoever showed them, that:

- the record's event is the one the producer signed (digest, leaf = record id, EIP-712
  signature recomputed from the bundle, as in verification), so the commitments are
  the producer's, not the node's;
- each disclosed value and salt opens the commitment at its path
  (:func:`vntrace.node.records.check_disclosure`).

Pure: no I/O. :meth:`vntrace.client.Client.disclosures` fetches both documents and
calls :func:`check_disclosures`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from vntrace.node.bundles import Reason, check_bundle_offline
from vntrace.node.records import (
    RecordError,
    check_disclosure,
    is_commitment,
    open_private_fields,
)

from .errors import FieldIssue

_FATAL = {
    Reason.MALFORMED,
    Reason.LOT_MISMATCH,
    Reason.DIGEST_MISMATCH,
    Reason.LEAF_MISMATCH,
    Reason.BAD_SIGNATURE,
}


def commitment_paths(event: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every committed (private) field of a signed event."""
    for key, value in event.items():
        path = f"{prefix}{key}"
        if is_commitment(value):
            yield path
        elif isinstance(value, Mapping):
            yield from commitment_paths(value, path + ".")


@dataclass(frozen=True, slots=True)
class DisclosureResult:
    """Disclosed private values of one record, and whether each opens its commitment.

    ``disclosures`` is ``{path: {"value", "salt"}}`` as shown; ``failures`` name every
    path that does not open (or the record itself, ``field="record"``); ``undisclosed``
    lists committed paths nobody disclosed (the producer may have withheld them).
    """

    record_id: str
    event: dict[str, Any]
    disclosures: dict[str, dict[str, Any]]
    failures: tuple[FieldIssue, ...] = ()
    undisclosed: tuple[str, ...] = ()
    producer: str | None = None
    raw_bundle: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the record is the signed one and every disclosed value opens."""
        return not self.failures

    @property
    def values(self) -> dict[str, Any]:
        """``{path: value}`` of the checked disclosures (empty when any failed)."""
        return {p: d["value"] for p, d in self.disclosures.items()} if self.ok else {}

    def opened_event(self) -> dict[str, Any]:
        """The signed event with the disclosed values in place of their commitments."""
        if not self.ok:
            raise ValueError("the disclosures did not verify")
        return open_private_fields(self.event, self.disclosures)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``vntrace disclosures --json``)."""
        return {
            "recordId": self.record_id,
            "ok": self.ok,
            "producer": self.producer,
            "disclosures": self.disclosures,
            "failures": [
                {"field": f.field, "message": f.message, "code": f.code} for f in self.failures
            ],
            "undisclosed": list(self.undisclosed),
        }


def check_disclosures(
    bundle: Mapping[str, Any],
    disclosures: Mapping[str, Any],
    *,
    record_id: str | None = None,
) -> DisclosureResult:
    """Check ``{path: {value, salt}}`` against the signed event of ``bundle``.

    ``record_id`` (the record asked for) must be the leaf recomputed from the bundle.
    Never raises on bad input: what does not verify becomes a failure.
    """
    doc = dict(bundle) if isinstance(bundle, Mapping) else {}
    event = doc.get("event") if isinstance(doc.get("event"), dict) else {}
    rid = record_id or str(doc.get("recordId") or doc.get("leaf") or "")
    failures: list[FieldIssue] = []

    check = check_bundle_offline(doc)
    for reason, detail in zip(check.reasons, check.details, strict=True):
        if reason in _FATAL:
            failures.append(FieldIssue("record", f"{detail} (not as signed)", reason.value))
    if check.leaf is not None and rid.lower() != "0x" + check.leaf.hex():
        wrong = f"the bundle is for another record than {rid}"
        failures.append(FieldIssue("record", wrong, Reason.LEAF_MISMATCH.value))

    shown: dict[str, dict[str, Any]] = {}
    if not isinstance(disclosures, Mapping):
        failures.append(FieldIssue("disclosures", "not a JSON object", "malformed"))
        disclosures = {}
    for path, opened in disclosures.items():
        if not isinstance(opened, Mapping) or set(opened) != {"value", "salt"}:
            shape = 'expected {"value": ..., "salt": "0x.."}'
            failures.append(FieldIssue(str(path), shape, "malformed"))
            continue
        shown[str(path)] = {"value": opened["value"], "salt": opened["salt"]}
        try:
            opens = check_disclosure(event, str(path), opened["value"], opened["salt"])
        except RecordError:
            opens = False
        if not opens:
            wrong = "the value and salt do not open the signed commitment"
            failures.append(FieldIssue(str(path), wrong, "disclosure_mismatch"))
    undisclosed = tuple(p for p in commitment_paths(event) if p not in shown)
    return DisclosureResult(
        record_id=rid,
        event=event,
        disclosures=shown,
        failures=tuple(failures),
        undisclosed=undisclosed,
        producer=check.producer,
        raw_bundle=doc,
    )


__all__ = ["DisclosureResult", "check_disclosures", "commitment_paths"]
