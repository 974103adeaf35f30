"""Typed views of the gateway's JSON answers (camelCase on the wire, snake_case here).

Parsing is lenient on purpose: fields a newer node adds are ignored (and kept in
``raw``), so an old SDK keeps working. Proof bundles and provenance stay plain dicts:
they are documents to verify, and must reach the verifier exactly as served.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")

_CAMEL = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def _time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_model(cls: type[T], data: Any) -> T:
    """Build dataclass ``cls`` from a camelCase JSON object (unknown keys ignored)."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__}: expected a JSON object")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name == "raw":
            values["raw"] = data
            continue
        key = _camel(f.name)
        if key not in data:
            continue
        value = data[key]
        if f.name.endswith("_at") or f.name == "anchor_deadline":
            value = _time(value)
        values[f.name] = value
    return cls(**values)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeInfo:
    """``GET /v1/info``: the EIP-712 domain to sign in, the profile and the limits."""

    chain_id: int
    registry: str
    version: str = ""
    operator: str = ""
    chain: str = ""
    profile: str = ""
    gtins: list[str] = dataclasses.field(default_factory=list)
    digital_link_base: str = ""
    epoch_seconds: float = 0.0
    rpc: str | None = None
    limits: dict[str, Any] = dataclasses.field(default_factory=dict)
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def max_events_per_request(self) -> int:
        return int(self.limits.get("maxEventsPerRequest", 1000))

    @property
    def max_batch_body_bytes(self) -> int:
        return int(self.limits.get("maxBatchBodyBytes", 8 * 1024 * 1024))


@dataclasses.dataclass(frozen=True, slots=True)
class Producer:
    """A producer registered on the node (and, once ``registered_onchain``, on chain)."""

    address: str
    name: str
    metadata_uri: str | None = None
    active: bool = True
    registered_onchain: bool = False
    onchain_tx_hash: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKey:
    """A producer's API key; ``token`` is set only in the answer that issued it."""

    key_id: str
    role: str = ""
    label: str | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    producer: str | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Me:
    """``GET /v1/me``: who the API key belongs to."""

    key_id: str
    role: str
    producer: dict[str, Any] | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class RecordAck:
    """The node's acknowledgement of one stored record."""

    record_id: str
    status: str = "pending"
    duplicate: bool = False
    received_at: datetime | None = None
    anchor_deadline: datetime | None = None
    receipt: dict[str, Any] | None = dataclasses.field(default=None, repr=False)
    """The node's signed intake receipt, when the node issues them: keep it."""
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class LotWritten:
    """A lot after a write: its identity and the records just acknowledged, in order."""

    gtin: str
    lot: str
    lot_key: str = ""
    digital_link: str = ""
    producer: str = ""
    created: bool = False
    record_ids: list[str] = dataclasses.field(default_factory=list)
    records: list[RecordAck] = dataclasses.field(default_factory=list)
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data: Any) -> LotWritten:
        out = parse_model(cls, data)
        acks = [parse_model(RecordAck, r) for r in data.get("records") or []]
        return dataclasses.replace(out, records=acks, record_ids=list(out.record_ids))

    @property
    def receipts(self) -> list[dict[str, Any]]:
        """The node's signed intake receipts of these records (keep them: ``save_receipts``)."""
        return [r.receipt for r in self.records if r.receipt is not None]

    def merged(self, other: LotWritten) -> LotWritten:
        """This write followed by ``other`` (batched uploads report as one)."""
        return dataclasses.replace(
            self,
            created=self.created or other.created,
            record_ids=self.record_ids + other.record_ids,
            records=self.records + other.records,
            raw={},
        )


@dataclasses.dataclass(frozen=True, slots=True)
class NodeIdentity:
    """``GET /.well-known/vntrace-node.json``: the node's id and the Ed25519 key its
    intake receipts are signed with, as the node itself states them."""

    node_id: str
    ed25519: str
    chain_id: int = 0
    registry: str = ""
    operator: str = ""
    jwk: dict[str, Any] = dataclasses.field(default_factory=dict)
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class RecordStatus:
    """``GET /v1/records/{id}``: pending, sealed or anchored, and where (as the node says)."""

    record_id: str
    status: str
    gtin: str = ""
    lot: str = ""
    lot_key: str = ""
    digital_link: str = ""
    producer: str = ""
    received_at: datetime | None = None
    epoch: int | None = None
    root: str | None = None
    anchor: dict[str, Any] | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Recall:
    """A lot's recall as the node recorded it (``onchain_tx_hash`` once relayed)."""

    gtin: str
    lot: str
    lot_key: str = ""
    recalled_at: datetime | None = None
    reason: str | None = None
    onchain_tx_hash: str | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Epoch:
    """A sealed Merkle root and where the node says it was anchored."""

    number: int
    root: str
    record_count: int = 0
    status: str = ""
    sealed_at: datetime | None = None
    anchored_at: datetime | None = None
    anchor: dict[str, Any] | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class EpochPage:
    items: list[Epoch]
    next_after: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ServerVerdict:
    """The *node's* verdict on one item of ``POST /v1/verify``: convenient, not proof.

    Use :func:`vntrace.client.verify_bundle` for a verdict that does not trust the node.
    """

    index: int
    source: str
    record_id: str | None
    status: str
    reasons: list[str] = dataclasses.field(default_factory=list)
    details: list[str] = dataclasses.field(default_factory=list)
    anchor: dict[str, Any] | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


__all__ = [
    "ApiKey",
    "Epoch",
    "EpochPage",
    "LotWritten",
    "Me",
    "NodeIdentity",
    "NodeInfo",
    "Producer",
    "Recall",
    "RecordAck",
    "RecordStatus",
    "ServerVerdict",
    "parse_model",
]
