"""``GET /v1/info`` (public) and ``GET /v1/me`` (who a key belongs to)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import AboutDep, PrincipalDep, SettingsDep
from ..schemas.common import ApiModel
from ..schemas.info import Limits, NodeInfo
from ..schemas.producers import ProducerOut
from ..version import package_version

router = APIRouter(prefix="/v1", tags=["node"])
well_known = APIRouter(tags=["node"])


@well_known.get("/.well-known/vntrace-node.json")
def get_identity(about: AboutDep) -> dict[str, Any]:
    """The node's identity: its id and Ed25519 public key (also recorded on chain in its
    anchorer metadata), to check the intake receipts it signs."""
    return about.identity_document()


@router.get("/info", response_model=NodeInfo)
def get_info(about: AboutDep, settings: SettingsDep) -> NodeInfo:
    """Chain id and registry (the EIP-712 domain producers sign in), operator, profile
    and the request limits."""
    s = settings
    info = about.info()
    return NodeInfo(
        version=package_version(),
        chain_id=info["chainId"],
        registry=info["registry"],
        operator=info["operator"],
        chain=info["chain"],
        profile=info["profile"],
        gtins=info["gtins"],
        digital_link_base=info["digitalLinkBase"],
        epoch_seconds=s.epoch_seconds,
        rpc="/rpc" if s.chain == "embedded" else None,
        limits=Limits(
            max_body_bytes=s.max_body_bytes,
            max_batch_body_bytes=s.max_batch_body_bytes,
            max_events_per_request=s.max_events_per_request,
            max_verify_items=s.max_verify_items,
            rate_limit_per_second=s.rate_limit_per_second,
            rate_limit_burst=s.rate_limit_burst,
        ),
    )


class Me(ApiModel):
    key_id: str
    role: str
    producer: ProducerOut | None


@router.get("/me", response_model=Me)
def get_me(principal: PrincipalDep) -> Me:
    """The caller behind the API key (to check a key works, and whose it is)."""
    producer = ProducerOut.of(principal.producer) if principal.producer else None
    return Me(key_id=principal.key_id, role=principal.role.value, producer=producer)
