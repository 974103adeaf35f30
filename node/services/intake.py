"""Intake: signed records in, acknowledged once their transaction commits.

A record is accepted only if its event passes the product profile (with private fields
already committed), its EIP-712 signature recovers to the submitting producer (so nobody
writes in another's name), the producer is active, and the lot is theirs. A batch is
all or nothing; a resubmitted record (same salt, same event) returns the stored one,
never a duplicate. Every acknowledgement carries a receipt signed by the node.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vntrace.node.errors import ConflictError, InvalidInputError, UnavailableError
from vntrace.node.receipts import ReceiptEntry, issue_batch_receipts
from vntrace.node.records import (
    EventValidationError,
    RecordError,
    canonicalize,
    verify_signed_record,
)
from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store import errors as store_errors
from vntrace.node.store.clock import from_ms, to_ms, utc_now
from vntrace.node.store.types import LotRow, NewRecord, ProducerRow, RecordRow

from .context import NodeContext, hex0x
from .disclosures import DisclosureService
from .models import Acknowledgement, Submission
from .producers import ProducerService


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    """A record every intake check passed (profile, signature, disclosures, lot owner),
    ready to store: what :meth:`IntakeService.submit` and EPCIS capture hand over to
    :meth:`IntakeService.store`, the one path to the store's ``add_records``."""

    leaf: bytes
    lot: LotRow
    digest: bytes
    salt: bytes
    event_json: bytes
    signature: bytes
    sealed_disclosures: bytes | None = None
    custodian: bytes | None = None
    """The custodial key that signed it for the producer (``None``: the producer did)."""


class IntakeService:
    """Checks and stores producers' signed records; issues receipts."""

    def __init__(
        self, ctx: NodeContext, producers: ProducerService, disclosures: DisclosureService
    ) -> None:
        self._ctx = ctx
        self._producers = producers
        self._disclosures = disclosures
        self._lock = threading.Lock()
        self._last_ms = 0

    def submit(
        self, producer: ProducerRow, gtin: str, lot: str, submissions: Sequence[Submission]
    ) -> list[Acknowledgement]:
        """Check and store signed records for one lot, all or none, in one transaction."""
        if not submissions:
            raise InvalidInputError("no records submitted")
        ctx = self._ctx
        lot_row = self._producers.own_lot(producer, gtin, lot)
        producer_address = to_checksum_address(producer.address)
        chain_id, registry = ctx.chain.chain_id, ctx.chain.registry_address
        checked: list[CheckedRecord] = []
        errors: list[dict[str, Any]] = []
        for i, sub in enumerate(submissions):
            try:
                rec = verify_signed_record(
                    ctx.profile,
                    gtin=lot_row.gtin,
                    lot=lot_row.lot_number,
                    event=sub.event,
                    salt=sub.salt,
                    producer=producer_address,
                    signature=sub.signature,
                    chain_id=chain_id,
                    registry=registry,
                )
            except EventValidationError as exc:
                errors += [
                    {"index": i, "field": e.path, "message": e.message, "code": e.code}
                    for e in exc.errors
                ]
                continue
            except RecordError as exc:
                errors.append({"index": i, "field": "", "message": str(exc)})
                continue
            sealed, problems = self._disclosures.seal(rec.leaf, rec.event, sub.disclosures)
            if problems:
                errors += [{"index": i, **p} for p in problems]
                continue
            checked.append(
                CheckedRecord(
                    leaf=rec.leaf,
                    lot=lot_row,
                    digest=rec.digest,
                    salt=rec.salt,
                    event_json=rec.canonical or canonicalize(rec.event),
                    signature=rec.signature,
                    sealed_disclosures=sealed,
                )
            )
        if errors:
            raise InvalidInputError(
                f"{len({e['index'] for e in errors})} of {len(submissions)} records rejected; "
                "nothing was stored",
                errors=errors,
            )
        return self.store(producer, checked)

    def store(
        self, producer: ProducerRow, checked: Sequence[CheckedRecord]
    ) -> list[Acknowledgement]:
        """Store checked records in ONE transaction and acknowledge them (one batch
        receipt). A row that comes back from ``add_records`` with another intake time
        than this batch's was stored before: a duplicate, without a lookup per record."""
        received_at = self.intake_time()
        key_id = self._disclosures.active_key_id
        new = [
            NewRecord(
                leaf=c.leaf,
                lot_id=c.lot.id,
                producer_id=producer.id,
                digest=c.digest,
                salt=c.salt,
                event_json=c.event_json,
                signature=c.signature,
                sealed_disclosures=c.sealed_disclosures,
                disclosures_key_id=key_id if c.sealed_disclosures else None,
                received_at=received_at,
                custodian=c.custodian,
            )
            for c in checked
        ]
        try:
            rows = self._ctx.store.add_records(new)
        except store_errors.StoreUnavailableError as exc:
            raise UnavailableError(str(exc)) from exc
        except store_errors.ConflictError as exc:
            raise ConflictError(str(exc)) from exc
        return self.acknowledge(rows, [c.lot.lot_key for c in checked], received_at)

    def intake_time(self) -> datetime:
        """Now, at the store's millisecond precision, never the same twice in a process.

        Unique per batch so that :meth:`submit` tells a duplicate from a fresh row by
        its intake time alone.
        """
        with self._lock:
            ms = max(to_ms(utc_now()), self._last_ms + 1)
            self._last_ms = ms
        return from_ms(ms)

    def anchor_deadline(self, received_at: datetime) -> datetime:
        """When the node promises a record received at ``received_at`` is anchored."""
        return received_at + timedelta(seconds=self._ctx.settings.epoch_seconds * 2 + 30)

    def acknowledge(
        self, rows: Sequence[RecordRow], lot_keys: Sequence[bytes], received_at: datetime
    ) -> list[Acknowledgement]:
        """Acknowledgements of one request's stored ``rows`` (``lot_keys`` row by row),
        with one batch receipt signature for them all; a row received before
        ``received_at`` is a duplicate."""
        chain = self._ctx.chain
        deadlines = [self.anchor_deadline(r.received_at) for r in rows]
        receipts = issue_batch_receipts(
            self._ctx.identity,
            [
                ReceiptEntry(r.leaf, k, r.received_at, d)
                for r, k, d in zip(rows, lot_keys, deadlines, strict=True)
            ],
            chain_id=chain.chain_id,
            registry=chain.registry_address,
        )
        return [
            Acknowledgement(
                record_id=hex0x(r.leaf) or "",
                lot_key=k,
                received_at=r.received_at,
                status=r.status.value,
                duplicate=r.received_at != received_at,
                anchor_deadline=d,
                receipt=receipt,
            )
            for r, k, d, receipt in zip(rows, lot_keys, deadlines, receipts, strict=True)
        ]
