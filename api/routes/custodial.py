"""Custodial keys: the node signs for producers whose systems only speak EPCIS.

``POST /v1/producers/{address}/custodial-key`` (the producer's own API key, or the
administrator) makes the key once; ``GET /v1/producers/{address}/custodians`` (public)
is the node's signed statement of the producer's custodians, what a verifier needs to
accept a record signed by the node for the producer; ``DELETE
/v1/producers/{address}/custodians/{custodian}`` (the administrator) revokes one
(docs/epcis.md §6).
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from fastapi import APIRouter, Depends, Request, Response

from vntrace.node.services.custodial import CustodialService
from vntrace.node.store.types import ProducerRow

from ..body import JsonRoute
from ..deps import (
    AddressPath,
    AdminDep,
    CustodialKeyProducerDep,
    NodeDep,
    PathProducerDep,
    ProducersDep,
    get_path_producer,
)
from ..schemas.custodial import CustodiansStatement

router = APIRouter(prefix="/v1/producers", tags=["custodial keys"], route_class=JsonRoute)


def get_custodial(node: NodeDep) -> CustodialService:
    return node.custodial


CustodialDep = Annotated[CustodialService, Depends(get_custodial)]


class Revocation(NamedTuple):
    producer: ProducerRow
    custodian: str


def get_revocation(
    _admin: AdminDep, address: AddressPath, custodian: AddressPath, producers: ProducersDep
) -> Revocation:
    """The administrator's revocation target. Both path segments are this dependency's
    own, so both are checked (422) before the lookup (404), and OpenAPI lists them in
    path order, as when they were the route's own parameters."""
    return Revocation(get_path_producer(address, producers), custodian)


RevocationDep = Annotated[Revocation, Depends(get_revocation)]


@router.post(
    "/{address}/custodial-key",
    status_code=201,
    response_model=CustodiansStatement,
    responses={
        200: {"description": "The producer already has a custodial key: the statement."},
        403: {"description": "Another producer's key, an auditor's, or a deactivated producer."},
    },
)
def create_custodial_key(
    producer: CustodialKeyProducerDep,
    custodial: CustodialDep,
    request: Request,
    response: Response,
) -> CustodiansStatement:
    """Give the producer a key the node signs its unsigned EPCIS captures with.

    For systems that only speak EPCIS (no vntrace SDK, no Ethereum key): once the key
    exists, `POST /epcis/capture` accepts events without `vnt:signature` from this
    producer's API key, and the node signs them for the producer. Their bundles and
    every verdict say `custodial` ("signed by the node for the producer"), never
    `producer`. The private key stays sealed in the node's vault; the answer is the
    node's signed statement of the producer's custodians (idempotent: 200 if it existed).
    """
    _, created = custodial.create(producer)
    if not created:
        response.status_code = 200
    # the path's address as the caller spelt it (the dependency declares it, so the
    # route does not: declared twice, a malformed one would be reported twice)
    response.headers["Location"] = f"/v1/producers/{request.path_params['address']}/custodians"
    return CustodiansStatement.model_validate(custodial.statement(producer))


@router.get("/{address}/custodians", response_model=CustodiansStatement)
def custodians(producer: PathProducerDep, custodial: CustodialDep) -> CustodiansStatement:
    """The node's signed statement of the keys it signs with for this producer (public).

    Check `signature` with the node's Ed25519 key (`/.well-known/vntrace-node`, and the
    registry's anchorer metadata) before trusting `custodians`.
    """
    return CustodiansStatement.model_validate(custodial.statement(producer))


@router.delete(
    "/{address}/custodians/{custodian}",
    response_model=CustodiansStatement,
    responses={
        403: {"description": "Not the administrator."},
        404: {"description": "No such producer, or the key is not one of its custodial keys."},
    },
)
def revoke_custodial_key(target: RevocationDep, custodial: CustodialDep) -> CustodiansStatement:
    """Revoke one of the producer's custodial keys (administrator; idempotent).

    The node stops signing with it and stops listing it in the statement at once, so
    every record it signed stops verifying (`bad_signature`): for a key that must no
    longer be trusted (a leaked vault key, a compromised node), not for routine
    rotation. The producer may then ask for a new key. The producer cannot revoke: a
    revocation disowns the records already signed. Answers the new statement.
    """
    custodial.revoke(target.producer, target.custodian)
    return CustodiansStatement.model_validate(custodial.statement(target.producer))


__all__ = ["router"]
