"""One router per resource; :data:`ROUTERS` is the order they are mounted in."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    auditors,
    checkpoints,
    custodial,
    digital_link,
    epcis,
    epcis_queries,
    epochs,
    eudr,
    events,
    health,
    info,
    lots,
    producers,
    provenance,
    recall,
    records,
    rpc,
    verification,
)

ROUTERS: tuple[APIRouter, ...] = (
    info.router,
    info.well_known,
    producers.router,
    custodial.router,
    auditors.router,
    lots.router,
    events.router,
    provenance.router,
    recall.router,
    records.router,
    verification.router,
    epochs.router,
    checkpoints.router,
    eudr.router,
    epcis.router,
    epcis_queries.router,
    digital_link.router,
    rpc.router,
    health.router,
)
