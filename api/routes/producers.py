"""Producers and their API keys: administrator only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from vntrace.node.errors import NotFoundError
from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store import Store
from vntrace.node.store.types import ApiKeyRow, ProducerRow, Role

from ..body import JsonRoute
from ..deps import AdminDep, ProducersDep, StoreDep
from ..schemas.producers import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyList,
    ApiKeyOut,
    ProducerCreate,
    ProducerList,
    ProducerOut,
)

router = APIRouter(prefix="/v1/producers", tags=["producers"], route_class=JsonRoute)

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="0x address")]


@router.post(
    "",
    status_code=201,
    response_model=ProducerOut,
    responses={200: {"description": "Already registered: the stored producer."}},
)
def register_producer(
    body: ProducerCreate, producers: ProducersDep, _admin: AdminDep, response: Response
) -> ProducerOut:
    """Register a producer on the node and in the on-chain registry (idempotent by address).

    A producer already registered is returned as stored (200), name unchanged.
    """
    try:
        producers.producer(body.address)
        existed = True
    except NotFoundError:
        existed = False
    row = producers.register_producer(body.address, body.name, body.metadata_uri)
    if existed:
        response.status_code = 200
    return ProducerOut.of(row)


@router.get("", response_model=ProducerList)
def list_producers(store: StoreDep, _admin: AdminDep) -> ProducerList:
    """Every registered producer."""
    return ProducerList(items=[ProducerOut.of(p) for p in store.list_producers()])


@router.get("/{address}", response_model=ProducerOut)
def get_producer(address: AddressPath, producers: ProducersDep, _admin: AdminDep) -> ProducerOut:
    return ProducerOut.of(producers.producer(address))


@router.post("/{address}/keys", status_code=201, response_model=ApiKeyIssued)
def issue_key(
    address: AddressPath,
    producers: ProducersDep,
    store: StoreDep,
    _admin: AdminDep,
    body: ApiKeyCreate | None = None,
) -> ApiKeyIssued:
    """Issue an API key for the producer. The token is in this response only."""
    producer = producers.producer(address)
    issued = store.create_api_key(Role.PRODUCER, producer.id, label=body.label if body else None)
    base = ApiKeyOut.of(issued.key)
    return ApiKeyIssued(
        **base.model_dump(), token=issued.token, producer=to_checksum_address(producer.address)
    )


@router.get("/{address}/keys", response_model=ApiKeyList)
def list_keys(
    address: AddressPath, producers: ProducersDep, store: StoreDep, _admin: AdminDep
) -> ApiKeyList:
    """The producer's keys (ids and dates; tokens are never stored)."""
    producer = producers.producer(address)
    return ApiKeyList(items=[ApiKeyOut.of(k) for k in _keys(store, producer)])


@router.delete("/{address}/keys/{key_id}", response_model=ApiKeyOut)
def revoke_key(
    address: AddressPath,
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
    producers: ProducersDep,
    store: StoreDep,
    _admin: AdminDep,
) -> ApiKeyOut:
    """Revoke one of the producer's keys at once (repeating it is harmless)."""
    producer = producers.producer(address)
    if not any(k.key_id == key_id for k in _keys(store, producer)):
        raise NotFoundError(f"producer {address} has no API key {key_id}")
    return ApiKeyOut.of(store.revoke_api_key(key_id))


def _keys(store: Store, producer: ProducerRow) -> list[ApiKeyRow]:
    return store.list_api_keys(producer_id=producer.id)
