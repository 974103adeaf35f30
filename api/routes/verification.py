"""``POST /v1/verify``: a verdict, with reasons, for each bundle or record id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from vntrace.node.services import Verdict, VerificationService

from ..body import BATCH, JsonRoute
from ..deps import SettingsDep, VerificationDep
from ..problems import Problem
from ..schemas.verification import VERDICT_STATUSES, VerifyRequest, VerifyResponse
from .common import too_many

router = APIRouter(prefix="/v1", tags=["verification"], route_class=JsonRoute)


_ANCHOR_FIELDS = ("chainId", "contract", "txHash", "blockNumber", "blockTimestamp")
# Up to this many items a request is verified on the event loop itself (about 0.7 ms a
# bundle): the thread pool's hop cost a single-bundle request more than its own work.
# Larger batches go to the pool, so a long one does not hold the loop.
INLINE_ITEMS = 4


def _result(
    index: int, source: str, verdict: Verdict, fallback_id: str | None
) -> dict[str, Any]:
    # The wire form of VerifyResult, built directly: a 1,000-bundle answer spent ~50 µs a
    # result validating models it had just made (tests/api/test_verification.py pins
    # this against VerifyResponse's own serialisation).
    anchor = verdict.anchor
    return {
        "index": index,
        "source": source,
        "recordId": verdict.record_id or fallback_id,
        "status": verdict.status,
        "reasons": list(verdict.reasons),
        "details": list(verdict.details),
        "anchor": {**dict.fromkeys(_ANCHOR_FIELDS), **anchor} if anchor else None,
        "signedBy": verdict.signed_by,
    }


@router.post("/verify", response_model=VerifyResponse, openapi_extra=BATCH)
async def verify(
    body: VerifyRequest,
    verification: VerificationDep,
    settings: SettingsDep,
    request: Request,
) -> JSONResponse:
    """Verify many proof bundles and/or stored records in one call.

    Bundles are checked as sent (signature, digest, leaf, proof), then their roots,
    producers and lots against the registry on chain. Results come bundles first, then
    record ids, each with `status` (verified, pending, recalled, failed) and `reasons`.
    """
    total = len(body.bundles) + len(body.record_ids)
    if total == 0:
        raise Problem(
            422,
            "nothing to verify: send bundles and/or recordIds",
            errors=[{"field": "bundles", "message": "empty", "code": "too_short"}],
        )
    limit = settings.max_verify_items
    if total > limit:
        raise too_many("items", total, limit)
    if total <= INLINE_ITEMS:
        results = _results(body, verification)
    else:
        results = await run_in_threadpool(_results, body, verification)
    statuses = [r["status"] for r in results]
    request.app.state.metrics.add_verdicts(statuses)
    summary = {s: statuses.count(s) for s in VERDICT_STATUSES}
    return JSONResponse({"results": results, "summary": summary})


def _results(body: VerifyRequest, verification: VerificationService) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    if body.bundles:
        verdicts = verification.verify_bundles(body.bundles)
        results += [_result(i, "bundle", v, None) for i, v in enumerate(verdicts)]
    if body.record_ids:
        verdicts = verification.verify_records(body.record_ids)
        offset = len(body.bundles)
        results += [
            _result(offset + i, "recordId", v, rid)
            for i, (rid, v) in enumerate(zip(body.record_ids, verdicts, strict=True))
        ]
    return results
