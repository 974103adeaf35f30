"""``GET /v1/records/{recordId}`` (status) and ``.../bundle`` (the proof bundle)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from vntrace.node.errors import ForbiddenError
from vntrace.node.store.types import Role

from ..deps import DisclosuresDep, PrincipalDep, ProvenanceDep
from ..schemas.records import ProofBundle, RecordOut

router = APIRouter(prefix="/v1/records", tags=["records"])

RecordId = Annotated[
    str,
    Path(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="The record's leaf hash, 0x-hex (as returned when it was submitted).",
    ),
]


@router.get("/{record_id}", response_model=RecordOut)
def get_record(record_id: RecordId, provenance: ProvenanceDep) -> RecordOut:
    """Where a record stands: pending, sealed into an epoch, or anchored (with where)."""
    bundle = provenance.bundle(record_id)
    return RecordOut.model_validate(_summary(bundle))


def _summary(bundle: dict[str, Any]) -> dict[str, Any]:
    keys = ("recordId", "status", "gtin", "lot", "lotKey", "digitalLink", "producer")
    out = {k: bundle[k] for k in keys}
    out |= {"receivedAt": bundle["receivedAt"], "epoch": bundle["epoch"]}
    out |= {"root": bundle["root"], "anchor": bundle["anchor"]}
    return out


@router.get("/{record_id}/bundle", response_model=ProofBundle)
def get_bundle(record_id: RecordId, provenance: ProvenanceDep) -> dict[str, Any]:
    """The record's proof bundle: verify it offline, then check its root on chain.

    A pending record's bundle has no proof yet (`proof`, `root`, `anchor` are null).
    """
    return provenance.bundle(record_id)


@router.get("/{record_id}/disclosures")
def get_disclosures(
    record_id: RecordId,
    provenance: ProvenanceDep,
    disclosures: DisclosuresDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """The record's confidential values and their salts, for an auditor, the admin or the
    record's own producer; check them against the event's commitments."""
    row = provenance.record(record_id)
    own = principal.producer is not None and principal.producer.id == row.producer_id
    if principal.role not in (Role.AUDITOR, Role.ADMIN) and not own:
        raise ForbiddenError("only an auditor, the admin or the record's producer may read this")
    return {"recordId": record_id, "disclosures": disclosures.open(row)}
