"""``/v1/eudr``: check a lot as the EU information system would, and export a DDS.

Public, like provenance: everything here is derived from anchored public records.
Refusals are problem+json (422 with one entry per plot and rule; 413 past the EU's
size limit per statement). See docs/eudr.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from vntrace.node.eudr.dds import ACTIVITY_TYPES, ExportOptions
from vntrace.node.eudr.errors import EudrInputError

from ..deps import EudrDep, ProfileDep
from ..schemas.eudr import EudrCheck, EudrExport, EudrFacts
from .common import lot_identity

router = APIRouter(prefix="/v1/eudr", tags=["eudr"])


@router.get("/lots/{gtin}/{lot:path}/check", response_model=EudrCheck)
def check_lot(gtin: str, lot: str, profile: ProfileDep, eudr: EudrDep) -> dict[str, Any]:
    """Everything the EU would refuse (`refused`) or an auditor would question
    (`questioned`) about the lot. `ok` is true only when the list is empty."""
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    return eudr.check(gtin14, lot)


@router.get("/lots/{gtin}/{lot:path}/facts", response_model=EudrFacts)
def lot_facts(gtin: str, lot: str, profile: ProfileDep, eudr: EudrDep) -> dict[str, Any]:
    """Plots, total area, countries, the plots for a map, and DDS references."""
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    return eudr.facts(gtin14, lot)


@router.get("/export", response_model=EudrExport)
def export(
    profile: ProfileDep,
    eudr: EudrDep,
    gtin: Annotated[str, Query(description="GTIN of the shipment's lots.")],
    lot: Annotated[list[str], Query(min_length=1, max_length=200, description="Lot (repeat).")],
    activity_type: Annotated[str, Query(alias="activityType")] = "IMPORT",
    country_of_activity: Annotated[
        str | None, Query(alias="countryOfActivity", pattern="^[A-Z]{2}$")
    ] = None,
    internal_reference: Annotated[
        str | None, Query(alias="internalReference", max_length=50)
    ] = None,
) -> dict[str, Any]:
    """The DDS data of one lot or a shipment of lots: the statement in the EU's
    `submitDds` shape, one GeoJSON of all plots, and the plots' proof bundles."""
    if activity_type not in ACTIVITY_TYPES:
        raise EudrInputError(
            f"activityType must be one of {', '.join(ACTIVITY_TYPES)}",
            errors=[{"path": "activityType", "message": "unknown activity", "code": "enum"}],
        )
    lots = []
    gtin14 = gtin
    for item in lot:
        gtin14, normal = lot_identity(profile, gtin, item, where="query")
        lots.append(normal)
    options = ExportOptions(
        activity_type=activity_type,
        country_of_activity=country_of_activity,
        internal_reference=internal_reference,
    )
    return eudr.export(gtin14, lots, options)
