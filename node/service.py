"""The node: a thin facade that wires its services over shared parts.

Each capability lives in its own module under :mod:`vntrace.node.services` (intake,
provenance, verification, recall, producers, disclosures, about) and the standards'
packages (:mod:`vntrace.node.eudr`, ...); :class:`TraceNode`
opens the parts (profile, store, chain, identity, vault, anchoring), builds the services
once, and forwards the operations the CLI, ``vntrace demo`` and the tests call. The
API's routers take the service they need directly (``api/deps.py``).
docs/architecture.md maps the modules and who calls whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from vntrace.node.anchoring import AnchoredRoots, AnchoringLoop, AnchoringPipeline, EpochPolicy
from vntrace.node.anchoring.leader import leadership_for
from vntrace.node.chain import ChainBackend
from vntrace.node.config import Settings
from vntrace.node.errors import NodeError
from vntrace.node.eudr.service import EudrService
from vntrace.node.faults import FaultPlan
from vntrace.node.identity import NodeIdentity
from vntrace.node.profile import Profile, load_profile
from vntrace.node.services import (
    AboutService,
    Acknowledgement,
    DisclosureService,
    IntakeService,
    Lookups,
    LotReading,
    NodeContext,
    ProducerService,
    ProvenanceService,
    RecallService,
    Submission,
    Verdict,
    VerificationService,
)
from vntrace.node.services.custodial import CustodialService
from vntrace.node.services.epcis import EpcisService
from vntrace.node.services.epcis_subscriptions import EpcisSubscriptionService
from vntrace.node.services.wiring import eudr_rules, open_chain, open_vault, secret
from vntrace.node.store import Store
from vntrace.node.store.types import EpochRow, LotRow, ProducerRow, RecordRow
from vntrace.node.tlog.service import LogService
from vntrace.node.vault import Vault


class TraceNode:
    """One running node: its parts, its services and the anchoring loop."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        chain: ChainBackend,
        profile: Profile,
        identity: NodeIdentity | None = None,
        vault: Vault | None = None,
    ) -> None:
        self.settings, self.store, self.chain, self.profile = settings, store, chain, profile
        self.identity = identity or NodeIdentity.load_or_create(
            Path(settings.data_dir), secret(settings.identity_passphrase)
        )
        self.vault = vault or open_vault(settings)
        self.faults = FaultPlan(settings.fault_points)
        store.fault_hook = self.faults.hit
        self.pipeline = AnchoringPipeline(
            store,
            chain,
            EpochPolicy(settings.epoch_seconds, settings.epoch_max_records),
            confirmations=settings.confirmations if settings.chain == "rpc" else None,
            faults=self.faults,
        )
        # Several processes may share the database: only the holder of the anchorer lock
        # (PostgreSQL advisory lock, or a file lock beside SQLite) steps the pipeline.
        self.loop = AnchoringLoop(self.pipeline, leadership=leadership_for(store))
        self.roots = AnchoredRoots(chain)

        ctx = NodeContext(settings, store, chain, profile, self.identity, self.vault)
        self.context = ctx
        self.about = AboutService(ctx)
        self.producers = ProducerService(ctx)
        self.confidential = DisclosureService(ctx)
        self.intake = IntakeService(ctx, self.producers, self.confidential)
        self.proofs = ProvenanceService(ctx, Lookups(store), self.producers)
        self.verification = VerificationService(ctx, self.roots, self.proofs)
        self.recalls = RecallService(ctx, self.producers)
        self.eudr = EudrService(
            self.proofs.provenance, self.proofs.bundle, profile, eudr_rules(settings)
        )
        # Keys the node holds for producers whose systems cannot sign (docs/epcis.md §6).
        self.custodial = CustodialService(ctx)
        self.epcis = EpcisService(
            ctx, self.intake, self.producers, self.confidential, custodial=self.custodial
        )
        # Named queries and webhook subscriptions: delivered by their own thread.
        self.epcis_subscriptions = EpcisSubscriptionService.for_node(ctx, self.epcis)
        # The witnessed log of anchored epochs: folded in after every anchoring, its
        # checkpoints pushed to witnesses by its own thread (docs/witness.md).
        self.log = LogService.for_node(self)
        self.proofs.log_section = self.log.bundle_section
        self.loop.listeners.append(self._log_epochs)

    @classmethod
    def open(cls, settings: Settings) -> TraceNode:
        """Open (and on first start, create) the node described by ``settings``."""
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        profile = load_profile(settings.profile)
        store = Store.open(settings.resolved_database_url)
        try:
            chain = open_chain(settings)
        except BaseException:
            store.close()
            raise
        try:
            node = cls(settings, store, chain, profile)
            node.about.publish_identity()
        except BaseException:
            chain.close()
            store.close()
            raise
        return node

    def start(self) -> None:
        """Start anchoring, and the log's witness pushes, in the background."""
        self.log.start()
        self.epcis_subscriptions.start()
        self.loop.start()

    def close(self) -> None:
        """Stop anchoring and release the store and the chain."""
        self.loop.stop()
        self.epcis_subscriptions.stop()
        self.log.stop()
        self.chain.close()
        self.store.close()

    def __enter__(self) -> TraceNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def anchor_now(self) -> int:
        """Seal and anchor everything pending now (demo, tests); returns epochs anchored."""
        done = self.pipeline.drain()
        if done:
            self.loop.notify(done)
        return len(done)

    def _log_epochs(self, done: list[EpochRow]) -> None:
        """Anchoring listener: the new epochs become log leaves under a signed checkpoint."""
        self.log.sync()
        self.log.kick()

    # -- forwarded operations (the services hold the logic) ---------------------------

    def info(self) -> dict[str, Any]:
        return self.about.info()

    def identity_document(self) -> dict[str, Any]:
        return self.about.identity_document()

    def register_producer(
        self, address: str, name: str, metadata_uri: str | None = None
    ) -> ProducerRow:
        return self.producers.register_producer(address, name, metadata_uri)

    def producer(self, address: str) -> ProducerRow:
        return self.producers.producer(address)

    def lot_identity(self, gtin: str, lot: str) -> tuple[str, str, bytes]:
        return self.producers.lot_identity(gtin, lot)

    def register_lot(self, producer: ProducerRow, gtin: str, lot: str) -> tuple[LotRow, bool]:
        return self.producers.register_lot(producer, gtin, lot)

    def submit(
        self, producer: ProducerRow, gtin: str, lot: str, submissions: Sequence[Submission]
    ) -> list[Acknowledgement]:
        return self.intake.submit(producer, gtin, lot, submissions)

    def anchor_deadline(self, received_at: datetime) -> datetime:
        return self.intake.anchor_deadline(received_at)

    def record(self, record_id: str) -> RecordRow:
        return self.proofs.record(record_id)

    def bundle(self, record_id: str) -> dict[str, Any]:
        return self.proofs.bundle(record_id)

    def provenance(self, gtin: str, lot: str) -> dict[str, Any]:
        return self.proofs.provenance(gtin, lot)

    def disclosures(self, record_id: str) -> dict[str, Any]:
        return self.confidential.open(self.proofs.record(record_id))

    def recall(self, producer: ProducerRow | None, gtin: str, lot: str, reason: str) -> LotRow:
        return self.recalls.recall(producer, gtin, lot, reason)

    def verify_bundles(self, items: Sequence[dict[str, Any]]) -> list[Verdict]:
        return self.verification.verify_bundles(items)

    def verify_records(self, record_ids: Sequence[str]) -> list[Verdict]:
        return self.verification.verify_records(record_ids)

    def read_lot(self, gtin: str, lot: str) -> LotReading:
        return self.proofs.read_lot(gtin, lot)

    def verify_lot(self, reading: LotReading) -> list[Verdict]:
        return self.verification.verify_lot(reading)


__all__ = [
    "Acknowledgement",
    "NodeError",
    "Submission",
    "TraceNode",
    "Verdict",
]
