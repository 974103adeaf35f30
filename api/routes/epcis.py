"""``/epcis``: the node's events in GS1 EPCIS 2.0 (JSON-LD, CBV 2.0); see docs/epcis.md.

Read-only for now: ``GET /epcis/eventTypes`` (EPCIS 2.0 REST bindings) and
``GET /epcis/lots/{gtin}/{lot}/events`` (vntrace's export of one lot as an
``EPCISDocument``, with each event's record and proof bundle named in ``vnt:records``).
Capture and the standard query interface come with the REST-bindings step.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from vntrace.node.epcis.hashid import EPCIS_TYPES
from vntrace.node.epcis.records import lot_document

from ..deps import ProfileDep, ProvenanceDep
from .common import lot_identity

router = APIRouter(prefix="/epcis", tags=["epcis"])

EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
LD_JSON = "application/ld+json"


def _ld(body: Any) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type=LD_JSON,
        headers=EPCIS_HEADERS,
    )


@router.get("/eventTypes", response_class=Response, responses={200: {"content": {LD_JSON: {}}}})
def event_types() -> Response:
    """The EPCIS 2.0 event types this node serves."""
    return _ld({"@set": sorted(EPCIS_TYPES)})


@router.get(
    "/lots/{gtin}/{lot:path}/events",
    response_class=Response,
    responses={200: {"content": {LD_JSON: {}}}},
)
def lot_events(gtin: str, lot: str, profile: ProfileDep, provenance: ProvenanceDep) -> Response:
    """The lot's events as an EPCIS 2.0 document (public, like provenance: private
    fields are commitments). Each event's proof bundle is linked in ``vnt:records``."""
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    return _ld(lot_document(profile, provenance.provenance(gtin14, lot)))
