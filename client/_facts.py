"""The registry facts a verification needs, read in one JSON-RPC batch per registry.

:class:`Needs` collects what jobs ask (roots, lots, producers, anchor receipts) and
builds the calls; :class:`Snapshot` holds the decoded answers. :class:`Pins` is what
the caller trusts (registry, chain id) from a source other than the gateway.
:class:`CustodiansCache` keeps the node's verified custodians statements for a while.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vntrace.node.bundles import Reason

from .chain import (
    AnchorFacts,
    ProducerFacts,
    RecallFacts,
    RegistryCodec,
    RpcCall,
    chain_id_call,
    code_call,
    parse_quantity,
    receipt_call,
)
from .witness import WitnessPolicy

Finding = tuple[Reason, str]


@dataclass(frozen=True, slots=True)
class Pins:
    """What the caller trusts: a registry address and chain id from an outside source."""

    registry: str | None = None
    chain_id: int | None = None
    log: WitnessPolicy | None = None
    """Also require each epoch's inclusion in the witnessed log (see :mod:`.witness`)."""
    custodians: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Producer (lower-case address) -> the custodians the node's signed statement
    vouches for (lower-case), checked with the node's key: what a record the node signed
    for its producer needs (docs/epcis.md §6). Anyone else's custodian: bad_signature."""

    def custodian_known(self, producer: str, custodian: str) -> bool:
        return custodian.lower() in self.custodians.get(producer.lower(), frozenset())

    def findings(self, chain_id: Any, registry: Any) -> list[Finding]:
        out: list[Finding] = []
        if self.chain_id is not None and chain_id != self.chain_id:
            out.append(
                (Reason.CHAIN_MISMATCH, f"chain {chain_id}, not the trusted chain {self.chain_id}")
            )
        if self.registry is not None and str(registry).lower() != self.registry.lower():
            out.append(
                (
                    Reason.CHAIN_MISMATCH,
                    f"registry {registry}, not the trusted registry {self.registry}",
                )
            )
        return out


CUSTODIANS_CACHE_SIZE = 1024
"""Producers whose statements one client keeps at most (the oldest go first)."""


@dataclass(slots=True)
class CustodiansCache:
    """The custodians each producer's statement vouched for, once its signature was
    checked with the node's key, reused for ``ttl`` seconds (docs/epcis.md §6).

    One per client, shared by :class:`Client` and :class:`AsyncClient` through their
    plans, so verifying many records the node signed for one producer asks for its
    statement once. Only what a verified statement *lists* is kept: a statement that is
    missing or does not verify is fetched again next time, and so is one that does not
    list a custodian a record names (a key made since). A custodian the node stops
    listing (revoked) is still accepted until its entry is ``ttl`` seconds old, never
    longer. The key is (producer, chain id, registry): a statement is about all three.
    """

    clock: Callable[[], float] = time.monotonic
    entries: dict[tuple[str, int, str], tuple[float, frozenset[str]]] = field(default_factory=dict)

    @staticmethod
    def _key(producer: str, chain_id: int, registry: str) -> tuple[str, int, str]:
        return producer.lower(), chain_id, registry.lower()

    def get(
        self, producer: str, chain_id: int, registry: str, named: Iterable[str], ttl: float
    ) -> frozenset[str] | None:
        """The cached custodians of ``producer``, or ``None`` (fetch the statement) when
        there is no entry younger than ``ttl`` that lists every custodian in ``named``."""
        entry = self.entries.get(self._key(producer, chain_id, registry))
        if entry is None or self.clock() - entry[0] >= ttl:
            return None
        custodians = entry[1]
        if any(c.lower() not in custodians for c in named):
            return None
        return custodians

    def put(self, producer: str, chain_id: int, registry: str, custodians: frozenset[str]) -> None:
        """Keep what a statement checked just now vouches for (lower-case addresses)."""
        now = self.clock()
        key = self._key(producer, chain_id, registry)
        self.entries.pop(key, None)  # re-inserted last: the dict's order is the age
        self.entries[key] = (now, custodians)
        while len(self.entries) > CUSTODIANS_CACHE_SIZE:
            del self.entries[next(iter(self.entries))]


@dataclass(slots=True)
class Needs:
    """The registry facts one or more jobs need, read in one JSON-RPC batch."""

    chain_id: int
    registry: str
    roots: set[bytes] = field(default_factory=set)
    lots: set[bytes] = field(default_factory=set)
    producers: set[str] = field(default_factory=set)
    receipts: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[int, str]:
        return self.chain_id, self.registry

    def covers(self, other: Needs) -> bool:
        """Whether every fact ``other`` needs is among these (same chain and registry)."""
        return (
            self.key == other.key
            and other.roots <= self.roots
            and other.lots <= self.lots
            and other.producers <= self.producers
            and other.receipts <= self.receipts
        )

    def merge(self, other: Needs) -> None:
        self.roots |= other.roots
        self.lots |= other.lots
        self.producers |= other.producers
        self.receipts |= other.receipts

    def calls(self) -> tuple[list[RpcCall], list[tuple[str, Any]]]:
        """The calls, and what each answers (for :meth:`snapshot`)."""
        codec = RegistryCodec(self.registry)
        calls = [chain_id_call(), code_call(self.registry)]
        tags: list[tuple[str, Any]] = [("chainId", None), ("code", None)]
        for root in sorted(self.roots):
            calls.append(codec.get_anchor(root))
            tags.append(("anchor", root))
        for key in sorted(self.lots):
            calls.append(codec.get_recall(key))
            tags.append(("recall", key))
        for address in sorted(self.producers):
            calls.append(codec.get_producer(address))
            tags.append(("producer", address))
        for tx in sorted(self.receipts):
            calls.append(receipt_call(tx))
            tags.append(("receipt", tx))
        return calls, tags

    def snapshot(self, tags: list[tuple[str, Any]], results: list[Any]) -> Snapshot:
        """Decode the answers; registry calls only count when the chain and code match."""
        snap = Snapshot(rpc_chain_id=parse_quantity(results[0], "eth_chainId"))
        code = str(results[1] or "0x")
        if snap.rpc_chain_id != self.chain_id:
            snap.problem = (
                f"the JSON-RPC serves chain {snap.rpc_chain_id}, the record is for chain "
                f"{self.chain_id}"
            )
            return snap
        if code in ("0x", "0x0", ""):
            snap.problem = f"no contract at the registry address {self.registry} on this chain"
            return snap
        codec = RegistryCodec(self.registry)
        for (kind, arg), result in zip(tags[2:], results[2:], strict=True):
            if kind == "anchor":
                snap.anchors[arg] = codec.anchor(arg, result)
            elif kind == "recall":
                snap.recalls[arg] = codec.recall(arg, result)
            elif kind == "producer":
                snap.producers[arg] = codec.producer(arg, result)
            else:
                snap.receipts[arg] = result
        return snap


@dataclass(slots=True)
class Snapshot:
    """The registry's answers for one :class:`Needs`."""

    rpc_chain_id: int
    problem: str | None = None
    anchors: dict[bytes, AnchorFacts | None] = field(default_factory=dict)
    recalls: dict[bytes, RecallFacts | None] = field(default_factory=dict)
    producers: dict[str, ProducerFacts] = field(default_factory=dict)
    receipts: dict[str, Any] = field(default_factory=dict)


__all__ = ["CUSTODIANS_CACHE_SIZE", "CustodiansCache", "Finding", "Needs", "Pins", "Snapshot"]
