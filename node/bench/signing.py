"""Pre-signed events for the end-to-end benchmarks (signed before any timing starts).

Each distinct event of the demo season is validated and canonicalised once with
:func:`vntrace.node.records.prepare_record` (the SDK signer's code); each record then
gets its own 32-byte salt, digest and EIP-712 signature, exactly as
``ProducerSigner`` would make them, at a fraction of the cost (no re-validation of
identical events). Every record is unique (fresh salt), so none is a duplicate.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vntrace.node.demo import season_events
from vntrace.node.profile import Profile, load_profile
from vntrace.node.records import digest_canonical, lot_key, prepare_record, record_leaf
from vntrace.node.records.signing import sign_record


@dataclass(frozen=True, slots=True)
class SignedBatch:
    """One request's worth of records for one lot: the JSON body and the record ids."""

    gtin: str
    lot: str
    body: bytes
    record_ids: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.record_ids)


class EventSigner:
    """Signs copies of the demo season's events for one producer key and deployment."""

    def __init__(
        self, key: str, chain_id: int, registry: str, profile: Profile | str = "robusta-vn"
    ) -> None:
        self.key = bytes.fromhex(key.removeprefix("0x"))
        self.chain_id = chain_id
        self.registry = registry
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self._templates: dict[str, list[tuple[dict[str, Any], bytes]]] = {}

    def _season(self, gtin: str, lot: str) -> list[tuple[dict[str, Any], bytes]]:
        """(event as signed, its canonical bytes) for each event of a season."""
        if gtin not in self._templates:
            now = datetime.now(UTC)
            prepared = [
                prepare_record(self.profile, gtin, lot, e, now=now) for e in season_events(now)
            ]
            self._templates[gtin] = [(p.event, p.validated.canonical) for p in prepared]
        return self._templates[gtin]

    def submissions(
        self, gtin: str, lot: str, count: int
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """``count`` signed ``{event, salt, signature}`` items for a lot, and their ids."""
        season = self._season(gtin, lot)
        key = lot_key(gtin, lot)
        items: list[dict[str, Any]] = []
        ids: list[str] = []
        for i in range(count):
            event, canonical = season[i % len(season)]
            salt = secrets.token_bytes(32)
            digest = digest_canonical(salt, canonical)
            signature = sign_record(self.key, self.chain_id, self.registry, key, digest)
            items.append(
                {"event": event, "salt": "0x" + salt.hex(), "signature": "0x" + signature.hex()}
            )
            ids.append("0x" + record_leaf(key, digest).hex())
        return items, ids

    def batch(self, gtin: str, lot: str, count: int) -> SignedBatch:
        """A ready-to-send ``POST /v1/lots/{gtin}/{lot}/events`` body of ``count`` records."""
        items, ids = self.submissions(gtin, lot, count)
        body = json.dumps({"events": items}, separators=(",", ":")).encode()
        return SignedBatch(gtin, lot, body, tuple(ids))
