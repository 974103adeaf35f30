"""Dependencies shared by the routes, as ``Annotated`` aliases (the FastAPI template way).

Routers depend on the service they use (``IntakeDep``, ``ProvenanceDep``,
``VerificationDep``, ...) or the shared part (``StoreDep``, ``ProfileDep``), not on the
whole node; ``NodeDep`` (the running :class:`TraceNode`) is left for the few routes
that watch the node itself (health, metrics). ``PrincipalDep`` any authenticated
caller; ``AdminDep`` the administrator (the regulator's operator); ``ProducerDep`` a
producer's key, resolved to the producer's row. Each refusal is a problem+json 401
(no or bad token) or 403 (wrong role).

Routes under ``/v1/producers/{address}`` take the producer the path names from
``PathProducerDep`` (a problem+json 404 if there is none); ``CustodialKeyProducerDep``
first checks who asks for its custodial key (the producer's own key or the
administrator, the producer active). Their checks run in the order the routes' own
preamble ran them: authentication (401), the path (422), the lookup (404), the role
and the producer's state (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vntrace.node.chain import ChainBackend
from vntrace.node.config import Settings
from vntrace.node.eudr.service import EudrService
from vntrace.node.profile import Profile
from vntrace.node.service import TraceNode
from vntrace.node.services import (
    AboutService,
    DisclosureService,
    IntakeService,
    ProducerService,
    ProvenanceService,
    RecallService,
    VerificationService,
)
from vntrace.node.services.epcis import EpcisService
from vntrace.node.store import Store
from vntrace.node.store.types import Principal, ProducerRow, Role

from . import auth
from .pages import PageMemo
from .problems import Problem

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="`Authorization: Bearer vnt_...`: a producer's or the administrator's key.",
)


# Accessors are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a
# thread hop (~50-100 µs) per dependency per request for one attribute read.


async def get_node(request: Request) -> TraceNode:
    return request.app.state.node


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_page_memo(request: Request) -> PageMemo:
    return request.app.state.page_memo


NodeDep = Annotated[TraceNode, Depends(get_node)]
PageMemoDep = Annotated[PageMemo, Depends(get_page_memo)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_store(node: NodeDep) -> Store:
    return node.store


async def get_chain(node: NodeDep) -> ChainBackend:
    return node.chain


async def get_profile(node: NodeDep) -> Profile:
    return node.profile


async def get_about(node: NodeDep) -> AboutService:
    return node.about


async def get_producers(node: NodeDep) -> ProducerService:
    return node.producers


async def get_intake(node: NodeDep) -> IntakeService:
    return node.intake


async def get_provenance(node: NodeDep) -> ProvenanceService:
    return node.proofs


async def get_disclosures(node: NodeDep) -> DisclosureService:
    return node.confidential


async def get_verification(node: NodeDep) -> VerificationService:
    return node.verification


async def get_recalls(node: NodeDep) -> RecallService:
    return node.recalls


async def get_eudr(node: NodeDep) -> EudrService:
    return node.eudr


async def get_epcis(node: NodeDep) -> EpcisService:
    return node.epcis


StoreDep = Annotated[Store, Depends(get_store)]
ChainDep = Annotated[ChainBackend, Depends(get_chain)]
ProfileDep = Annotated[Profile, Depends(get_profile)]
AboutDep = Annotated[AboutService, Depends(get_about)]
ProducersDep = Annotated[ProducerService, Depends(get_producers)]
IntakeDep = Annotated[IntakeService, Depends(get_intake)]
ProvenanceDep = Annotated[ProvenanceService, Depends(get_provenance)]
DisclosuresDep = Annotated[DisclosureService, Depends(get_disclosures)]
VerificationDep = Annotated[VerificationService, Depends(get_verification)]
RecallsDep = Annotated[RecallService, Depends(get_recalls)]
EudrDep = Annotated[EudrService, Depends(get_eudr)]
EpcisDep = Annotated[EpcisService, Depends(get_epcis)]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="vntrace"'})


def get_principal(
    request: Request,
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("this endpoint needs an API key: Authorization: Bearer vnt_...")
    principal = auth.authenticate(node, credentials.credentials)
    if principal is None:
        raise _unauthorized("the API key is unknown or revoked")
    request.app.state.known_keys.add(principal.key_id)  # rate-limited per key from now on
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.ADMIN:
        raise Problem(403, "only the administrator may do this")
    return principal


def get_producer(principal: PrincipalDep) -> ProducerRow:
    if principal.role is not Role.PRODUCER or principal.producer is None:
        raise Problem(403, "this endpoint needs a producer's API key")
    if not principal.producer.active:
        raise Problem(403, "this producer is deactivated")
    return principal.producer


AdminDep = Annotated[Principal, Depends(get_admin)]
ProducerDep = Annotated[ProducerRow, Depends(get_producer)]

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="0x address")]


def get_path_producer(address: AddressPath, producers: ProducersDep) -> ProducerRow:
    """The producer ``{address}`` names (any registered one, active or not), else 404."""
    return producers.producer(address)


PathProducerDep = Annotated[ProducerRow, Depends(get_path_producer)]


def get_custodial_key_producer(principal: PrincipalDep, producer: PathProducerDep) -> ProducerRow:
    """The path's producer, when the caller may ask for its custodial key: the producer's
    own key or the administrator, and the producer active (``principal`` first, so an
    unauthenticated call is a 401 before any lookup)."""
    if principal.role is Role.PRODUCER:
        if principal.producer is None or principal.producer.id != producer.id:
            raise Problem(403, "a producer may ask for a custodial key for itself only")
    elif principal.role is not Role.ADMIN:
        raise Problem(403, "only the producer or the administrator may do this")
    if not producer.active:
        raise Problem(403, "this producer is deactivated")
    return producer


CustodialKeyProducerDep = Annotated[ProducerRow, Depends(get_custodial_key_producer)]
