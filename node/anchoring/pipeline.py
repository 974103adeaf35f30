"""The anchoring pipeline: pending records -> sealed epoch -> signed tx -> anchored.

Every step is durable before the next one starts, and each is idempotent, so after a
crash at any point :meth:`AnchoringPipeline.step` simply resumes:

1. **seal**: one store transaction groups the oldest pending records by lot (insertion
   order), builds the tree, stores it whole and points every record at its leaf;
2. **sign**: the anchor transaction is signed and stored in the outbox *before* it is
   sent, so a resend after a crash reuses the same bytes and nonce;
3. **send**: the raw transaction is broadcast (re-broadcasting a known one is a no-op);
4. **confirm**: after its receipt (and ``confirmations`` blocks on an external chain)
   the epoch and all its records are marked anchored in one transaction.

Before signing, the chain itself is asked whether the root is already anchored (a
crash between send and confirm): if so, the epoch is completed from the chain's own
record instead of anchoring twice. Epochs go strictly in order, as the contract
requires. A chain outage raises :class:`~vntrace.node.chain.ChainUnavailableError`
out of :meth:`step`; nothing is lost and intake is unaffected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vntrace.node.chain import (
    ChainBackend,
    SignedTx,
    TransactionFailedError,
    TransactionRejectedError,
    TxResult,
)
from vntrace.node.faults import FaultPlan
from vntrace.node.store import Store
from vntrace.node.store.types import EpochRow, OutboxRow, TxStatus

log = logging.getLogger("vntrace.anchoring")

_LIVE = (TxStatus.SIGNED, TxStatus.SENT, TxStatus.MINED)


class AnchoringHaltedError(RuntimeError):
    """The chain and the store disagree in a way the node must not paper over."""


@dataclass(frozen=True, slots=True)
class EpochPolicy:
    """When to seal: every ``seconds`` for the oldest pending record, or at ``max_records``."""

    seconds: float = 2.0
    max_records: int = 10_000


class AnchoringPipeline:
    """Drives epochs from sealed to anchored; call :meth:`step` in a loop."""

    def __init__(
        self,
        store: Store,
        chain: ChainBackend,
        policy: EpochPolicy | None = None,
        *,
        confirmations: int | None = None,
        receipt_timeout: float = 30.0,
        faults: FaultPlan | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.policy = policy or EpochPolicy()
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self.faults = faults or FaultPlan()

    # -- the loop body ----------------------------------------------------------------

    def step(self, *, force: bool = False) -> list[EpochRow]:
        """Finish unfinished epochs, then seal and anchor a new one if due.

        Returns the epochs anchored by this call. ``force`` seals whatever is pending
        now (used by ``vntrace demo`` and tests).
        """
        done: list[EpochRow] = []
        for epoch in self.store.unfinished_epochs():
            done.append(self._drive(epoch))
        if force or self.seal_due():
            epoch = self.store.seal_epoch(self.policy.max_records)
            if epoch is not None:
                self.faults.hit("after_seal")
                done.append(self._drive(epoch))
        return done

    def drain(self) -> list[EpochRow]:
        """Anchor everything pending now, in as many epochs as it takes."""
        done = self.step(force=True)
        while self.store.pending_count() > 0:
            more = self.step(force=True)
            if not more:
                break
            done.extend(more)
        return done

    def seal_due(self) -> bool:
        """True when the pending records have waited long enough or are numerous enough."""
        pending = self.store.pending_count()
        if pending == 0:
            return False
        if pending >= self.policy.max_records:
            return True
        oldest = self.store.oldest_pending_received_at()
        if oldest is None:
            return False
        return datetime.now(UTC) - oldest >= timedelta(seconds=self.policy.seconds)

    # -- one epoch ----------------------------------------------------------------------

    def _drive(self, epoch: EpochRow) -> EpochRow:
        """Bring one sealed or sent epoch to anchored, whatever step it stopped at."""
        # 1. Any transaction already stored for it: mined, or still worth resending?
        for row in self.store.outbox_for_epoch(epoch.number):
            if row.status not in _LIVE:
                continue
            result = self.chain.wait_for_receipt(row.tx_hash, self.confirmations, timeout=0)
            if result is not None:
                return self._complete(epoch, result)
            try:
                if row.status is not TxStatus.MINED:
                    self.chain.send_raw(_signed_from_row(row, self.chain))
                    self.store.mark_sent(row.tx_hash)
            except TransactionRejectedError as exc:
                # Its nonce went to another transaction: retire it and sign anew below.
                log.warning("epoch %d: stored tx rejected (%s); re-signing", epoch.number, exc)
                self.store.record_tx_error(row.tx_hash, str(exc), failed=True)
                continue
            result = self.chain.wait_for_receipt(
                row.tx_hash, self.confirmations, timeout=self.receipt_timeout
            )
            if result is not None:
                return self._complete(epoch, result)
            raise TimeoutError(f"epoch {epoch.number}: no receipt yet for a sent anchor")

        # 2. Did the chain already take this root (a crash after send, tx row lost)?
        on_chain = self.chain.get_anchor(epoch.root)
        if on_chain is not None:
            return self._adopt_from_chain(epoch)
        last = self.chain.last_epoch()
        if last != epoch.number - 1:
            raise AnchoringHaltedError(
                f"the operator account's last anchored epoch on chain is {last}, but the "
                f"store's next epoch is {epoch.number}: this data folder and this operator "
                "key do not belong together"
            )

        # 3. Sign, store, send, confirm.
        signed = self.chain.build_anchor_tx(epoch.root, epoch.number, epoch.record_count)
        self.store.record_signed_tx(epoch.number, signed.raw, signed.tx_hash, signed.nonce)
        self.faults.hit("after_sign")
        self.chain.send_raw(signed)
        self.store.mark_sent(signed.tx_hash)
        self.faults.hit("after_send")
        result = self.chain.wait_for_receipt(
            signed.tx_hash, self.confirmations, timeout=self.receipt_timeout
        )
        if result is None:
            raise TimeoutError(f"epoch {epoch.number}: no receipt yet for {signed.tx_hash.hex()}")
        self.faults.hit("after_receipt")
        return self._complete(epoch, result)

    def _complete(self, epoch: EpochRow, result: TxResult) -> EpochRow:
        if result.status != 1:
            self.store.record_tx_error(result.tx_hash, "reverted on chain", failed=True)
            if self.chain.get_anchor(epoch.root) is not None:
                return self._adopt_from_chain(epoch)
            raise TransactionFailedError(f"anchor of epoch {epoch.number} reverted", result=result)
        done = self.store.mark_anchored(
            epoch.number,
            result.tx_hash,
            result.block_number,
            result.block_timestamp,
            chain_id=self.chain.chain_id,
            contract=bytes.fromhex(self.chain.registry_address[2:]),
        )
        self.faults.hit("after_anchored")
        log.info(
            "anchored epoch %d: %d records, root 0x%s, block %d",
            done.number,
            done.record_count,
            done.root.hex(),
            result.block_number,
        )
        return done

    def _adopt_from_chain(self, epoch: EpochRow) -> EpochRow:
        """The root is on chain already: find its transaction and complete the epoch."""
        for event in self.chain.events_since(0):
            if event.name == "RootAnchored" and bytes(event.args["root"]) == epoch.root:
                result = self.chain.wait_for_receipt(
                    event.tx_hash, self.confirmations, timeout=self.receipt_timeout
                )
                if result is None:
                    raise TimeoutError(f"epoch {epoch.number}: anchor not yet confirmed")
                if int(event.args["epoch"]) != epoch.number:
                    raise AnchoringHaltedError(
                        f"root of epoch {epoch.number} is anchored on chain as epoch "
                        f"{event.args['epoch']}"
                    )
                return self._complete(epoch, result)
        raise AnchoringHaltedError(f"root of epoch {epoch.number} is anchored but has no event")


def _signed_from_row(row: OutboxRow, chain: ChainBackend) -> SignedTx:
    """The stored transaction, ready to resend: only its raw bytes and hash are used;
    the fee fields are not kept in the outbox and are zero here."""
    return SignedTx(
        raw=row.raw_tx,
        tx_hash=row.tx_hash,
        nonce=row.nonce,
        sender=chain.operator_address,
        to=chain.registry_address,
        gas_limit=0,
        max_fee_per_gas=0,
        max_priority_fee_per_gas=0,
        chain_id=chain.chain_id,
    )


__all__ = ["AnchoringHaltedError", "AnchoringPipeline", "EpochPolicy"]
