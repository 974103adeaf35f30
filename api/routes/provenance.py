"""``GET /v1/lots/{gtin}/{lot}/provenance``: a lot's events with their multiproofs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import ProfileDep, ProvenanceDep
from ..schemas.provenance import Provenance
from .common import lot_identity

router = APIRouter(prefix="/v1/lots", tags=["provenance"])


@router.get("/{gtin}/{lot:path}/provenance", response_model=Provenance)
def get_provenance(
    gtin: str, lot: str, profile: ProfileDep, provenance: ProvenanceDep
) -> dict[str, Any]:
    """Every event of the lot in intake order, and one OpenZeppelin multiproof per epoch.

    Public: this is what a buyer verifies. Pending records have no epoch yet.
    """
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    return provenance.provenance(gtin14, lot)
