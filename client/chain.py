"""Reading the registry straight from a chain's JSON-RPC, without the gateway.

This is what makes verification independent: the anchor of a root, a lot's recall and
a producer's registration are read with ``eth_call`` from any Ethereum JSON-RPC URL
(the node's read-only ``/rpc``, anvil, geth, Besu), encoded with eth-abi against the
committed registry ABI. No web3, no py-evm: a handful of HTTP POSTs.

Request building and decoding are pure (:class:`RpcCall`, :class:`RegistryCodec`);
:class:`ChainReader` and :class:`AsyncChainReader` only move bytes: both run the same
plan of a round (:mod:`._runner`), one JSON-RPC batch (falling back to single calls
where a server does not take batches).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import httpx
import sha3

from vntrace.contracts import load_artifact
from vntrace.node.records import RecordError, to_checksum_address
from vntrace.node.records.signing import address_bytes

from ._runner import Gather, Plan, arun, run
from .errors import ChainReadError, TransportError

_ids = itertools.count(1)


def checksum(address: str | bytes, what: str = "address") -> str:
    """EIP-55 form of an address (mixed case must already be a valid checksum)."""
    try:
        return to_checksum_address(address_bytes(address, what))
    except (RecordError, ValueError) as exc:
        raise ChainReadError(f"{what}: {exc}") from None


@dataclass(frozen=True, slots=True)
class RpcCall:
    """One JSON-RPC request (method and params)."""

    method: str
    params: tuple[Any, ...] = ()
    optional: bool = False
    """An error answer becomes an :class:`RpcFailure` result instead of raising."""

    def payload(self, request_id: int) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": self.method,
            "params": list(self.params),
        }


@dataclass(frozen=True, slots=True)
class RpcFailure:
    """The error answer to an optional call (e.g. a method a server does not offer)."""

    message: str


@dataclass(frozen=True, slots=True)
class AnchorFacts:
    """``getAnchor(root)``: who anchored it, which epoch, when, and whether it is revoked."""

    root: str
    anchorer: str
    epoch: int
    record_count: int
    timestamp: int
    revoked: bool


@dataclass(frozen=True, slots=True)
class RecallFacts:
    """``getRecall(lotKey)`` of a recalled lot."""

    lot_key: str
    timestamp: int
    recalled_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProducerFacts:
    """``getProducer(address)``."""

    address: str
    registered: bool
    active: bool
    registered_at: int
    metadata_uri: str


@dataclass(frozen=True, slots=True)
class _Function:
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@lru_cache(maxsize=1)
def _functions() -> dict[str, _Function]:
    out: dict[str, _Function] = {}
    for item in load_artifact().abi:
        if item.get("type") != "function":
            continue
        inputs = tuple(str(p["type"]) for p in item.get("inputs", ()))
        outputs = tuple(str(p["type"]) for p in item.get("outputs", ()))
        signature = f"{item['name']}({','.join(inputs)})"
        selector = sha3.keccak_256(signature.encode()).digest()[:4]
        out[str(item["name"])] = _Function(selector, inputs, outputs)
    return out


class RegistryCodec:
    """Encodes registry view calls and decodes their answers (pure)."""

    def __init__(self, registry: str) -> None:
        self.registry = checksum(registry)

    def call(self, name: str, *args: Any) -> RpcCall:
        """An ``eth_call`` of ``name(args)`` on the registry, at the latest block."""
        from eth_abi import encode  # imported on first use: a third of the SDK's import time
        from eth_abi.exceptions import EncodingError

        fn = _functions()[name]
        try:
            data = fn.selector + encode(list(fn.inputs), list(args))
        except EncodingError as exc:
            raise ChainReadError(f"cannot encode {name}: {exc}") from None
        return RpcCall("eth_call", ({"to": self.registry, "data": "0x" + data.hex()}, "latest"))

    @staticmethod
    def decode(name: str, result: Any) -> tuple[Any, ...]:
        from eth_abi import decode
        from eth_abi.exceptions import DecodingError

        fn = _functions()[name]
        try:
            raw = bytes.fromhex(str(result).removeprefix("0x"))
            return tuple(decode(list(fn.outputs), raw))
        except (DecodingError, ValueError, TypeError) as exc:
            raise ChainReadError(f"undecodable answer to {name}: {exc}") from None

    def get_anchor(self, root: bytes) -> RpcCall:
        return self.call("getAnchor", root)

    def get_recall(self, lot_key: bytes) -> RpcCall:
        return self.call("getRecall", lot_key)

    def get_producer(self, address: str) -> RpcCall:
        return self.call("getProducer", address)

    def anchorer_metadata(self, anchorer: str) -> RpcCall:
        """``anchorerMetadata(anchorer)``; optional, so a registry without it answers
        an :class:`RpcFailure` instead of failing the whole batch."""
        return replace(self.call("anchorerMetadata", checksum(anchorer, "operator")), optional=True)

    def anchor(self, root: bytes, result: Any) -> AnchorFacts | None:
        """``None`` for a root never anchored (epochs start at 1)."""
        anchorer, epoch, count, timestamp, revoked = self.decode("getAnchor", result)
        if epoch == 0:
            return None
        return AnchorFacts("0x" + root.hex(), checksum(anchorer), epoch, count, timestamp, revoked)

    def recall(self, lot_key: bytes, result: Any) -> RecallFacts | None:
        """``None`` for a lot never recalled."""
        recalled, timestamp, by, reason = self.decode("getRecall", result)
        if not recalled:
            return None
        return RecallFacts("0x" + lot_key.hex(), timestamp, checksum(by), reason)

    def metadata(self, result: Any) -> str | None:
        """The anchorer's metadata string (``None`` when the call failed)."""
        if isinstance(result, RpcFailure):
            return None
        return str(self.decode("anchorerMetadata", result)[0])

    def producer(self, address: str, result: Any) -> ProducerFacts:
        registered, active, at, uri = self.decode("getProducer", result)
        return ProducerFacts(checksum(address), registered, active, at, uri)


def chain_id_call() -> RpcCall:
    return RpcCall("eth_chainId")


def code_call(address: str) -> RpcCall:
    return RpcCall("eth_getCode", (checksum(address), "latest"))


def receipt_call(tx_hash: str) -> RpcCall:
    return RpcCall("eth_getTransactionReceipt", (tx_hash,), optional=True)


@lru_cache(maxsize=1)
def _root_anchored_topic() -> str:
    for item in load_artifact().abi:
        if item.get("type") == "event" and item.get("name") == "RootAnchored":
            types = ",".join(str(p["type"]) for p in item["inputs"])
            return "0x" + sha3.keccak_256(f"RootAnchored({types})".encode()).hexdigest()
    raise ChainReadError("the registry ABI has no RootAnchored event")  # pragma: no cover


def receipt_problem(
    receipt: Any, registry: str, root: bytes, block_number: int | None
) -> str | None:
    """Why ``receipt`` is not the transaction that anchored ``root`` (``None``: it is)."""
    if isinstance(receipt, RpcFailure):
        return None  # the server cannot tell; the registry's own state still decides
    if receipt is None:
        return "the anchor transaction is not on this chain"
    if not isinstance(receipt, dict):
        return "the chain answered a malformed receipt"
    if str(receipt.get("status", "0x1")).lower() not in ("0x1", "1"):
        return "the anchor transaction failed on chain"
    if block_number is not None:
        try:
            mined = parse_quantity(receipt.get("blockNumber"), "blockNumber")
        except ChainReadError:
            return "the chain answered a malformed receipt"
        if mined != block_number:
            return f"the anchor transaction is in block {mined}, not {block_number}"
    topic0, topic1 = _root_anchored_topic(), "0x" + root.hex()
    for log in receipt.get("logs") or ():
        if not isinstance(log, dict):
            continue
        topics = [str(t).lower() for t in log.get("topics") or ()]
        if str(log.get("address", "")).lower() == registry.lower() and topics[:2] == [
            topic0,
            topic1,
        ]:
            return None
    return "the anchor transaction did not anchor this root in this registry"


def parse_quantity(value: Any, what: str) -> int:
    """A JSON-RPC hex quantity (``"0x7a69"``) as an int."""
    try:
        return int(str(value), 16)
    except ValueError:
        raise ChainReadError(f"{what}: not a hex quantity: {value!r}") from None


MAX_BATCH_CALLS = 100
"""Calls per JSON-RPC batch: the node's ``/rpc`` takes at most 100 (geth's default
limit is 1000, anvil has none), so larger reads go as several batches."""


def _chunks(calls: Sequence[RpcCall]) -> list[Sequence[RpcCall]]:
    return [calls[i : i + MAX_BATCH_CALLS] for i in range(0, len(calls), MAX_BATCH_CALLS)]


def _build(calls: Sequence[RpcCall]) -> tuple[list[int], Any]:
    ids = [next(_ids) for _ in calls]
    if len(calls) == 1:
        return ids, calls[0].payload(ids[0])
    return ids, [c.payload(i) for c, i in zip(calls, ids, strict=True)]


def _result(call: RpcCall, reply: Any) -> Any:
    if not isinstance(reply, dict):
        raise ChainReadError(f"{call.method}: malformed JSON-RPC reply")
    if reply.get("error") is not None:
        err = reply["error"]
        message = str(err.get("message") if isinstance(err, dict) else err)
        if call.optional:
            return RpcFailure(message)
        raise ChainReadError(f"{call.method}: {message}")
    if "result" not in reply:
        raise ChainReadError(f"{call.method}: JSON-RPC reply without a result")
    return reply["result"]


def _parse(calls: Sequence[RpcCall], ids: list[int], body: Any) -> list[Any] | None:
    """Results in call order; ``None`` when a batch was not understood as a batch."""
    if len(calls) == 1:
        return [_result(calls[0], body)]
    if not isinstance(body, list):
        return None
    by_id = {r.get("id"): r for r in body if isinstance(r, dict)}
    missing = [c.method for c, i in zip(calls, ids, strict=True) if i not in by_id]
    if missing:
        raise ChainReadError(f"the batch reply lacks answers to {', '.join(missing)}")
    return [_result(c, by_id[i]) for c, i in zip(calls, ids, strict=True)]


def _json(response: httpx.Response, url: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 and not _is_jsonrpc(body):
        # e.g. a gateway's 429 (rate limited) or 503 as problem+json: say so, not "no result"
        detail = body.get("detail") if isinstance(body, dict) else None
        suffix = f": {detail}" if isinstance(detail, str) and detail else ""
        raise ChainReadError(f"JSON-RPC {url} answered HTTP {response.status_code}{suffix}")
    if body is None:
        raise ChainReadError(f"JSON-RPC {url} did not answer JSON")
    return body


def _is_jsonrpc(body: Any) -> bool:
    """A JSON-RPC reply (some servers send their errors with an HTTP error status)."""
    if isinstance(body, list):
        return bool(body) and all(isinstance(r, dict) and "jsonrpc" in r for r in body)
    return isinstance(body, dict) and "jsonrpc" in body


@dataclass(frozen=True, slots=True)
class _Post:
    """Effect: POST one JSON-RPC payload; answered by the reply's JSON."""

    payload: Any


class _Reader:
    """What both readers share: the URL, whether the server takes batches, and the
    plan of one :meth:`execute` (batches of at most :data:`MAX_BATCH_CALLS`, single
    calls once a server has not understood a batch)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._batches = True

    def _plan(self, calls: Sequence[RpcCall]) -> Plan[list[Any]]:
        if not calls:
            return []
        if not self._batches and len(calls) > 1:
            singles = yield Gather(tuple(self._plan([c]) for c in calls))
            return [r[0] for r in singles]
        if len(calls) > MAX_BATCH_CALLS:
            parts = yield Gather(tuple(self._plan(c) for c in _chunks(calls)))
            return [r for part in parts for r in part]
        ids, payload = _build(calls)
        out = _parse(calls, ids, (yield _Post(payload)))
        if out is None:
            self._batches = False
            return (yield from self._plan(calls))
        return out

    def _failed(self, exc: httpx.HTTPError) -> TransportError:
        return TransportError(f"cannot reach the chain at {self.url}: {exc}")


class ChainReader(_Reader):
    """Blocking JSON-RPC reads (one batch per :meth:`execute`)."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(url)
        self._owned = http is None
        self._http = http or httpx.Client(transport=transport, timeout=timeout)

    def execute(self, calls: Sequence[RpcCall]) -> list[Any]:
        """Send ``calls`` and return their results in order (raises :class:`ChainReadError`)."""
        return run(self._plan(calls), self._post)

    def _post(self, post: _Post) -> Any:
        try:
            response = self._http.post(self.url, json=post.payload)
        except httpx.HTTPError as exc:
            raise self._failed(exc) from exc
        return _json(response, self.url)

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> ChainReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChainReader(_Reader):
    """Non-blocking JSON-RPC reads, same behaviour as :class:`ChainReader` (the calls
    of a round split in several requests go concurrently)."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(url)
        self._owned = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=timeout)

    async def execute(self, calls: Sequence[RpcCall]) -> list[Any]:
        return await arun(self._plan(calls), self._post)

    async def _post(self, post: _Post) -> Any:
        try:
            response = await self._http.post(self.url, json=post.payload)
        except httpx.HTTPError as exc:
            raise self._failed(exc) from exc
        return _json(response, self.url)

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncChainReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = [
    "AnchorFacts",
    "AsyncChainReader",
    "ChainReader",
    "ProducerFacts",
    "RecallFacts",
    "RegistryCodec",
    "RpcCall",
    "RpcFailure",
    "chain_id_call",
    "checksum",
    "code_call",
    "parse_quantity",
    "receipt_call",
    "receipt_problem",
]
