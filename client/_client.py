"""``Client`` and ``AsyncClient``: every gateway resource, plus independent verification.

Both run the same :mod:`vntrace.client._api` calls (request building, parsing, error
mapping) and differ only in how bytes move. Writes carry an ``Idempotency-Key`` (a
fresh UUID per call unless given), so a write whose answer was lost is retried safely;
reads and idempotent writes are retried on connection errors, 429 and 502-504.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

from vntrace.node.records import RecordError, parse_digital_link

from . import _api
from ._api import Call
from ._upload import plan_batches, upload_error
from .audit import AuditPlan, AuditReport, NodeKey, identity_calls, resolve_node_key
from .chain import AsyncChainReader, ChainReader, RegistryCodec
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
from .verify import (
    VerificationResult,
    verify_bundle,
    verify_bundle_async,
    verify_provenance,
    verify_provenance_async,
)
from .witness import WitnessPolicy

T = TypeVar("T")
Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each uploaded batch."""

USER_AGENT = "vntrace-client/0.1"


def _delay(attempt: int, retry_after: float | None) -> float:
    return min(retry_after if retry_after is not None else 0.25 * 2**attempt, 10.0)


def _transport_error(exc: httpx.HTTPError, url: str) -> TransportError:
    return TransportError(f"cannot reach the node at {url}: {exc}")


def _lot_of(uri: str) -> tuple[str, str]:
    try:
        return parse_digital_link(uri)
    except RecordError as exc:
        raise ValidationError(422, f"not a lot's GS1 Digital Link: {exc}") from None


def _checked(result: DisclosureResult, strict: bool) -> DisclosureResult:
    if strict and not result.ok:
        first = result.failures[0]
        raise DisclosureError(
            f"{result.record_id}: {len(result.failures)} disclosure(s) do not verify; "
            f"first: {first}",
            result,
        )
    return result


_AUDIT_CONCURRENCY = 16
"""Bundles an async audit fetches at once."""


class _Base:
    """Configuration shared by both clients (never read from the environment here)."""

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
    ) -> None:
        s = (settings or ClientSettings()).with_overrides(
            witness_policy=witness_policy,
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
        self._info: NodeInfo | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return headers

    def _rpc_target(self, info: NodeInfo) -> tuple[str, bool]:
        """The chain's JSON-RPC URL, and whether it is the node's own ``/rpc``."""
        if self.settings.rpc_url:
            return self.settings.rpc_url, False
        if not info.rpc:
            raise ConfigurationError(
                "this node serves no /rpc (it anchors on an external chain): pass rpc_url= "
                "or set VNTRACE_RPC_URL to a JSON-RPC of that chain"
            )
        return urljoin(self.base_url + "/", info.rpc.lstrip("/")), True

    def _pins(self, info: NodeInfo) -> dict[str, Any]:
        """What bundles must name: the caller's pins, else what the node announced."""
        return {
            "expected_registry": self.settings.registry or info.registry,
            "expected_chain_id": self.settings.chain_id or info.chain_id,
            "witness_policy": self.settings.witness_policy,
        }

    def _attempts(self, call: Call[Any]) -> int:
        return 1 + (self.retries if call.retry_safe else 0)

    def _rpc_override(self, rpc_url: str | None) -> str | None:
        return rpc_url if rpc_url and rpc_url != self.settings.rpc_url else None


class Client(_Base):
    """Blocking client of a vntrace node (use as a context manager, or call :meth:`close`).

    ``rpc_url`` is the chain JSON-RPC used by the ``verify_*`` methods (default: the
    node's ``/rpc``); ``expected_registry``/``expected_chain_id`` pin the deployment
    you trust. ``transport`` swaps the HTTP transport (``httpx.MockTransport``, an ASGI
    app through ``httpx.ASGITransport``...).
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

    def _send(self, call: Call[T]) -> T:
        attempts = self._attempts(call)
        for attempt in range(attempts):
            try:
                response = self._http.send(call.request(self._http))
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.TransportError) and attempt + 1 < attempts:
                    time.sleep(_delay(attempt, None))
                    continue
                raise _transport_error(exc, self.base_url) from exc
            try:
                return _api.read(call, response)
            except ApiError as exc:
                if _api.retryable(exc) and attempt + 1 < attempts:
                    time.sleep(_delay(attempt, exc.retry_after))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- node ----------------------------------------------------------------------------

    def info(self, *, refresh: bool = False) -> NodeInfo:
        """Chain id, registry, profile and limits (cached after the first call)."""
        if self._info is None or refresh:
            self._info = self._send(_api.info())
        return self._info

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
        return ProducerSigner.for_node(self.info(), key, profile=profile)

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
        batches = plan_batches(self.info(), events, batch_size, disclose=disclose)
        written: LotWritten | None = None
        done = 0
        for batch in batches:
            try:
                result = self.append_events(gtin, lot, batch)
            except VntraceError as exc:
                raise upload_error(exc, done, len(events), written) from exc
            written = result if written is None else written.merged(result)
            done += len(batch)
            if progress is not None:
                progress(done, len(events))
        if written is None:
            raise ValidationError(422, "no events to upload")
        return written

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
        opened = self._send(_api.disclosures(record_id))
        bundle = self.bundle(record_id)
        return _checked(check_disclosures(bundle, opened, record_id=record_id), strict)

    def epochs(self, *, after: int = 0, limit: int = 100) -> EpochPage:
        return self._send(_api.epochs(after, limit))

    def epoch(self, number: int) -> Epoch:
        return self._send(_api.epoch(number))

    def wait_anchored(
        self, record_ids: Sequence[str], *, timeout: float = 60.0, interval: float = 0.25
    ) -> list[RecordStatus]:
        """Poll until every record is anchored (raises :class:`AnchorTimeoutError`)."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = [self.record(rid) for rid in record_ids]
            waiting = [s.record_id for s in statuses if s.status != "anchored"]
            if not waiting:
                return statuses
            if time.monotonic() > deadline:
                raise AnchorTimeoutError(f"{len(waiting)} record(s) not anchored after {timeout}s")
            time.sleep(interval)

    # -- verification ------------------------------------------------------------------------

    def server_verify(
        self, *, bundles: Sequence[dict[str, Any]] = (), record_ids: Sequence[str] = ()
    ) -> list[ServerVerdict]:
        """The *node's* verdicts (``POST /v1/verify``): convenient, but trusts the node."""
        return self._send(_api.server_verify(bundles, record_ids))

    def _chain(self) -> ChainReader:
        if self._reader is None:
            url, own = self._rpc_target(self.info())
            if own:
                self._reader = ChainReader(url, http=self._http)
            else:
                self._reader = ChainReader(
                    url, transport=self._rpc_transport, timeout=self.settings.timeout
                )
        return self._reader

    def verify_bundle(
        self, bundle: dict[str, Any], *, record_id: str | None = None
    ) -> VerificationResult:
        """Verify a bundle locally and against the chain (never the node's verdict)."""
        return verify_bundle(
            bundle, reader=self._chain(), record_id=record_id, **self._pins(self.info())
        )

    def verify_provenance(
        self, provenance: dict[str, Any], *, gtin: str | None = None, lot: str | None = None
    ) -> VerificationResult:
        """Verify a provenance document (e.g. saved earlier) against the chain."""
        return verify_provenance(
            provenance, reader=self._chain(), gtin=gtin, lot=lot, **self._pins(self.info())
        )

    def verify_record(self, record_id: str) -> VerificationResult:
        """Fetch a record's bundle from the node and verify it independently."""
        return self.verify_bundle(self.bundle(record_id), record_id=record_id)

    def verify_lot(self, gtin: str, lot: str) -> VerificationResult:
        """Fetch a lot's provenance and verify every record and multiproof independently."""
        return self.verify_provenance(self.provenance(gtin, lot), gtin=gtin, lot=lot)

    def verify_digital_link(self, uri: str) -> VerificationResult:
        """:meth:`verify_lot` for the lot a GS1 Digital Link URI names."""
        return self.verify_lot(*_lot_of(uri))

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
        receipts = list(receipts)
        override = self._rpc_override(rpc_url)
        reader = (
            ChainReader(override, transport=self._rpc_transport, timeout=self.settings.timeout)
            if override
            else self._chain()
        )
        try:
            plan = AuditPlan(receipts, self._node_key(reader))
            bundles = {rid: self._bundle_or_none(rid) for rid in plan.record_ids}
            codec = RegistryCodec(plan.node.registry)
            roots = plan.roots(bundles)
            answers = reader.execute([codec.get_anchor(r) for r in roots])
            anchors = {r: codec.anchor(r, a) for r, a in zip(roots, answers, strict=True)}
            return plan.finish(bundles, anchors, now)
        finally:
            if override:
                reader.close()

    def _node_key(self, reader: ChainReader) -> NodeKey:
        pins = self._pins(self.info())
        document = self.node_identity()
        codec = RegistryCodec(pins["expected_registry"])
        answers = reader.execute(identity_calls(codec, document.operator))
        return resolve_node_key(document, answers, codec, chain_id=pins["expected_chain_id"])

    def _bundle_or_none(self, record_id: str) -> dict[str, Any] | None:
        try:
            return self.bundle(record_id)
        except (NotFoundError, ValidationError):
            return None


class AsyncClient(_Base):
    """Non-blocking twin of :class:`Client` (``async with AsyncClient(...) as client``)."""

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

    async def _send(self, call: Call[T]) -> T:
        attempts = self._attempts(call)
        for attempt in range(attempts):
            try:
                response = await self._http.send(call.request(self._http))
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.TransportError) and attempt + 1 < attempts:
                    await asyncio.sleep(_delay(attempt, None))
                    continue
                raise _transport_error(exc, self.base_url) from exc
            try:
                return _api.read(call, response)
            except ApiError as exc:
                if _api.retryable(exc) and attempt + 1 < attempts:
                    await asyncio.sleep(_delay(attempt, exc.retry_after))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def info(self, *, refresh: bool = False) -> NodeInfo:
        if self._info is None or refresh:
            self._info = await self._send(_api.info())
        return self._info

    async def me(self) -> Me:
        return await self._send(_api.me())

    async def ready(self) -> dict[str, Any]:
        return await self._send(_api.health())

    async def node_identity(self) -> NodeIdentity:
        return await self._send(_api.node_identity())

    async def signer(self, key: bytes | str | Any, *, profile: Any = None) -> ProducerSigner:
        return ProducerSigner.for_node(await self.info(), key, profile=profile)

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
        batches = plan_batches(await self.info(), events, batch_size, disclose=disclose)
        written: LotWritten | None = None
        done = 0
        for batch in batches:  # in order: intake order is the lot's history
            try:
                result = await self.append_events(gtin, lot, batch)
            except VntraceError as exc:
                raise upload_error(exc, done, len(events), written) from exc
            written = result if written is None else written.merged(result)
            done += len(batch)
            if progress is not None:
                progress(done, len(events))
        if written is None:
            raise ValidationError(422, "no events to upload")
        return written

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
        opened, bundle = await asyncio.gather(
            self._send(_api.disclosures(record_id)), self.bundle(record_id)
        )
        return _checked(check_disclosures(bundle, opened, record_id=record_id), strict)

    async def epochs(self, *, after: int = 0, limit: int = 100) -> EpochPage:
        return await self._send(_api.epochs(after, limit))

    async def epoch(self, number: int) -> Epoch:
        return await self._send(_api.epoch(number))

    async def wait_anchored(
        self, record_ids: Sequence[str], *, timeout: float = 60.0, interval: float = 0.25
    ) -> list[RecordStatus]:
        deadline = time.monotonic() + timeout
        while True:
            statuses = list(await asyncio.gather(*(self.record(r) for r in record_ids)))
            waiting = [s.record_id for s in statuses if s.status != "anchored"]
            if not waiting:
                return statuses
            if time.monotonic() > deadline:
                raise AnchorTimeoutError(f"{len(waiting)} record(s) not anchored after {timeout}s")
            await asyncio.sleep(interval)

    async def server_verify(
        self, *, bundles: Sequence[dict[str, Any]] = (), record_ids: Sequence[str] = ()
    ) -> list[ServerVerdict]:
        return await self._send(_api.server_verify(bundles, record_ids))

    async def _chain(self) -> AsyncChainReader:
        if self._reader is None:
            url, own = self._rpc_target(await self.info())
            if own:
                self._reader = AsyncChainReader(url, http=self._http)
            else:
                self._reader = AsyncChainReader(
                    url, transport=self._rpc_transport, timeout=self.settings.timeout
                )
        return self._reader

    async def verify_bundle(
        self, bundle: dict[str, Any], *, record_id: str | None = None
    ) -> VerificationResult:
        info = await self.info()
        return await verify_bundle_async(
            bundle, reader=await self._chain(), record_id=record_id, **self._pins(info)
        )

    async def verify_provenance(
        self, provenance: dict[str, Any], *, gtin: str | None = None, lot: str | None = None
    ) -> VerificationResult:
        info = await self.info()
        return await verify_provenance_async(
            provenance, reader=await self._chain(), gtin=gtin, lot=lot, **self._pins(info)
        )

    async def verify_record(self, record_id: str) -> VerificationResult:
        return await self.verify_bundle(await self.bundle(record_id), record_id=record_id)

    async def verify_lot(self, gtin: str, lot: str) -> VerificationResult:
        doc = await self.provenance(gtin, lot)
        return await self.verify_provenance(doc, gtin=gtin, lot=lot)

    async def verify_digital_link(self, uri: str) -> VerificationResult:
        return await self.verify_lot(*_lot_of(uri))

    async def audit(
        self,
        receipts: Iterable[dict[str, Any]],
        *,
        rpc_url: str | None = None,
        now: datetime | None = None,
    ) -> AuditReport:
        """Non-blocking :meth:`Client.audit` (bundles fetched concurrently)."""
        receipts = list(receipts)
        override = self._rpc_override(rpc_url)
        reader = (
            AsyncChainReader(override, transport=self._rpc_transport, timeout=self.settings.timeout)
            if override
            else await self._chain()
        )
        try:
            plan = AuditPlan(receipts, await self._node_key(reader))
            limit = asyncio.Semaphore(_AUDIT_CONCURRENCY)

            async def fetch(rid: str) -> dict[str, Any] | None:
                async with limit:
                    return await self._bundle_or_none(rid)

            found = await asyncio.gather(*(fetch(rid) for rid in plan.record_ids))
            bundles = dict(zip(plan.record_ids, found, strict=True))
            codec = RegistryCodec(plan.node.registry)
            roots = plan.roots(bundles)
            answers = await reader.execute([codec.get_anchor(r) for r in roots])
            anchors = {r: codec.anchor(r, a) for r, a in zip(roots, answers, strict=True)}
            return plan.finish(bundles, anchors, now)
        finally:
            if override:
                await reader.aclose()

    async def _node_key(self, reader: AsyncChainReader) -> NodeKey:
        pins = self._pins(await self.info())
        document = await self.node_identity()
        codec = RegistryCodec(pins["expected_registry"])
        answers = await reader.execute(identity_calls(codec, document.operator))
        return resolve_node_key(document, answers, codec, chain_id=pins["expected_chain_id"])

    async def _bundle_or_none(self, record_id: str) -> dict[str, Any] | None:
        try:
            return await self.bundle(record_id)
        except (NotFoundError, ValidationError):
            return None


__all__ = ["AsyncClient", "Client", "Progress"]
