"""``POST /v1/lots/{gtin}/{lot}/events``: append signed events to one's own lot."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from vntrace.node.errors import InvalidInputError
from vntrace.node.services import Submission

from ..body import BATCH, JsonRoute
from ..deps import IntakeDep, ProducerDep, ProfileDep, SettingsDep, StoreDep
from ..idempotency import request_hash, run_idempotent
from ..schemas.lots import EventsAppend, LotWritten
from .common import lot_identity, lot_written, submission_errors, too_many
from .lots import IdempotencyKey

router = APIRouter(prefix="/v1/lots", tags=["events"], route_class=JsonRoute)


@router.post(
    "/{gtin}/{lot:path}/events",
    status_code=201,
    response_model=LotWritten,
    openapi_extra=BATCH,
    responses={200: {"description": "Every record was already stored (a retry)."}},
)
def append_events(
    gtin: str,
    lot: str,
    body: EventsAppend,
    intake: IntakeDep,
    profile: ProfileDep,
    store: StoreDep,
    settings: SettingsDep,
    producer: ProducerDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Append a batch of signed events to a lot: all are stored, or none.

    The lot is created for the caller if it does not exist; another producer's lot is
    refused (403). Percent-encode the lot number as in its Digital Link path.
    """
    gtin14, lot = lot_identity(profile, gtin, lot, where="path")
    limit = settings.max_events_per_request
    if len(body.events) > limit:
        raise too_many("events", len(body.events), limit)
    metrics = request.app.state.metrics

    def action() -> tuple[int, BaseModel]:
        subs = [Submission(e.event, e.salt, e.signature, e.disclosures) for e in body.events]
        try:
            acks = intake.submit(producer, gtin14, lot, subs)
        except InvalidInputError as exc:
            raise submission_errors(exc) from None
        fresh = sum(not a.duplicate for a in acks)
        metrics.add_records(fresh)
        out = lot_written(settings.base_url, producer, gtin14, lot, False, acks)
        return (201 if fresh else 200), out

    digest = request_hash("POST", request.url.path, body)
    return run_idempotent(store, producer, idempotency_key, digest, action)
