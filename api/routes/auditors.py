"""``POST /v1/auditors/keys``: API keys for auditors (admin only).

An auditor key reads the confidential values and salts of any record
(``GET /v1/records/{id}/disclosures``) and nothing else beyond what is public.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vntrace.node.store.types import Role

from ..body import JsonRoute
from ..deps import AdminDep, StoreDep
from ..schemas.producers import ApiKeyCreate, ApiKeyOut

router = APIRouter(prefix="/v1/auditors", tags=["auditors"], route_class=JsonRoute)


class AuditorKeyIssued(ApiKeyOut):
    token: str = Field(description="The bearer token; shown once, only its hash is stored.")


@router.post("/keys", status_code=201, response_model=AuditorKeyIssued)
def issue_auditor_key(
    store: StoreDep, _admin: AdminDep, body: ApiKeyCreate | None = None
) -> BaseModel:
    """Issue an auditor key. The token is in this response only."""
    issued = store.create_api_key(Role.AUDITOR, None, label=body.label if body else None)
    return AuditorKeyIssued(**ApiKeyOut.of(issued.key).model_dump(), token=issued.token)
