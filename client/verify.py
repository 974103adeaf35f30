"""Independent verification of proof bundles and lot provenance.

Every check is done here, by the caller's machine: the digest is recomputed from the
salt and the event (RFC 8785), the leaf from the lot key and the digest, the root from
the proof (or the lot's multiproof), the producer from the EIP-712 signature. Then the
registry itself is read over JSON-RPC (``eth_call``): is the root anchored, in the
claimed epoch, not revoked; is the lot recalled; is the producer registered and active;
does the claimed anchor transaction exist and anchor this root. The gateway's own
``status`` and verdicts are never read.

The JSON-RPC can be the node's ``/rpc`` or any node of the same chain. Whoever runs
that endpoint is trusted for chain state; pass ``expected_registry`` (and
``expected_chain_id``) from a source you trust, e.g. the regulator's publication, so a
bundle pointing at some other contract fails with ``chain_mismatch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

import httpx

from ._checks import ProvenanceJob, claimed_needs
from ._facts import Needs, Pins, Snapshot
from ._pool import build_jobs
from ._runner import Gather, Overlap, Plan, ReadChain, RpcTarget, arun, one, run
from .chain import AsyncChainReader, ChainReader
from .errors import ConfigurationError, VntraceError
from .results import ChainAnchor, VerificationResult
from .witness import WitnessPolicy

T = TypeVar("T")


class _Job(Protocol):
    needs: Needs | None

    def finish(self, snap: Any) -> VerificationResult: ...


def _groups(jobs: Sequence[_Job]) -> dict[tuple[int, str], Needs]:
    groups: dict[tuple[int, str], Needs] = {}
    for job in jobs:
        if job.needs is None:
            continue
        have = groups.get(job.needs.key)
        if have is None:
            groups[job.needs.key] = Needs(job.needs.chain_id, job.needs.registry)
            have = groups[job.needs.key]
        have.merge(job.needs)
    return groups


def verification(
    jobs: Sequence[_Job],
    target: RpcTarget | None = None,
    prefetched: Prefetched | None = None,
) -> Plan[list[VerificationResult]]:
    """The plan of a verification: one round of chain reads per chain and registry the
    jobs name (concurrent when async), then each job's verdict. ``target`` is the
    JSON-RPC a client reads (``None``: the reader the plan is run with)."""
    snaps: dict[tuple[int, str], Snapshot] = {}
    todo: list[tuple[tuple[int, str], Needs]] = []
    for key, needs in _groups(jobs).items():
        have = prefetched.get(key) if prefetched else None
        if have is not None and have[0].covers(needs):
            snaps[key] = have[1]  # read while the checks ran, and all that is needed
        else:
            todo.append((key, needs))
    if todo:
        planned = [needs.calls() for _, needs in todo]
        answers = yield Gather(tuple(one(ReadChain(calls, target)) for calls, _ in planned))
        for (key, needs), (_, tags), results in zip(todo, planned, answers, strict=True):
            snaps[key] = needs.snapshot(tags, results)
    return [job.finish(snaps.get(job.needs.key) if job.needs else None) for job in jobs]


Prefetched = Mapping[tuple[int, str], tuple[Needs, Snapshot]]
"""Chain facts read ahead, by (chain id, registry): what was asked and the answers."""


def _tolerant(plan: Plan[T]) -> Plan[T | None]:
    """``plan``'s result, or ``None`` if the chain could not be read (a read ahead only:
    what it would have answered is asked again, and then its error is the caller's)."""
    try:
        return (yield from plan)
    except VntraceError:
        return None


def _blocking(
    plan: Plan[T],
    reader: ChainReader | None,
    rpc_url: str | None,
    transport: httpx.BaseTransport | None,
    timeout: float,
) -> T:
    if reader is not None:
        return run(plan, lambda read: reader.execute(read.calls))
    with ChainReader(_reader_url(rpc_url, reader), transport=transport, timeout=timeout) as own:
        return run(plan, lambda read: own.execute(read.calls))


async def _nonblocking(
    plan: Plan[T],
    reader: AsyncChainReader | None,
    rpc_url: str | None,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> T:
    if reader is not None:
        return await arun(plan, lambda read: reader.execute(read.calls))
    url = _reader_url(rpc_url, reader)
    async with AsyncChainReader(url, transport=transport, timeout=timeout) as own:
        return await arun(plan, lambda read: own.execute(read.calls))


def _first(plan: Plan[list[VerificationResult]]) -> Plan[VerificationResult]:
    return (yield from plan)[0]


def bundles_plan(
    bundles: Sequence[Any],
    pins: Pins,
    record_ids: Sequence[str | None] | None = None,
    target: RpcTarget | None = None,
    workers: int | None = None,
) -> Plan[list[VerificationResult]]:
    """The plan of :func:`verify_bundles`: the offline checks (on up to ``workers``
    processes), then the chain. From :data:`PREFETCH_FROM` bundles the chain facts the
    bundles claim to need are read *while* they are checked (:func:`_prefetching`)."""
    if len(bundles) < PREFETCH_FROM:
        return verification(build_jobs(bundles, pins, record_ids, workers), target)
    return _prefetching(bundles, pins, record_ids, target, workers)


PREFETCH_FROM = 64
"""Bundles from which the chain is read during the offline checks (about 5 ms of them)."""


def _prefetching(
    bundles: Sequence[Any],
    pins: Pins,
    record_ids: Sequence[str | None] | None,
    target: RpcTarget | None,
    workers: int | None,
) -> Plan[list[VerificationResult]]:
    """Read the chain facts the bundles claim to need while their offline checks run
    (one round per registry, as after them), then finish with what the checked jobs
    need: facts the read ahead covers are taken from it, the rest is read then. A
    bundle that lies about what it needs thus costs a second round, never a verdict."""
    claimed = list(claimed_needs(bundles, pins).items())
    planned = [needs.calls() for _, needs in claimed]
    reads = Gather(tuple(_tolerant(one(ReadChain(calls, target))) for calls, _ in planned))
    work = partial(build_jobs, bundles, pins, record_ids, workers)
    jobs, answers = yield Overlap(work, one(reads))
    prefetched: dict[tuple[int, str], tuple[Needs, Snapshot]] = {}
    for (key, needs), (_, tags), results in zip(claimed, planned, answers, strict=True):
        if results is not None:
            try:
                prefetched[key] = (needs, needs.snapshot(tags, results))
            except VntraceError:
                continue  # undecodable: read again after the checks
    return (yield from verification(jobs, target, prefetched))


def provenance_plan(
    provenance: Any,
    pins: Pins,
    gtin: str | None = None,
    lot: str | None = None,
    target: RpcTarget | None = None,
) -> Plan[VerificationResult]:
    """The plan of :func:`verify_provenance`."""
    return _first(verification([ProvenanceJob(provenance, pins, gtin, lot)], target))


def _reader_url(rpc_url: str | None, reader: object | None) -> str:
    if reader is None and not rpc_url:
        raise ConfigurationError(
            "verification reads the chain: pass rpc_url (the node's /rpc or any JSON-RPC "
            "of the same chain) or a reader"
        )
    return rpc_url or ""


def verify_bundles(
    bundles: Sequence[Any],
    *,
    rpc_url: str | None = None,
    reader: ChainReader | None = None,
    expected_registry: str | None = None,
    expected_chain_id: int | None = None,
    witness_policy: WitnessPolicy | None = None,
    record_ids: Sequence[str | None] | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
    workers: int | None = None,
) -> list[VerificationResult]:
    """Verify many bundles; each root, lot and producer is read from the chain once.

    ``record_ids``, when given, are the ids the bundles were asked for (a bundle for
    another record fails with ``leaf_mismatch``). Raises :class:`TransportError` or
    :class:`ChainReadError` only when the chain cannot be read at all.

    ``workers``: how many processes do the offline checks. ``None`` (the default) uses
    every usable core for a batch of at least 256 bundles; ``1`` keeps them in this
    process; ``n`` uses this process and ``n - 1`` workers. The verdicts are the same.
    """
    pins = Pins(expected_registry, expected_chain_id, witness_policy)
    plan = bundles_plan(bundles, pins, record_ids, workers=workers)
    return _blocking(plan, reader, rpc_url, transport, timeout)


def verify_bundle(
    bundle: Any,
    *,
    rpc_url: str | None = None,
    reader: ChainReader | None = None,
    expected_registry: str | None = None,
    expected_chain_id: int | None = None,
    witness_policy: WitnessPolicy | None = None,
    record_id: str | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> VerificationResult:
    """Verify one proof bundle offline and against the registry (see the module doc)."""
    return verify_bundles(
        [bundle],
        rpc_url=rpc_url,
        reader=reader,
        expected_registry=expected_registry,
        expected_chain_id=expected_chain_id,
        witness_policy=witness_policy,
        record_ids=[record_id],
        transport=transport,
        timeout=timeout,
    )[0]


def verify_provenance(
    provenance: Any,
    *,
    rpc_url: str | None = None,
    reader: ChainReader | None = None,
    expected_registry: str | None = None,
    expected_chain_id: int | None = None,
    witness_policy: WitnessPolicy | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> VerificationResult:
    """Verify a lot's provenance: every record, every epoch's multiproof, the recall.

    The lot's status is ``failed`` if any record fails, else ``recalled`` if the
    registry holds a recall, else ``pending`` if a record is not anchored yet. Pass
    ``gtin`` and ``lot`` (the lot you asked for) to catch a gateway answering with
    another lot. ``records`` holds each record's own result.
    """
    pins = Pins(expected_registry, expected_chain_id, witness_policy)
    plan = provenance_plan(provenance, pins, gtin, lot)
    return _blocking(plan, reader, rpc_url, transport, timeout)


async def verify_bundles_async(
    bundles: Sequence[Any],
    *,
    rpc_url: str | None = None,
    reader: AsyncChainReader | None = None,
    expected_registry: str | None = None,
    expected_chain_id: int | None = None,
    witness_policy: WitnessPolicy | None = None,
    record_ids: Sequence[str | None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    workers: int | None = None,
) -> list[VerificationResult]:
    """:func:`verify_bundles` without blocking the event loop (a batch the workers
    check is waited for in a thread)."""
    pins = Pins(expected_registry, expected_chain_id, witness_policy)
    plan = bundles_plan(bundles, pins, record_ids, workers=workers)
    return await _nonblocking(plan, reader, rpc_url, transport, timeout)


async def verify_bundle_async(
    bundle: Any,
    *,
    rpc_url: str | None = None,
    reader: AsyncChainReader | None = None,
    expected_registry: str | None = None,
    expected_chain_id: int | None = None,
    witness_policy: WitnessPolicy | None = None,
    record_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> VerificationResult:
    """:func:`verify_bundle` without blocking the event loop."""
    results = await verify_bundles_async(
        [bundle],
        rpc_url=rpc_url,
        reader=reader,
        expected_registry=expected_registry,
        expected_chain_id=expected_chain_id,
        witness_policy=witness_policy,
        record_ids=[record_id],
        transport=transport,
        timeout=timeout,
    )
    return results[0]


async def verify_provenance_async(
    provenance: Any,
    *,
    rpc_url: str | None = None,
    reader: AsyncChainReader | None = None,
    expected_registry: str | None = None,
    expected_chain_id: int | None = None,
    witness_policy: WitnessPolicy | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> VerificationResult:
    """:func:`verify_provenance` without blocking the event loop."""
    pins = Pins(expected_registry, expected_chain_id, witness_policy)
    plan = provenance_plan(provenance, pins, gtin, lot)
    return await _nonblocking(plan, reader, rpc_url, transport, timeout)


__all__ = [
    "ChainAnchor",
    "VerificationResult",
    "verify_bundle",
    "verify_bundle_async",
    "verify_bundles",
    "verify_bundles_async",
    "verify_provenance",
    "verify_provenance_async",
]
