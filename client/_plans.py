"""Every operation of :class:`Client` and :class:`AsyncClient`, written once as a plan.

An operation of several steps (an upload in batches, polling until anchored, fetching
then verifying against the chain, an audit) used to be written twice, blocking and
async, and the two copies drifted. Here each is one generator (see :mod:`._runner`)
that yields an :class:`Exchange` with the node, a :class:`~._runner.ReadChain` of the
registry, a :class:`~._runner.Sleep` or a :class:`~._runner.Gather`; the clients only
perform those. Retries with backoff live in :meth:`Plans.send`, error mapping in
:mod:`._api`, both once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin

import httpx

from vntrace.node.custodians import StatementError, verify_statement
from vntrace.node.records import RecordError, parse_digital_link

from . import _api
from ._api import Call
from ._facts import CustodiansCache, Pins
from ._runner import Gather, Plan, ReadChain, RpcTarget, Sleep
from ._upload import plan_batches, upload_error
from .audit import AuditPlan, AuditReport, NodeKey, identity_calls, resolve_node_key
from .chain import RegistryCodec
from .disclosures import DisclosureResult, check_disclosures
from .errors import (
    AnchorTimeoutError,
    ApiError,
    ConfigurationError,
    DisclosureError,
    NotFoundError,
    TransportError,
    ValidationError,
    VntraceError,
)
from .models import LotWritten, NodeInfo, RecordStatus
from .results import VerificationResult
from .settings import ClientSettings
from .signer import ProducerSigner, SignedEvent
from .verify import bundles_plan, provenance_plan

T = TypeVar("T")
Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each uploaded batch."""

AUDIT_CONCURRENCY = 16
"""Bundles an async audit fetches at once."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """Effect: send ``call``'s request to the node once; answered by the
    ``httpx.Response`` (a failure to send is thrown into the plan as ``httpx.HTTPError``)."""

    call: Call[Any]


class Config(Protocol):
    """What the plans read of a client (read at each use, so a change applies)."""

    settings: ClientSettings
    base_url: str
    retries: int


def _delay(attempt: int, retry_after: float | None) -> float:
    return min(retry_after if retry_after is not None else 0.25 * 2**attempt, 10.0)


def _transport_error(exc: httpx.HTTPError, url: str) -> TransportError:
    return TransportError(f"cannot reach the node at {url}: {exc}")


def _lot_of(uri: str) -> tuple[str, str]:
    try:
        return parse_digital_link(uri)
    except RecordError as exc:
        raise ValidationError(422, f"not a lot's GS1 Digital Link: {exc}") from None


def _custodian_of(item: Any) -> str | None:
    """The custodian a bundle or provenance record says the node signed it with for its
    producer, or ``None`` (the producer's own signature)."""
    signer = item.get("signer") if isinstance(item, dict) else None
    if isinstance(signer, dict) and signer.get("kind") == "custodial":
        return str(signer.get("custodian"))
    return None


def _checked(result: DisclosureResult, strict: bool) -> DisclosureResult:
    if strict and not result.ok:
        first = result.failures[0]
        raise DisclosureError(
            f"{result.record_id}: {len(result.failures)} disclosure(s) do not verify; "
            f"first: {first}",
            result,
        )
    return result


class Plans:
    """The plans of one client: its configuration, its cached :class:`NodeInfo` and the
    custodians statements it verified (:class:`~._facts.CustodiansCache`)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self.info_cache: NodeInfo | None = None
        self.custodians = CustodiansCache()

    # -- one exchange --------------------------------------------------------------------

    def send(self, call: Call[T]) -> Plan[T]:
        """``call`` with retries: connection errors, 429 and 502-504 are sent again (with
        the same idempotency key) when the call is safe to repeat."""
        attempts = 1 + (self._config.retries if call.retry_safe else 0)
        for attempt in range(attempts):
            try:
                response = yield Exchange(call)
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.TransportError) and attempt + 1 < attempts:
                    yield Sleep(_delay(attempt, None))
                    continue
                raise _transport_error(exc, self._config.base_url) from exc
            try:
                return _api.read(call, response)
            except ApiError as exc:
                if _api.retryable(exc) and attempt + 1 < attempts:
                    yield Sleep(_delay(attempt, exc.retry_after))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- node ----------------------------------------------------------------------------

    def info(self, refresh: bool = False) -> Plan[NodeInfo]:
        if self.info_cache is None or refresh:
            self.info_cache = yield from self.send(_api.info())
        return self.info_cache

    def signer(self, key: bytes | str | Any, profile: Any) -> Plan[ProducerSigner]:
        return ProducerSigner.for_node((yield from self.info()), key, profile=profile)

    def deployment(self, info: NodeInfo) -> tuple[str, int]:
        """The registry and chain trusted: the caller's pins, else what the node announced."""
        s = self._config.settings
        return s.registry or info.registry, s.chain_id or info.chain_id

    def pins(self, info: NodeInfo) -> Pins:
        """What bundles must name (see :meth:`deployment`) and the witness policy."""
        return Pins(*self.deployment(info), self._config.settings.witness_policy)

    def chain(self, info: NodeInfo, rpc_url: str | None = None) -> RpcTarget:
        """The JSON-RPC to read: ``rpc_url`` for this operation only (if it differs from
        the client's), else the client's, else the node's own ``/rpc``."""
        settings = self._config.settings
        if rpc_url and rpc_url != settings.rpc_url:
            return RpcTarget(rpc_url, shared=False)
        if settings.rpc_url:
            return RpcTarget(settings.rpc_url)
        if not info.rpc:
            raise ConfigurationError(
                "this node serves no /rpc (it anchors on an external chain): pass rpc_url= "
                "or set VNTRACE_RPC_URL to a JSON-RPC of that chain"
            )
        return RpcTarget(urljoin(self._config.base_url + "/", info.rpc.lstrip("/")), own=True)

    # -- writing -------------------------------------------------------------------------

    def upload_events(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]],
        batch_size: int | None,
        progress: Progress | None,
        disclose: bool,
    ) -> Plan[LotWritten]:
        batches = plan_batches((yield from self.info()), events, batch_size, disclose=disclose)
        written: LotWritten | None = None
        done = 0
        for batch in batches:  # in order: intake order is the lot's history
            try:
                result = yield from self.send(_api.append_events(gtin, lot, batch, None))
            except VntraceError as exc:
                raise upload_error(exc, done, len(events), written) from exc
            written = result if written is None else written.merged(result)
            done += len(batch)
            if progress is not None:
                progress(done, len(events))
        if written is None:
            raise ValidationError(422, "no events to upload")
        return written

    # -- reading -------------------------------------------------------------------------

    def disclosures(self, record_id: str, strict: bool) -> Plan[DisclosureResult]:
        opened, bundle = yield Gather(
            (self.send(_api.disclosures(record_id)), self.send(_api.bundle(record_id)))
        )
        return _checked(check_disclosures(bundle, opened, record_id=record_id), strict)

    def wait_anchored(
        self, record_ids: Sequence[str], timeout: float, interval: float
    ) -> Plan[list[RecordStatus]]:
        deadline = time.monotonic() + timeout
        while True:
            statuses = yield Gather(tuple(self.send(_api.record(r)) for r in record_ids))
            waiting = [s.record_id for s in statuses if s.status != "anchored"]
            if not waiting:
                return statuses  # type: ignore[no-any-return]
            if time.monotonic() > deadline:
                raise AnchorTimeoutError(f"{len(waiting)} record(s) not anchored after {timeout}s")
            yield Sleep(interval)

    def bundle_or_none(self, record_id: str) -> Plan[dict[str, Any] | None]:
        try:
            return (yield from self.send(_api.bundle(record_id)))
        except (NotFoundError, ValidationError):
            return None

    # -- verification --------------------------------------------------------------------

    def verify_bundle(
        self, bundle: dict[str, Any], record_id: str | None
    ) -> Plan[VerificationResult]:
        info = yield from self.info()
        target = self.chain(info)
        custodian = _custodian_of(bundle)
        wanted = {} if custodian is None else {str(bundle.get("producer")): {custodian}}
        pins = yield from self.custodial_pins(info, target, wanted)
        plan = bundles_plan([bundle], pins, [record_id], target)
        return (yield from plan)[0]

    def verify_provenance(
        self, provenance: dict[str, Any], gtin: str | None, lot: str | None
    ) -> Plan[VerificationResult]:
        info = yield from self.info()
        target = self.chain(info)
        wanted: dict[str, set[str]] = {}
        records = provenance.get("records") if isinstance(provenance, dict) else None
        named = {c for r in records if (c := _custodian_of(r))} if isinstance(records, list) else ()
        if named:
            owner = provenance.get("producer")
            wanted[str(owner.get("address") if isinstance(owner, dict) else owner)] = set(named)
        pins = yield from self.custodial_pins(info, target, wanted)
        return (yield from provenance_plan(provenance, pins, gtin, lot, target))

    def custodial_pins(
        self, info: NodeInfo, target: RpcTarget, wanted: Mapping[str, set[str]]
    ) -> Plan[Pins]:
        """:meth:`pins`, plus, for records the node signed for the producers in
        ``wanted`` (producer -> the custodians its records name), the custodians the
        node's signed statements vouch for, each statement checked with the node's key
        (the one registered on chain when there is one, as for receipts). A statement
        that is missing or does not verify vouches for nobody.

        Statements verified in the last ``settings.custodians_ttl`` seconds are reused
        (:class:`~._facts.CustodiansCache`): neither the statement nor the node's key is
        fetched again while every custodian asked for is in a fresh entry."""
        pins = self.pins(info)
        if not wanted:
            return pins
        registry, chain_id = self.deployment(info)
        ttl = self._config.settings.custodians_ttl
        found: dict[str, frozenset[str]] = {}
        missing: list[str] = []
        for producer in sorted(wanted):
            cached = self.custodians.get(producer, chain_id, registry, wanted[producer], ttl)
            if cached is None:
                missing.append(producer)
            else:
                found[producer.lower()] = cached
        if not missing:
            return replace(pins, custodians=found)
        key = yield from self.node_key(info, target)
        statements = yield Gather(tuple(self.statement_or_none(p) for p in missing))
        for producer, statement in zip(missing, statements, strict=True):
            try:
                vouched = verify_statement(
                    statement, key.public_key, producer=producer, chain_id=chain_id,
                    registry=registry,
                )  # fmt: skip
            except (StatementError, RecordError):
                found[producer.lower()] = frozenset()  # not kept: asked again next time
                continue
            found[producer.lower()] = vouched
            if ttl > 0:
                self.custodians.put(producer, chain_id, registry, vouched)
        return replace(pins, custodians=found)

    def statement_or_none(self, producer: str) -> Plan[dict[str, Any] | None]:
        try:
            return (yield from self.send(_api.custodians(producer)))
        except (NotFoundError, ValidationError):
            return None

    def verify_record(self, record_id: str) -> Plan[VerificationResult]:
        bundle = yield from self.send(_api.bundle(record_id))
        return (yield from self.verify_bundle(bundle, record_id))

    def verify_lot(self, gtin: str, lot: str) -> Plan[VerificationResult]:
        provenance = yield from self.send(_api.provenance(gtin, lot))
        return (yield from self.verify_provenance(provenance, gtin, lot))

    def verify_digital_link(self, uri: str) -> Plan[VerificationResult]:
        return (yield from self.verify_lot(*_lot_of(uri)))

    # -- accountability ------------------------------------------------------------------

    def audit(
        self, receipts: Iterable[dict[str, Any]], rpc_url: str | None, now: datetime | None
    ) -> Plan[AuditReport]:
        receipts = list(receipts)
        info = yield from self.info()
        target = self.chain(info, rpc_url)
        plan = AuditPlan(receipts, (yield from self.node_key(info, target)))
        found = yield Gather(
            tuple(self.bundle_or_none(rid) for rid in plan.record_ids), limit=AUDIT_CONCURRENCY
        )
        bundles = dict(zip(plan.record_ids, found, strict=True))
        codec = RegistryCodec(plan.node.registry)
        roots = plan.roots(bundles)
        answers = yield ReadChain([codec.get_anchor(r) for r in roots], target)
        anchors = {r: codec.anchor(r, a) for r, a in zip(roots, answers, strict=True)}
        return plan.finish(bundles, anchors, now)

    def node_key(self, info: NodeInfo, target: RpcTarget) -> Plan[NodeKey]:
        registry, chain_id = self.deployment(info)
        document = yield from self.send(_api.node_identity())
        codec = RegistryCodec(registry)
        answers = yield ReadChain(identity_calls(codec, document.operator), target)
        return resolve_node_key(document, answers, codec, chain_id=chain_id)


__all__ = ["AUDIT_CONCURRENCY", "Config", "Exchange", "Plans", "Progress"]
