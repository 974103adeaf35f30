"""``/healthz`` (the process answers), ``/readyz`` (it can do its job), ``/metrics``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from vntrace.node.service import TraceNode

from .. import metrics
from ..deps import NodeDep
from ..problems import problem_response
from ..schemas.health import Health, Ready

router = APIRouter(tags=["health"])

MIN_STALL_SECONDS = 30.0


def stall_after(node: TraceNode) -> float:
    """Seconds records may wait with no successful anchoring step before it is a stall."""
    return max(MIN_STALL_SECONDS, 10 * node.settings.epoch_seconds)


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process is up and serving (checks nothing else)."""
    return Health(status="ok")


def _checks(node: TraceNode) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    ok = True
    oldest = None
    try:
        pending = node.store.pending_count()
        oldest = node.store.oldest_pending_received_at() if pending else None
        checks["store"] = {"ok": True, "pending": pending}
    except Exception as exc:  # any failure means "not ready", never a 500
        ok = False
        checks["store"] = {"ok": False, "error": type(exc).__name__}
    try:
        checks["chain"] = {"ok": True, "blockNumber": node.chain.block_number()}
    except Exception as exc:
        ok = False
        checks["chain"] = {"ok": False, "error": type(exc).__name__}
    status = node.loop.status
    # Waiting since the later of: the last successful anchoring step here, and the
    # oldest pending record's arrival. A gateway replica that runs no anchoring loop
    # then still notices when nobody anchors its records.
    since = max(status.last_success_at or 0.0, oldest.timestamp() if oldest else time.time())
    waiting = time.time() - since
    stalled = oldest is not None and waiting > stall_after(node)
    anchoring: dict[str, Any] = {
        "ok": not (stalled or status.halted),
        "halted": status.halted,
        "stalled": stalled,
        "secondsWithoutProgress": round(waiting, 3) if oldest is not None else 0,
        "consecutiveFailures": status.consecutive_failures,
    }
    if status.last_error:
        anchoring["lastError"] = status.last_error
    checks["anchoring"] = anchoring
    return ok and anchoring["ok"], checks


@router.get("/readyz", response_model=Ready, responses={503: {"description": "Not ready"}})
def readyz(node: NodeDep, request: Request) -> Any:
    """Readiness: the store answers, the chain answers, anchoring is not stalled or halted."""
    ok, checks = _checks(node)
    if ok:
        return Ready(status="ready", checks=checks)
    failing = ", ".join(name for name, c in checks.items() if not c["ok"])
    response: JSONResponse = problem_response(
        request, 503, f"not ready: {failing}", slug="not-ready", title="Not ready", checks=checks
    )
    response.headers["Retry-After"] = "5"
    return response


@router.get("/metrics", response_class=PlainTextResponse)
def get_metrics(node: NodeDep, request: Request) -> PlainTextResponse:
    """Prometheus text format: records, epochs, latency, verdicts, HTTP requests."""
    text = request.app.state.metrics.render(node)
    return PlainTextResponse(text, media_type=metrics.CONTENT_TYPE)
