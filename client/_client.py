"""``Client`` and ``AsyncClient``: every gateway resource, plus independent verification.

Both run the same plans (:mod:`vntrace.client._plans`: request building, parsing,
error mapping, retries, every multi-step operation) and differ only in how bytes move:
each method hands a plan to ``_run``, which performs its exchanges with the node and
its chain reads, blocking or awaited. Writes carry an ``Idempotency-Key`` (a fresh UUID
per call unless given), so a write whose answer was lost is retried safely; reads and
idempotent writes are retried on connection errors, 429 and 502-504.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from . import _api
from ._api import Call
from ._plans import Exchange, Plans, Progress
from ._runner import Plan, ReadChain, RpcTarget, arun, run
from .audit import AuditReport
from .chain import AsyncChainReader, ChainReader
from .disclosures import DisclosureResult
from .models import (
    ApiKey,
    Epoch,
    EpochPage,
    LotWritten,
    Me,
    NodeIdentity,
    NodeInfo,
    Producer,
    Recall,
    RecordStatus,
    ServerVerdict,
)
from .settings import ClientSettings
from .signer import ProducerSigner, SignedEvent
from .verify import VerificationResult
from .witness import WitnessPolicy

T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = "vntrace-client/0.1"


class _Base:
    """Configuration shared by both clients (never read from the environment here)."""

    _http: Any  # an httpx.Client or httpx.AsyncClient, and the transport of other RPCs
    _rpc_transport: Any
    _reader: Any = None  # the client's chain reader, made on first use

    def __init__(
        self,
        base_url: str | None,
        *,
        api_key: str | None,
        rpc_url: str | None,
        expected_registry: str | None,
        expected_chain_id: int | None,
        timeout: float | None,
        retries: int,
        settings: ClientSettings | None,
        witness_policy: WitnessPolicy | None = None,
        custodians_ttl: float | None = None,
    ) -> None:
        s = (settings or ClientSettings()).with_overrides(
            witness_policy=witness_policy,
            custodians_ttl=custodians_ttl,
            node_url=base_url,
            api_key=api_key,
            rpc_url=rpc_url,
            registry=expected_registry,
            chain_id=expected_chain_id,
            timeout=timeout,
        )
        self.settings = s
        self.base_url = s.node_url.rstrip("/")
        self.retries = retries
        self._plans = Plans(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return headers

    def _chain(self, target: RpcTarget, own: dict[str, R], make: Callable[..., R]) -> R:
        """The reader of ``target``: the client's (made once), or one of this run's."""
        if target.shared:
            if self._reader is None:
                self._reader = self._new_reader(target, make)
            return self._reader  # type: ignore[no-any-return]
        if target.url not in own:
            own[target.url] = self._new_reader(target, make)
        return own[target.url]

    def _new_reader(self, target: RpcTarget, make: Callable[..., R]) -> R:
        if target.own:  # the node's own /rpc, read over the client's connection
            return make(target.url, http=self._http)
        return make(target.url, transport=self._rpc_transport, timeout=self.settings.timeout)


class Client(_Base):
    """Blocking client of a vntrace node (use as a context manager, or call :meth:`close`).

    ``rpc_url`` is the chain JSON-RPC used by the ``verify_*`` methods (default: the
    node's ``/rpc``); ``expected_registry``/``expected_chain_id`` pin the deployment
    you trust. ``transport`` swaps the HTTP transport (``httpx.MockTransport``, an ASGI
    app through ``httpx.ASGITransport``...). ``custodians_ttl`` (seconds, default 60):
    how long the node's verified custodians statement of a producer is reused for
    records the node signed for it (docs/epcis.md §6); a key the node revokes stops
    being accepted at most that long after; ``0`` fetches it for every verification.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        rpc_url: str | None = None,
        expected_registry: str | None = None,
        expected_chain_id: int | None = None,
        witness_policy: WitnessPolicy | None = None,
        timeout: float | None = None,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        rpc_transport: httpx.BaseTransport | None = None,
        settings: ClientSettings | None = None,
        custodians_ttl: float | None = None,
    ) -> None:
        super().__init__(
            base_url,
            api_key=api_key,
            rpc_url=rpc_url,
            expected_registry=expected_registry,
            expected_chain_id=expected_chain_id,
            timeout=timeout,
            retries=retries,
            settings=settings,
            witness_policy=witness_policy,
            custodians_ttl=custodians_ttl,
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=self.settings.timeout,
            headers=self._headers(),
        )
        self._rpc_transport = rpc_transport
        self._reader: ChainReader | None = None

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        """A client configured from ``VNTRACE_*`` variables (see :mod:`.settings`)."""
        return cls(settings=ClientSettings.from_env(), **kwargs)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, plan: Plan[T]) -> T:
        """Perform ``plan`` with blocking I/O; readers it opened for itself close after."""
        own: dict[str, ChainReader] = {}

        def perform(effect: Exchange | ReadChain) -> Any:
            if isinstance(effect, Exchange):
                return self._http.send(effect.call.request(self._http))
            assert effect.target is not None
            return self._chain(effect.target, own, ChainReader).execute(effect.calls)

        try:
            return run(plan, perform)
        finally:
            for reader in own.values():
                reader.close()

    def _send(self, call: Call[T]) -> T:
        return self._run(self._plans.send(call))

    # -- node ----------------------------------------------------------------------------

    def info(self, *, refresh: bool = False) -> NodeInfo:
        """Chain id, registry, profile and limits (cached after the first call)."""
        return self._run(self._plans.info(refresh))

    def me(self) -> Me:
        """Who the API key belongs to."""
        return self._send(_api.me())

    def ready(self) -> dict[str, Any]:
        """``/readyz``: store, chain and anchoring checks (:class:`ServerError` if not ready)."""
        return self._send(_api.health())

    def node_identity(self) -> NodeIdentity:
        """The node's id and receipt key *as the node states them* (:meth:`audit`
        cross-checks them with the registry)."""
        return self._send(_api.node_identity())

    def signer(self, key: bytes | str | Any, *, profile: Any = None) -> ProducerSigner:
        """A :class:`ProducerSigner` for ``key`` in this node's EIP-712 domain and profile."""
        return self._run(self._plans.signer(key, profile))

    # -- producers and keys (administrator) ---------------------------------------------------

    def register_producer(
        self, address: str, name: str, *, metadata_uri: str | None = None
    ) -> Producer:
        """Register a producer on the node and on chain (idempotent by address)."""
        return self._send(_api.register_producer(address, name, metadata_uri))

    def list_producers(self) -> list[Producer]:
        return self._send(_api.list_producers())

    def get_producer(self, address: str) -> Producer:
        return self._send(_api.get_producer(address))

    def issue_api_key(self, address: str, *, label: str | None = None) -> ApiKey:
        """A new API key for the producer; ``token`` is only in this answer."""
        return self._send(_api.issue_api_key(address, label))

    def list_api_keys(self, address: str) -> list[ApiKey]:
        return self._send(_api.list_api_keys(address))

    def revoke_api_key(self, address: str, key_id: str) -> ApiKey:
        return self._send(_api.revoke_api_key(address, key_id))

    def issue_auditor_key(self, *, label: str | None = None) -> ApiKey:
        """A new auditor key (admin): reads any record's confidential values."""
        return self._send(_api.issue_auditor_key(label))

    # -- lots and events (producer) ---------------------------------------------------------

    def register_lot(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]] = (),
        *,
        idempotency_key: str | None = None,
        disclose: bool = True,
    ) -> LotWritten:
        """Register a lot (yours from now on), optionally with its first signed events.

        Private values and salts go with the events unless ``disclose=False``; each
        acknowledged record comes back with its signed receipt (``.receipts``).
        """
        return self._send(_api.register_lot(gtin, lot, events, idempotency_key, disclose))

    def append_events(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]],
        *,
        idempotency_key: str | None = None,
        disclose: bool = True,
    ) -> LotWritten:
        """Append signed events in one request: all stored, or none."""
        return self._send(_api.append_events(gtin, lot, events, idempotency_key, disclose))

    def upload_events(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]],
        *,
        batch_size: int | None = None,
        progress: Progress | None = None,
        disclose: bool = True,
    ) -> LotWritten:
        """Append any number of events, in batches within the node's limits, in order.

        Each batch is all-or-none and carries its own idempotency key; if one fails,
        :class:`UploadError` says how many events were stored before it (its
        ``written`` holds their receipts).
        """
        plan = self._plans.upload_events(gtin, lot, events, batch_size, progress, disclose)
        return self._run(plan)

    def recall(self, gtin: str, lot: str, reason: str) -> Recall:
        """Recall a lot (its producer or the administrator), on the node and on chain."""
        return self._send(_api.recall(gtin, lot, reason))

    # -- reading -------------------------------------------------------------------------

    def record(self, record_id: str) -> RecordStatus:
        return self._send(_api.record(record_id))

    def bundle(self, record_id: str) -> dict[str, Any]:
        """The record's proof bundle, exactly as served (verify it with :meth:`verify_bundle`)."""
        return self._send(_api.bundle(record_id))

    def provenance(self, gtin: str, lot: str) -> dict[str, Any]:
        """A lot's events and multiproofs, exactly as served."""
        return self._send(_api.provenance(gtin, lot))

    def capture_epcis(self, document: dict[str, Any]) -> dict[str, Any]:
        """Capture an EPCIS 2.0 document whose events are signed (see
        :mod:`vntrace.client.epcis`): the 202 capture job with each record's receipt."""
        return self._send(_api.capture_epcis(document))

    def capture_job(self, capture_id: str) -> dict[str, Any]:
        """A capture job's state (``running``, ``success``, ``errors``)."""
        return self._send(_api.capture_job(capture_id))

    def query_events(self, **params: Any) -> dict[str, Any]:
        """One page of the EPCIS simple event query, an ``EPCISQueryDocument``
        (``biz_step="shipping"``, ``epc_class=...``, ``per_page=50`` or GS1 names such as
        ``EQ_bizStep``); the next page's token is in ``vnt:nextPageToken``."""
        return self._send(_api.query_events(params))

    def epcis_lot(self, gtin: str, lot: str) -> dict[str, Any]:
        """A lot's events as an EPCIS 2.0 document, each event's bundle in ``vnt:records``."""
        return self._send(_api.epcis_lot(gtin, lot))

    def disclosures(self, record_id: str, *, strict: bool = True) -> DisclosureResult:
        """A record's confidential values (auditor, admin or its producer), each checked
        against the commitment the producer signed (the record's bundle is fetched and
        checked too). Raises :class:`DisclosureError` if any does not open, unless
        ``strict=False`` (then read ``result.failures``)."""
        return self._run(self._plans.disclosures(record_id, strict))

    def epochs(self, *, after: int = 0, limit: int = 100) -> EpochPage:
        return self._send(_api.epochs(after, limit))

    def epoch(self, number: int) -> Epoch:
        return self._send(_api.epoch(number))

    def wait_anchored(
        self, record_ids: Sequence[str], *, timeout: float = 60.0, interval: float = 0.25
    ) -> list[RecordStatus]:
        """Poll until every record is anchored (raises :class:`AnchorTimeoutError`)."""
        return self._run(self._plans.wait_anchored(record_ids, timeout, interval))

    # -- verification ------------------------------------------------------------------------

    def server_verify(
        self, *, bundles: Sequence[dict[str, Any]] = (), record_ids: Sequence[str] = ()
    ) -> list[ServerVerdict]:
        """The *node's* verdicts (``POST /v1/verify``): convenient, but trusts the node."""
        return self._send(_api.server_verify(bundles, record_ids))

    def verify_bundle(
        self, bundle: dict[str, Any], *, record_id: str | None = None
    ) -> VerificationResult:
        """Verify a bundle locally and against the chain (never the node's verdict)."""
        return self._run(self._plans.verify_bundle(bundle, record_id))

    def verify_provenance(
        self, provenance: dict[str, Any], *, gtin: str | None = None, lot: str | None = None
    ) -> VerificationResult:
        """Verify a provenance document (e.g. saved earlier) against the chain."""
        return self._run(self._plans.verify_provenance(provenance, gtin, lot))

    def verify_record(self, record_id: str) -> VerificationResult:
        """Fetch a record's bundle from the node and verify it independently."""
        return self._run(self._plans.verify_record(record_id))

    def verify_lot(self, gtin: str, lot: str) -> VerificationResult:
        """Fetch a lot's provenance and verify every record and multiproof independently."""
        return self._run(self._plans.verify_lot(gtin, lot))

    def verify_digital_link(self, uri: str) -> VerificationResult:
        """:meth:`verify_lot` for the lot a GS1 Digital Link URI names."""
        return self._run(self._plans.verify_digital_link(uri))

    # -- accountability ----------------------------------------------------------------------

    def audit(
        self,
        receipts: Iterable[dict[str, Any]],
        *,
        rpc_url: str | None = None,
        now: datetime | None = None,
    ) -> AuditReport:
        """Check the node kept its receipts: each record ``in_time``, ``late``, ``never``,
        ``pending`` or ``invalid_receipt`` (see :mod:`vntrace.client.audit`).

        The node's key is cross-checked with the registry; bundles come from the node,
        anchors from the chain (``rpc_url``, default the client's). ``now`` is the time
        deadlines are compared with (default: now).
        """
        return self._run(self._plans.audit(receipts, rpc_url, now))


class AsyncClient(_Base):
    """Non-blocking twin of :class:`Client` (``async with AsyncClient(...) as client``):
    the same plans, awaited; the requests of a step that fans out (polling several
    records, an audit's bundles, a disclosure and its bundle) go concurrently."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        rpc_url: str | None = None,
        expected_registry: str | None = None,
        expected_chain_id: int | None = None,
        witness_policy: WitnessPolicy | None = None,
        timeout: float | None = None,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        rpc_transport: httpx.AsyncBaseTransport | None = None,
        settings: ClientSettings | None = None,
        custodians_ttl: float | None = None,
    ) -> None:
        super().__init__(
            base_url,
            api_key=api_key,
            rpc_url=rpc_url,
            expected_registry=expected_registry,
            expected_chain_id=expected_chain_id,
            timeout=timeout,
            retries=retries,
            settings=settings,
            witness_policy=witness_policy,
            custodians_ttl=custodians_ttl,
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=self.settings.timeout,
            headers=self._headers(),
        )
        self._rpc_transport = rpc_transport
        self._reader: AsyncChainReader | None = None

    @classmethod
    def from_env(cls, **kwargs: Any) -> AsyncClient:
        return cls(settings=ClientSettings.from_env(), **kwargs)

    async def aclose(self) -> None:
        if self._reader is not None:
            await self._reader.aclose()
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self, plan: Plan[T]) -> T:
        """Perform ``plan`` without blocking; readers it opened for itself close after."""
        own: dict[str, AsyncChainReader] = {}

        async def perform(effect: Exchange | ReadChain) -> Any:
            if isinstance(effect, Exchange):
                return await self._http.send(effect.call.request(self._http))
            assert effect.target is not None
            return await self._chain(effect.target, own, AsyncChainReader).execute(effect.calls)

        try:
            return await arun(plan, perform)
        finally:
            for reader in own.values():
                await reader.aclose()

    async def _send(self, call: Call[T]) -> T:
        return await self._run(self._plans.send(call))

    async def info(self, *, refresh: bool = False) -> NodeInfo:
        return await self._run(self._plans.info(refresh))

    async def me(self) -> Me:
        return await self._send(_api.me())

    async def ready(self) -> dict[str, Any]:
        return await self._send(_api.health())

    async def node_identity(self) -> NodeIdentity:
        return await self._send(_api.node_identity())

    async def signer(self, key: bytes | str | Any, *, profile: Any = None) -> ProducerSigner:
        return await self._run(self._plans.signer(key, profile))

    async def register_producer(
        self, address: str, name: str, *, metadata_uri: str | None = None
    ) -> Producer:
        return await self._send(_api.register_producer(address, name, metadata_uri))

    async def list_producers(self) -> list[Producer]:
        return await self._send(_api.list_producers())

    async def get_producer(self, address: str) -> Producer:
        return await self._send(_api.get_producer(address))

    async def issue_api_key(self, address: str, *, label: str | None = None) -> ApiKey:
        return await self._send(_api.issue_api_key(address, label))

    async def list_api_keys(self, address: str) -> list[ApiKey]:
        return await self._send(_api.list_api_keys(address))

    async def revoke_api_key(self, address: str, key_id: str) -> ApiKey:
        return await self._send(_api.revoke_api_key(address, key_id))

    async def issue_auditor_key(self, *, label: str | None = None) -> ApiKey:
        return await self._send(_api.issue_auditor_key(label))

    async def register_lot(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]] = (),
        *,
        idempotency_key: str | None = None,
        disclose: bool = True,
    ) -> LotWritten:
        return await self._send(_api.register_lot(gtin, lot, events, idempotency_key, disclose))

    async def append_events(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]],
        *,
        idempotency_key: str | None = None,
        disclose: bool = True,
    ) -> LotWritten:
        return await self._send(_api.append_events(gtin, lot, events, idempotency_key, disclose))

    async def upload_events(
        self,
        gtin: str,
        lot: str,
        events: Sequence[SignedEvent | dict[str, Any]],
        *,
        batch_size: int | None = None,
        progress: Progress | None = None,
        disclose: bool = True,
    ) -> LotWritten:
        plan = self._plans.upload_events(gtin, lot, events, batch_size, progress, disclose)
        return await self._run(plan)

    async def recall(self, gtin: str, lot: str, reason: str) -> Recall:
        return await self._send(_api.recall(gtin, lot, reason))

    async def record(self, record_id: str) -> RecordStatus:
        return await self._send(_api.record(record_id))

    async def bundle(self, record_id: str) -> dict[str, Any]:
        return await self._send(_api.bundle(record_id))

    async def provenance(self, gtin: str, lot: str) -> dict[str, Any]:
        return await self._send(_api.provenance(gtin, lot))

    async def capture_epcis(self, document: dict[str, Any]) -> dict[str, Any]:
        return await self._send(_api.capture_epcis(document))

    async def capture_job(self, capture_id: str) -> dict[str, Any]:
        return await self._send(_api.capture_job(capture_id))

    async def query_events(self, **params: Any) -> dict[str, Any]:
        return await self._send(_api.query_events(params))

    async def epcis_lot(self, gtin: str, lot: str) -> dict[str, Any]:
        return await self._send(_api.epcis_lot(gtin, lot))

    async def disclosures(self, record_id: str, *, strict: bool = True) -> DisclosureResult:
        return await self._run(self._plans.disclosures(record_id, strict))

    async def epochs(self, *, after: int = 0, limit: int = 100) -> EpochPage:
        return await self._send(_api.epochs(after, limit))

    async def epoch(self, number: int) -> Epoch:
        return await self._send(_api.epoch(number))

    async def wait_anchored(
        self, record_ids: Sequence[str], *, timeout: float = 60.0, interval: float = 0.25
    ) -> list[RecordStatus]:
        return await self._run(self._plans.wait_anchored(record_ids, timeout, interval))

    async def server_verify(
        self, *, bundles: Sequence[dict[str, Any]] = (), record_ids: Sequence[str] = ()
    ) -> list[ServerVerdict]:
        return await self._send(_api.server_verify(bundles, record_ids))

    async def verify_bundle(
        self, bundle: dict[str, Any], *, record_id: str | None = None
    ) -> VerificationResult:
        return await self._run(self._plans.verify_bundle(bundle, record_id))

    async def verify_provenance(
        self, provenance: dict[str, Any], *, gtin: str | None = None, lot: str | None = None
    ) -> VerificationResult:
        return await self._run(self._plans.verify_provenance(provenance, gtin, lot))

    async def verify_record(self, record_id: str) -> VerificationResult:
        return await self._run(self._plans.verify_record(record_id))

    async def verify_lot(self, gtin: str, lot: str) -> VerificationResult:
        return await self._run(self._plans.verify_lot(gtin, lot))

    async def verify_digital_link(self, uri: str) -> VerificationResult:
        return await self._run(self._plans.verify_digital_link(uri))

    async def audit(
        self,
        receipts: Iterable[dict[str, Any]],
        *,
        rpc_url: str | None = None,
        now: datetime | None = None,
    ) -> AuditReport:
        """Non-blocking :meth:`Client.audit` (bundles fetched concurrently)."""
        return await self._run(self._plans.audit(receipts, rpc_url, now))


__all__ = ["AsyncClient", "Client", "Progress"]
