"""QR codes and printable labels of a lot: ``/v1/lots/{gtin}/{lot}/qr`` and ``/label``.

The QR code holds the lot's GS1 Digital Link URI (the same one its provenance names),
so a phone camera opens the consumer page and the SDK resolves the same lot. Only lots
this node knows get a code: printing a code that resolves to nothing helps nobody.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from vntrace.node.records import digital_link_uri, lot_path
from vntrace.node.service import TraceNode
from vntrace.node.store.types import LotRow

from ..deps import NodeDep
from ..pages import Texts, choose_language, render
from ..pages.lot_view import Link
from ..pages.qr import qr_png, qr_svg
from ..problems import Problem
from .common import lot_identity
from .digital_link import page_headers

router = APIRouter(prefix="/v1/lots", tags=["labels"])

_MEDIA = {"svg": "image/svg+xml", "png": "image/png"}


def _lot(node: TraceNode, gtin: str, lot: str) -> tuple[str, str, LotRow]:
    gtin14, lot = lot_identity(node, gtin, lot, where="path")
    _, _, key = node.lot_identity(gtin14, lot)
    row = node.store.get_lot(key)
    if row is None:
        raise Problem(404, f"no lot {lot} of GTIN {gtin14}")
    return gtin14, lot, row


@router.get(
    "/{gtin}/{lot:path}/qr",
    responses={
        200: {
            "content": {"image/svg+xml": {}, "image/png": {}},
            "description": "The QR code of the lot's Digital Link URI (error correction Q)",
        }
    },
    response_class=Response,
)
def get_qr(
    gtin: str,
    lot: str,
    node: NodeDep,
    request: Request,
    format: Annotated[Literal["svg", "png"], Query(description="svg (default) or png")] = "svg",
    scale: Annotated[int, Query(ge=1, le=40, description="PNG pixels per module")] = 10,
) -> Response:
    """The QR code of the lot's GS1 Digital Link URI, as SVG (scalable) or PNG."""
    gtin14, lot, _ = _lot(node, gtin, lot)
    uri = digital_link_uri(node.settings.base_url, gtin14, lot)
    body = qr_png(uri, scale=scale) if format == "png" else qr_svg(uri).encode("ascii")
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=3600",
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Digital-Link": uri,
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_MEDIA[format], headers=headers)


@router.get("/{gtin}/{lot:path}/label", response_class=HTMLResponse)
def get_label(
    gtin: str,
    lot: str,
    node: NodeDep,
    request: Request,
    lang: Annotated[str | None, Query(description="vi or en (default: Accept-Language)")] = None,
    copies: Annotated[int, Query(ge=1, le=40, description="labels on the page")] = 1,
) -> Response:
    """A printable label page: product, lot, GTIN, producer, QR code and a short text."""
    language = choose_language(lang, request.headers.get("accept-language"))
    t, other = Texts(language), Texts(Texts(language).other)
    gtin14, lot, row = _lot(node, gtin, lot)  # refusals as problem+json, like all of /v1
    producer = node.store.get_producer(row.producer_id)
    uri = digital_link_uri(node.settings.base_url, gtin14, lot)
    body = render(
        "label.html",
        language,
        title=t("label.title", lot=lot),
        product=node.profile.name[language],
        lot=lot,
        lot_word=t("label.lot"),
        gtin=gtin14,
        producer=producer.name if producer else "",
        scan=t("label.scan"),
        scan_other=other("label.scan"),  # the other language, marked as such (WCAG 3.1.2)
        other_lang=other.lang,
        uri=uri,
        qr=Markup(qr_svg(uri, inline=True)),  # segno's output: no caller text inside
        copies=copies,
        lot_href=f"{lot_path(gtin14, lot)}?lang={language}",
        switch=_switch(request, other),
    )
    return HTMLResponse(body, headers=page_headers(language))


def _switch(request: Request, other: Texts) -> Link:
    copies = request.query_params.get("copies")
    query = f"?lang={other.lang}" + (f"&copies={copies}" if copies and copies.isdigit() else "")
    return Link(other("lang.name"), query)
