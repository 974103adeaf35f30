"""The GS1 Digital Link resolver: ``GET /01/{gtin}/10/{lot}``.

The URI printed in a package's QR code. Programs get JSON (the lot's provenance);
browsers get the consumer page (``vntrace.api.pages``): the lot's journey, its harvest
plots and the node's verdict, in Vietnamese or English. ``?format=json|html`` overrides
the ``Accept`` header, ``?lang=vi|en`` the ``Accept-Language`` header.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from vntrace.node.errors import NotFoundError, UnavailableError

from ..deps import NodeDep, PageMemoDep
from ..negotiation import negotiate
from ..pages import (
    Derived,
    Lang,
    PageMemo,
    Texts,
    Witnessing,
    build_lot_page,
    choose_language,
    content_key,
    memoised_profile_provenance,
    render,
    security_headers,
)
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
    memo: PageMemoDep,
    request: Request,
    format: Annotated[Literal["json", "html"] | None, Query()] = None,
    lang: Annotated[
        str | None, Query(description="Page language: vi or en (default: Accept-Language)")
    ] = None,
    stage: Annotated[
        str | None, Query(max_length=64, description="Page: the stage (event kind) to page")
    ] = None,
    page_number: Annotated[
        int, Query(alias="page", ge=1, le=1_000_000, description="Page: that stage's page")
    ] = 1,
    show_all: Annotated[
        bool, Query(alias="all", description="Page: every event of that stage at once")
    ] = False,
) -> Response:
    """Resolve a lot's Digital Link: its provenance as JSON, or the consumer page.

    A lot of more than a few dozen events is paged by stage (``?stage=harvest&page=2``,
    ``&all=1``), plain links that work without JavaScript (docs/page.md)."""
    choice = format or negotiate(request.headers.get("accept"))
    if choice is None:
        raise Problem(406, "this resource is served as application/json or text/html")
    if choice == "html":
        language = choose_language(lang, request.headers.get("accept-language"))
        paging = (stage, page_number, show_all)
        return _page(node, memo, request, gtin, lot, language, paging)
    gtin14, lot = lot_identity(node, gtin, lot, where="path")
    return JSONResponse(node.provenance(gtin14, lot), headers={"Vary": "Accept"})


def page_headers(lang: Lang) -> dict[str, str]:
    """Headers of a page: it varies by language, and its verdict changes over time."""
    return {
        "Vary": "Accept, Accept-Language",
        "Content-Language": lang,
        "Cache-Control": "no-cache",
        **security_headers(),
    }


def error_page(lang: Lang, status: int, message: str, detail: str | None = None) -> HTMLResponse:
    """A page for a person who scanned a code this node cannot resolve."""
    t = Texts(lang)
    body = render("error.html", lang, title=t("error.title"), message=message, detail=detail)
    return HTMLResponse(body, status_code=status, headers=page_headers(lang))


def _witnessing(node: NodeDep, provenance: dict[str, Any]) -> Witnessing | None:
    """The log's witnesses, and those that cosigned every anchored epoch of the lot."""
    log = node.log
    if not log.witnesses:
        return None
    sets = [
        set(log.cosigners(m["log"]) if m.get("log") else ())
        for m in provenance.get("multiproofs", [])
    ]
    cosigned = set.intersection(*sets) if sets else set()
    return Witnessing(
        log_key=log.vkey,
        witness_keys=tuple(w.verifier.vkey for w in log.witnesses),
        cosigners=tuple(sorted(cosigned)),
    )


def _page(
    node: NodeDep,
    memo: PageMemo,
    request: Request,
    gtin: str,
    lot: str,
    lang: Lang,
    paging: tuple[str | None, int, bool] = (None, 1, False),
) -> Response:
    t = Texts(lang)
    try:
        gtin14, lot = lot_identity(node, gtin, lot, where="path")
        reading = node.read_lot(gtin14, lot)
    except Problem as exc:
        return error_page(lang, exc.status_code, t("error.invalid"), str(exc.detail))
    except NotFoundError:
        return error_page(lang, 404, t("error.not_found"))
    derived = Derived(memo, content_key(r.event_json for r in reading.rows))
    # EPCIS events in the profile's terms, kept per stored bytes like the summary and map
    provenance = memoised_profile_provenance(derived, node.profile, reading.provenance)
    try:  # every record, even on a paged page: one failed record fails the lot
        verdicts = node.verify_lot(reading)  # one multiproof per epoch
    except UnavailableError:
        verdicts = None  # the page still shows the lot, and says it cannot verify now
    page = build_lot_page(
        profile=node.profile,
        provenance=provenance,
        verdicts=verdicts,
        lang=lang,
        node_url=str(request.base_url).rstrip("/"),
        witnessing=_witnessing(node, provenance),
        stage=paging[0],
        page=paging[1],
        show_all=paging[2],
        eudr_rules=node.eudr.rules,
        derived=derived,
    )
    body = render("lot.html", lang, page=page, title=page.title, switch=page.switch)
    return HTMLResponse(body, status_code=200, headers=page_headers(lang))
