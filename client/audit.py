"""Holding a node to its signed intake receipts: anchored in time, late, or never.

A producer keeps every receipt the node signed (``vntrace.client.receipts``). The audit:

1. takes the node's Ed25519 key from ``/.well-known/vntrace-node.json`` **and** from the
   registry's anchorer metadata of the node's operator, read on chain
   (``anchorerMetadata``); if they differ, the report says so loudly, is not ``ok``,
   and receipts are checked with the key registered on chain;
2. fetches each record's bundle from the node (a missing record is ``None``: the node
   dropped or withholds it);
3. reads each root's ``getAnchor`` (block time, revoked) from the chain;
4. runs :func:`vntrace.node.audit.audit_receipts`, the same pure logic the node's own
   tests use: ``in_time``, ``late``, ``never``, ``pending`` or ``invalid_receipt``.

The node's bundle is only a hint of where to look: its proof is recomputed and its root
read from the registry. The planning and the report are pure (:class:`AuditPlan`,
:func:`resolve_node_key`); :meth:`Client.audit` and :meth:`AsyncClient.audit` move the
bytes. Heavy-ish modules (the Ed25519 checks) load when an audit runs, not on import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .chain import AnchorFacts, RegistryCodec, RpcCall, chain_id_call, parse_quantity
from .errors import ChainReadError, VerificationError

if TYPE_CHECKING:
    from vntrace.node.audit import AuditEntry

    from .models import NodeIdentity
    from .settings import ClientSettings

STATUSES = ("in_time", "late", "never", "pending", "invalid_receipt")
"""Every status an audited receipt can have, best first."""

GOOD = frozenset({"in_time", "pending"})
"""Statuses that hold nothing against the node (yet)."""

_LEAF = re.compile(r"0x[0-9a-fA-F]{64}")


def _key(text: Any) -> bytes | None:
    from vntrace.node.identity import b64url_decode

    try:
        raw = b64url_decode(text)
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == 32 else None


def _metadata(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and "ed25519" in doc else None


@dataclass(frozen=True, slots=True)
class NodeKey:
    """The node's receipt key, where it was found, and what does not add up.

    ``public_key`` is what receipts are checked with: the key registered on chain when
    there is one, else the key the node serves. ``problems`` are contradictions (the
    node serves another key than it registered, or names another deployment) and make
    the audit fail; ``notes`` are weaker (no key on chain: the node's word only).
    """

    node_id: str
    public_key: bytes
    operator: str
    chain_id: int
    registry: str
    served: bytes | None
    registered: bytes | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def confirmed(self) -> bool:
        """The key the node serves is the one registered on chain."""
        return self.ok and self.registered is not None and self.served == self.registered

    def to_dict(self) -> dict[str, Any]:
        from vntrace.node.identity import b64url

        return {
            "nodeId": self.node_id,
            "ed25519": b64url(self.public_key),
            "served": b64url(self.served) if self.served else None,
            "registered": b64url(self.registered) if self.registered else None,
            "confirmedOnChain": self.confirmed,
            "operator": self.operator,
            "chainId": self.chain_id,
            "registry": self.registry,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def identity_calls(codec: RegistryCodec, operator: str) -> list[RpcCall]:
    """What the chain must answer to check the node's key: its chain id and the
    operator's anchorer metadata."""
    return [chain_id_call(), codec.anchorer_metadata(operator)]


def resolve_node_key(
    document: NodeIdentity,
    answers: Sequence[Any],
    codec: RegistryCodec,
    *,
    chain_id: int,
) -> NodeKey:
    """Cross-check the node's identity document with the chain's answers to
    :func:`identity_calls` (raises :class:`ChainReadError` for a JSON-RPC of another
    chain, :class:`VerificationError` when no key can be found at all)."""
    from vntrace.node.identity import b64url, node_id_of

    rpc_chain = parse_quantity(answers[0], "eth_chainId")
    if rpc_chain != chain_id:
        raise ChainReadError(
            f"the JSON-RPC serves chain {rpc_chain}, the node anchors on chain {chain_id}: "
            "an audit against another chain would prove nothing"
        )
    registry, operator = codec.registry, document.operator
    problems: list[str] = []
    notes: list[str] = []
    served = _key(document.ed25519)
    if served is None:
        problems.append("the node's /.well-known/vntrace-node.json holds no valid Ed25519 key")
    elif document.node_id != node_id_of(served):
        problems.append(
            f"the node calls itself {document.node_id}, its key is {node_id_of(served)}"
        )
    if document.chain_id != chain_id or document.registry.lower() != registry.lower():
        problems.append(
            f"the node names chain {document.chain_id} and registry {document.registry}; "
            f"audited against chain {chain_id} and registry {registry}"
        )
    meta = _metadata(codec.metadata(answers[1]))
    registered = None
    if meta is None:
        notes.append(
            f"the registry holds no node identity for operator {operator}: "
            "the key is the node's own word"
        )
    else:
        registered = _key(meta.get("ed25519"))
        if registered is None:
            problems.append(f"the registry's metadata for operator {operator} has no valid key")
        named = (meta.get("chainId", chain_id), str(meta.get("registry", registry)).lower())
        if named != (chain_id, registry.lower()):
            problems.append(f"the registry's metadata for {operator} names another deployment")
    if served and registered and served != registered:
        problems.append(
            f"KEY MISMATCH: the node serves key {b64url(served)} ({node_id_of(served)}) but "
            f"registered {b64url(registered)} ({node_id_of(registered)}) on chain for operator "
            f"{operator}; receipts are checked with the registered key"
        )
    key = registered or served
    if key is None:
        raise VerificationError("the node's Ed25519 key is neither served nor registered", None)
    return NodeKey(
        node_id=node_id_of(key),
        public_key=key,
        operator=operator,
        chain_id=chain_id,
        registry=registry,
        served=served,
        registered=registered,
        problems=tuple(problems),
        notes=tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class AuditReport:
    """One :class:`~vntrace.node.audit.AuditEntry` per receipt (in order), the node's
    key, and when the audit was run (deadlines are compared with :attr:`now`)."""

    entries: tuple[AuditEntry, ...]
    node: NodeKey
    now: datetime
    receipts: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def counts(self) -> dict[str, int]:
        """Receipts per status, every status listed."""
        out = dict.fromkeys(STATUSES, 0)
        for e in self.entries:
            out[e.status] = out.get(e.status, 0) + 1
        return out

    @property
    def ok(self) -> bool:
        """Nothing against the node: every receipt in time or pending, and its key
        consistent with the registry."""
        return self.node.ok and all(e.status in GOOD for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``vntrace audit --json``)."""
        rows = []
        for i, e in enumerate(self.entries):
            receipt = self.receipts[i] if i < len(self.receipts) else {}
            rows.append(
                {
                    "recordId": e.record_id,
                    "lotKey": receipt.get("lotKey") if isinstance(receipt, dict) else None,
                    "status": e.status,
                    "deadline": e.deadline,
                    "anchoredAt": e.anchored_at.isoformat() if e.anchored_at else None,
                    "detail": e.detail,
                }
            )
        return {
            "ok": self.ok,
            "now": self.now.isoformat(),
            "node": self.node.to_dict(),
            "summary": self.counts,
            "receipts": rows,
        }


class AuditPlan:
    """What to fetch for a set of receipts, and the report from what was fetched."""

    def __init__(self, receipts: Iterable[Any], node: NodeKey) -> None:
        self.receipts: list[Any] = list(receipts)
        self.node = node
        ids: dict[str, None] = {}
        for r in self.receipts:
            leaf = r.get("leaf") if isinstance(r, dict) else None
            if isinstance(leaf, str) and _LEAF.fullmatch(leaf) and self._foreign(r) is None:
                ids[leaf] = None
        self.record_ids: list[str] = list(ids)
        """Records whose bundles the node must serve (``None`` when it has none)."""

    def _foreign(self, receipt: dict[str, Any]) -> str | None:
        chain, registry = receipt.get("chainId"), receipt.get("registry")
        if chain is not None and chain != self.node.chain_id:
            return f"issued for chain {chain}, not {self.node.chain_id}"
        if registry is not None and str(registry).lower() != self.node.registry.lower():
            return f"issued for registry {registry}, not {self.node.registry}"
        return None

    def roots(self, bundles: Mapping[str, dict[str, Any] | None]) -> list[bytes]:
        """The distinct roots the bundles claim (to read with ``getAnchor``)."""
        from vntrace.node.records import RecordError, as_bytes32

        out: dict[bytes, None] = {}
        for bundle in bundles.values():
            if isinstance(bundle, dict) and bundle.get("root") is not None:
                try:
                    out[as_bytes32(bundle["root"], "root")] = None
                except RecordError:
                    continue  # the audit reports the malformed bundle
        return list(out)

    def finish(
        self,
        bundles: Mapping[str, dict[str, Any] | None],
        anchors: Mapping[bytes, AnchorFacts | None],
        now: datetime | None = None,
    ) -> AuditReport:
        """Run the pure audit over what was fetched."""
        from vntrace.node.audit import AuditEntry, RootAnchor, audit_receipts

        now = now or datetime.now(UTC)

        def read_root(root: bytes) -> RootAnchor | None:
            facts = anchors.get(root)
            return None if facts is None else RootAnchor(facts.timestamp, facts.revoked)

        def find(rid: str) -> dict[str, Any] | None:
            found = bundles.get(rid)
            return found if isinstance(found, dict) else None

        entries: list[AuditEntry | None] = [None] * len(self.receipts)
        local: list[tuple[int, Any]] = []
        for i, r in enumerate(self.receipts):
            why = self._foreign(r) if isinstance(r, dict) else None
            if why is None:
                local.append((i, r))
            else:
                entries[i] = AuditEntry(str(r.get("leaf", "")), "invalid_receipt", None, detail=why)
        checked = audit_receipts(
            [r for _, r in local], self.node.public_key, find, read_root, now=now
        )
        for (i, r), entry in zip(local, checked, strict=True):
            entries[i] = self._explain(entry, r)
        return AuditReport(
            entries=tuple(e for e in entries if e is not None),
            node=self.node,
            now=now,
            receipts=tuple(r if isinstance(r, dict) else {} for r in self.receipts),
        )

    def _explain(self, entry: AuditEntry, receipt: Any) -> AuditEntry:
        """Say so when an invalid receipt was signed by the key the node serves."""
        from vntrace.node.receipts import ReceiptError, verify_receipt

        served = self.node.served
        if entry.status != "invalid_receipt" or not served or served == self.node.public_key:
            return entry
        try:
            verify_receipt(receipt, served)
        except ReceiptError:
            return entry
        return replace(
            entry,
            detail="signed by the key the node serves, not the one it registered on chain",
        )


def audit_receipts(
    receipts: Iterable[dict[str, Any]],
    *,
    node_url: str | None = None,
    rpc_url: str | None = None,
    now: datetime | None = None,
    settings: ClientSettings | None = None,
    **client_options: Any,
) -> AuditReport:
    """Audit a node against receipts (see :meth:`vntrace.client.Client.audit`)."""
    from ._client import Client

    with Client(node_url, rpc_url=rpc_url, settings=settings, **client_options) as client:
        return client.audit(receipts, now=now)


async def audit_receipts_async(
    receipts: Iterable[dict[str, Any]],
    *,
    node_url: str | None = None,
    rpc_url: str | None = None,
    now: datetime | None = None,
    settings: ClientSettings | None = None,
    **client_options: Any,
) -> AuditReport:
    """Non-blocking :func:`audit_receipts`."""
    from ._client import AsyncClient

    async with AsyncClient(
        node_url, rpc_url=rpc_url, settings=settings, **client_options
    ) as client:
        return await client.audit(receipts, now=now)


__all__ = [
    "GOOD",
    "STATUSES",
    "AuditPlan",
    "AuditReport",
    "NodeKey",
    "audit_receipts",
    "audit_receipts_async",
    "identity_calls",
    "resolve_node_key",
]
