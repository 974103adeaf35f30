"""``POST /v1/lots``: a producer registers a lot, optionally with its first events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from vntrace.node.errors import InvalidInputError
from vntrace.node.services import Submission

from ..body import BATCH, JsonRoute
from ..deps import IntakeDep, ProducerDep, ProducersDep, ProfileDep, SettingsDep, StoreDep
from ..idempotency import HEADER, request_hash, run_idempotent
from ..schemas.lots import LotCreate, LotWritten
from .common import lot_identity, lot_written, submission_errors, too_many

router = APIRouter(prefix="/v1/lots", tags=["lots"], route_class=JsonRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Any unique string (a UUID): a retry with the same key and body returns "
        "the first response instead of writing again.",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=LotWritten,
    openapi_extra=BATCH,
    responses={200: {"description": "The lot already existed and nothing new was stored."}},
)
def register_lot(
    body: LotCreate,
    producers: ProducersDep,
    profile: ProfileDep,
    intake: IntakeDep,
    store: StoreDep,
    settings: SettingsDep,
    producer: ProducerDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Register a lot of the product (yours from now on) and append its first events.

    Returns the lot key, its GS1 Digital Link URI and the id of every record. Each event
    must be signed by the calling producer's key (EIP-712, see `GET /v1/info`).
    """
    gtin14, lot = lot_identity(profile, body.gtin, body.lot)
    limit = settings.max_events_per_request
    if len(body.events) > limit:
        raise too_many("events", len(body.events), limit)
    metrics = request.app.state.metrics

    def action() -> tuple[int, BaseModel]:
        _, created = producers.register_lot(producer, gtin14, lot)
        acks = []
        if body.events:
            subs = [Submission(e.event, e.salt, e.signature, e.disclosures) for e in body.events]
            try:
                acks = intake.submit(producer, gtin14, lot, subs)
            except InvalidInputError as exc:
                raise submission_errors(exc) from None
        fresh = sum(not a.duplicate for a in acks)
        metrics.add_records(fresh)
        out = lot_written(settings.base_url, producer, gtin14, lot, created, acks)
        return (201 if created or fresh else 200), out

    digest = request_hash("POST", request.url.path, body)
    return run_idempotent(store, producer, idempotency_key, digest, action)
