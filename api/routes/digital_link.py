"""The GS1 Digital Link resolver: ``GET /01/{gtin}/10/{lot}``.

The URI printed in a package's QR code. JSON (the lot's provenance) for programs; for
browsers a minimal HTML page for now (the consumer page is a later issue). Ask for JSON
with ``Accept: application/json`` or ``?format=json``.
"""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..deps import NodeDep
from ..negotiation import negotiate
from ..problems import Problem
from ..schemas.provenance import Provenance
from .common import lot_identity

router = APIRouter(tags=["digital link"])


@router.get(
    "/01/{gtin}/10/{lot:path}",
    response_model=Provenance,
    responses={200: {"content": {"text/html": {}}}, 406: {"description": "Neither JSON nor HTML"}},
)
def resolve(
    gtin: str,
    lot: str,
    node: NodeDep,
    request: Request,
    format: Annotated[Literal["json", "html"] | None, Query()] = None,
) -> Response:
    """Resolve a lot's Digital Link: its provenance as JSON, or a page for people."""
    choice = format or negotiate(request.headers.get("accept"))
    if choice is None:
        raise Problem(406, "this resource is served as application/json or text/html")
    gtin14, lot = lot_identity(node, gtin, lot, where="path")
    provenance = node.provenance(gtin14, lot)
    headers = {"Vary": "Accept"}
    if choice == "json":
        return JSONResponse(provenance, headers=headers)
    return HTMLResponse(_page(provenance), headers=headers)


def _page(p: dict[str, Any]) -> str:
    """A plain page: what the lot is, who made it, how many events, how to verify."""
    e = html.escape
    anchored = sum(r["status"] == "anchored" for r in p["records"])
    recall = p.get("recall")
    rows = "".join(
        f"<li>{e(str(r['event'].get('kind', '?')))} — {e(str(r['event'].get('eventTime', '')))}"
        f" — {e(r['status'])}</li>"
        for r in p["records"]
    )
    warning = (
        f"<p><strong>Recalled</strong> on {e(recall['at'])}: {e(recall.get('reason') or '')}</p>"
        if recall
        else ""
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>Lot {e(p['lot'])}</title>"
        f"<h1>Lot {e(p['lot'])}</h1>"
        f"<p>GTIN {e(p['gtin'])} · producer {e(p['producer']['name'])}"
        f" ({e(p['producer']['address'])})</p>{warning}"
        f"<p>{len(p['records'])} events, {anchored} anchored on chain {p['chainId']}.</p>"
        f"<ol>{rows}</ol>"
        "<p><a href='?format=json'>Provenance as JSON</a> (verify it with the vntrace SDK)</p>"
        "</html>"
    )
