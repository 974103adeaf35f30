"""The node as a service: intake, proofs, provenance, recalls and verification.

:class:`TraceNode` ties the parts together (profile, store, chain, anchoring) behind
the operations the gateway, the CLI and ``vntrace demo`` call. It owns no HTTP and no
argument parsing; it raises :mod:`vntrace.node.errors` for anything a caller can fix.

Intake rules: a record is accepted only if its event passes the product profile (with
private fields already committed), its EIP-712 signature recovers to the submitting
producer (so nobody writes in another's name), the producer is active, and the lot
belongs to that producer. A record is acknowledged once its transaction commits; a
resubmitted record (same salt, same event) returns the stored one, never a duplicate.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account import Account

from vntrace.node import bundles
from vntrace.node.anchoring import (
    AnchoredRoots,
    AnchoringLoop,
    AnchoringPipeline,
    EpochPolicy,
    RootState,
)
from vntrace.node.anchoring.leader import leadership_for
from vntrace.node.bundles import BUNDLE_VERSION, Reason
from vntrace.node.chain import ChainBackend, ChainError, ContractRevertError, open_backend
from vntrace.node.chain.keys import load_account
from vntrace.node.config import Settings
from vntrace.node.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NodeError,
    NotFoundError,
    UnavailableError,
)
from vntrace.node.faults import FaultPlan
from vntrace.node.identity import NodeIdentity, b64url
from vntrace.node.merkle import BatchVerifier
from vntrace.node.profile import Profile, load_profile
from vntrace.node.receipts import issue_receipt
from vntrace.node.records import (
    EventValidationError,
    RecordError,
    canonicalize,
    check_disclosure,
    digital_link_uri,
    lot_key,
    normalize_gtin,
    parse_json,
    validate_lot,
    verify_signed_record,
)
from vntrace.node.records.signing import address_bytes, to_checksum_address
from vntrace.node.store import Store
from vntrace.node.store import errors as store_errors
from vntrace.node.store.clock import from_ms, to_ms, utc_now
from vntrace.node.store.types import LotRow, NewRecord, ProducerRow, RecordRow
from vntrace.node.vault import Vault, VaultError

log = logging.getLogger("vntrace.node")


@dataclass(frozen=True, slots=True)
class Submission:
    """One signed record as a producer submits it."""

    event: dict[str, Any]
    salt: str | bytes
    signature: str | bytes
    disclosures: dict[str, dict[str, Any]] | None = None
    """Private fields opened: ``{path: {"value": ..., "salt": "0x.."}}`` (kept sealed)."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The node's answer for one accepted record."""

    record_id: str
    lot_key: bytes
    received_at: datetime
    status: str
    duplicate: bool
    anchor_deadline: datetime
    receipt: dict[str, Any] | None = None
    """Signed by the node's Ed25519 identity (``vntrace.node.receipts``)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Verification result for one record or bundle."""

    status: str  # verified | pending | recalled | failed
    reasons: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    record_id: str | None = None
    anchor: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "verified"


_MEMO_SIZE = 100_000


def _memo_put(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Remember ``value``; a full memo starts over (bounded memory, no LRU bookkeeping)."""
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _secret(value: Any) -> str | None:
    return None if value is None else value.get_secret_value()


def _open_vault(settings: Settings) -> Vault:
    """The keyring from settings, or a key file created once in the data folder (0600)."""
    spec = _secret(settings.vault_keys)
    if spec:
        return Vault.from_spec(spec)
    path = Path(settings.data_dir) / "vault-keys"
    if not path.exists():
        import os
        import secrets

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"k1:{secrets.token_hex(32)}\n")
    return Vault.from_spec(path.read_text().strip())


def _open_chain(settings: Settings) -> ChainBackend:
    admin = Account.from_key(settings.admin_key.get_secret_value()) if settings.admin_key else None
    if settings.chain == "embedded":
        return open_backend("embedded", data_dir=settings.data_dir, admin=admin)
    if settings.operator_key is not None:
        account = Account.from_key(settings.operator_key.get_secret_value())
    elif settings.keystore_path is not None:
        password = settings.keystore_password
        account = load_account(
            keystore_path=settings.keystore_path,
            password=password.get_secret_value() if password else None,
            environ={},
        )
    else:
        raise InvalidInputError("the rpc chain needs VNTRACE_OPERATOR_KEY or VNTRACE_KEYSTORE_PATH")
    return open_backend(
        "rpc",
        url=settings.rpc_url,
        account=account,
        admin=admin,
        registry_address=settings.registry_address,
        confirmations=max(1, settings.confirmations),
    )


class TraceNode:
    """One running node: profile, store, chain and the anchoring loop."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        chain: ChainBackend,
        profile: Profile,
        identity: NodeIdentity | None = None,
        vault: Vault | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.chain = chain
        self.profile = profile
        self.identity = identity or NodeIdentity.load_or_create(
            Path(settings.data_dir), _secret(settings.identity_passphrase)
        )
        self.vault = vault or _open_vault(settings)
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
        self._intake_lock = threading.Lock()
        self._last_intake_ms = 0
        self._lot_names_memo: dict[bytes, tuple[str, str]] = {}
        self._producer_memo: dict[int, str] = {}
        self._anchor_facts_memo: dict[bytes, tuple[int | None, str | None]] = {}

    @classmethod
    def open(cls, settings: Settings) -> TraceNode:
        """Open (and on first start, create) the node described by ``settings``."""
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        profile = load_profile(settings.profile)
        store = Store.open(settings.resolved_database_url)
        try:
            chain = _open_chain(settings)
        except BaseException:
            store.close()
            raise
        try:
            node = cls(settings, store, chain, profile)
            node.publish_identity()
        except BaseException:
            chain.close()
            store.close()
            raise
        return node

    def publish_identity(self) -> None:
        """Record the node's Ed25519 key in its anchorer metadata on chain, if not there.

        Best effort: an operator without the anchorer role (yet) or a chain outage is
        logged, and the well-known document still serves the key.
        """
        wanted = self.identity.anchorer_metadata(self.chain.chain_id, self.chain.registry_address)
        try:
            operator = self.chain.operator_address
            if (
                self.chain.is_anchorer(operator)
                and self.chain.anchorer_metadata(operator) != wanted
            ):
                self.chain.set_anchorer_metadata(wanted)
        except ChainError as exc:
            log.warning("could not publish the node identity on chain: %s", exc)

    def identity_document(self) -> dict[str, Any]:
        """The well-known document: who this node is and how to check its receipts."""
        return {
            "nodeId": self.identity.node_id,
            "ed25519": b64url(self.identity.public_key),
            "jwk": self.identity.public_jwk(),
            "chainId": self.chain.chain_id,
            "registry": self.chain.registry_address,
            "operator": self.chain.operator_address,
            "receipts": "Ed25519 over RFC 8785 JSON of the receipt without 'signature'",
        }

    def start(self) -> None:
        """Start anchoring in the background."""
        self.loop.start()

    def close(self) -> None:
        """Stop anchoring and release the store and the chain."""
        self.loop.stop()
        self.chain.close()
        self.store.close()

    def __enter__(self) -> TraceNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- identity ---------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """What a client needs to sign and verify against this node."""
        return {
            "chainId": self.chain.chain_id,
            "registry": self.chain.registry_address,
            "operator": self.chain.operator_address,
            "chain": self.settings.chain,
            "profile": self.profile.id,
            "gtins": list(self.profile.gtins),
            "digitalLinkBase": self.settings.base_url,
        }

    # -- producers -----------------------------------------------------------------------

    def register_producer(
        self, address: str, name: str, metadata_uri: str | None = None
    ) -> ProducerRow:
        """Register a producer on the node and, where the node holds the admin key, on chain."""
        raw = self._address(address)
        if raw == bytes(20):  # the registry refuses it, and nobody holds its key
            raise InvalidInputError("the zero address cannot be a producer")
        try:
            row = self.store.get_producer_by_address(raw) or self.store.add_producer(
                raw, name, metadata_uri
            )
        except store_errors.InvalidInputError as exc:
            raise InvalidInputError(str(exc)) from exc
        if not row.registered_onchain and self.chain.admin_account is not None:
            checksum = to_checksum_address(raw)
            try:
                if self.chain.get_producer(checksum) is None:
                    result = self.chain.register_producer(checksum, metadata_uri or name)
                    row = self.store.mark_producer_onchain(row.id, result.tx_hash)
                else:
                    row = self.store.mark_producer_onchain(row.id, b"\x00" * 32)
            except ContractRevertError as exc:  # retrying will not help: not a 503
                raise ConflictError(f"registered on the node; the registry refused: {exc}") from exc
            except ChainError as exc:
                raise UnavailableError(f"registered on the node, not yet on chain: {exc}") from exc
        return row

    def producer(self, address: str) -> ProducerRow:
        """A registered producer by address."""
        row = self.store.get_producer_by_address(self._address(address))
        if row is None:
            raise NotFoundError(f"no producer {address}")
        return row

    # -- lots and intake -------------------------------------------------------------------

    def lot_identity(self, gtin: str, lot: str) -> tuple[str, str, bytes]:
        """Normalised GTIN-14, lot number and lot key, checked against the profile."""
        try:
            gtin14 = normalize_gtin(gtin)
            lot = validate_lot(lot)
        except RecordError as exc:
            raise InvalidInputError(str(exc)) from exc
        if not self.profile.accepts_gtin(gtin14):
            raise InvalidInputError(f"GTIN {gtin14} is not a product of profile {self.profile.id}")
        return gtin14, lot, lot_key(gtin14, lot)

    def register_lot(self, producer: ProducerRow, gtin: str, lot: str) -> tuple[LotRow, bool]:
        """Create the lot for ``producer`` (or return it if it is already theirs)."""
        self._check_active(producer)
        gtin14, lot, key = self.lot_identity(gtin, lot)
        try:
            return self.store.create_or_get_lot(key, gtin14, lot, producer.id)
        except store_errors.ConflictError as exc:
            raise ForbiddenError(f"lot {lot} of GTIN {gtin14} belongs to another producer") from (
                exc
            )

    def _own_lot(self, producer: ProducerRow, gtin: str, lot: str) -> LotRow:
        """The producer's lot, created if new. A lot that is already the producer's is
        read, not written: a read transaction instead of a write one per batch."""
        self._check_active(producer)
        gtin14, lot, key = self.lot_identity(gtin, lot)
        row = self.store.get_lot(key)
        mine = row is not None and row.producer_id == producer.id
        if mine and row is not None and (row.gtin, row.lot_number) == (gtin14, lot):
            return row
        return self.register_lot(producer, gtin14, lot)[0]

    def submit(
        self, producer: ProducerRow, gtin: str, lot: str, submissions: Sequence[Submission]
    ) -> list[Acknowledgement]:
        """Check and store signed records for one lot, all or none, in one transaction."""
        if not submissions:
            raise InvalidInputError("no records submitted")
        lot_row = self._own_lot(producer, gtin, lot)
        producer_address = to_checksum_address(producer.address)
        chain_id, registry = self.chain.chain_id, self.chain.registry_address
        # A row that comes back from add_records with another intake time than this
        # batch's was stored before: a duplicate (no lookup transaction per record).
        received_at = self._intake_time()
        new: list[NewRecord] = []
        errors: list[dict[str, Any]] = []
        for i, sub in enumerate(submissions):
            try:
                rec = verify_signed_record(
                    self.profile,
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
            sealed, problems = self._seal_disclosures(rec.leaf, rec.event, sub.disclosures)
            if problems:
                errors += [{"index": i, **p} for p in problems]
                continue
            new.append(
                NewRecord(
                    leaf=rec.leaf,
                    lot_id=lot_row.id,
                    producer_id=producer.id,
                    digest=rec.digest,
                    salt=rec.salt,
                    event_json=canonicalize(rec.event),
                    signature=rec.signature,
                    sealed_disclosures=sealed,
                    disclosures_key_id=self.vault.active if sealed else None,
                    received_at=received_at,
                )
            )
        if errors:
            raise InvalidInputError(
                f"{len({e['index'] for e in errors})} of {len(submissions)} records rejected; "
                "nothing was stored",
                errors=errors,
            )
        try:
            rows = self.store.add_records(new)
        except store_errors.StoreUnavailableError as exc:
            raise UnavailableError(str(exc)) from exc
        except store_errors.ConflictError as exc:
            raise ConflictError(str(exc)) from exc
        return [self._acknowledge(r, lot_row.lot_key, r.received_at != received_at) for r in rows]

    def _intake_time(self) -> datetime:
        """Now, at the store's millisecond precision, never the same twice in a process.

        Unique per batch so that :meth:`submit` tells a duplicate from a fresh row by
        its intake time alone.
        """
        with self._intake_lock:
            ms = max(to_ms(utc_now()), self._last_intake_ms + 1)
            self._last_intake_ms = ms
        return from_ms(ms)

    def anchor_deadline(self, received_at: datetime) -> datetime:
        """When the node promises a record received at ``received_at`` is anchored."""
        return received_at + timedelta(seconds=self.settings.epoch_seconds * 2 + 30)

    def _acknowledge(self, row: RecordRow, lot_key_: bytes, duplicate: bool) -> Acknowledgement:
        deadline = self.anchor_deadline(row.received_at)
        receipt = issue_receipt(
            self.identity,
            leaf=row.leaf,
            lot_key=lot_key_,
            received_at=row.received_at,
            anchor_deadline=deadline,
            chain_id=self.chain.chain_id,
            registry=self.chain.registry_address,
        )
        return Acknowledgement(
            record_id=_hex(row.leaf) or "",
            lot_key=lot_key_,
            received_at=row.received_at,
            status=row.status.value,
            duplicate=duplicate,
            anchor_deadline=deadline,
            receipt=receipt,
        )

    def _seal_disclosures(
        self, leaf: bytes, event: dict[str, Any], disclosures: dict[str, Any] | None
    ) -> tuple[bytes | None, list[dict[str, Any]]]:
        """Check opened private fields against their commitments, then seal them."""
        if not disclosures:
            return None, []
        if not isinstance(disclosures, dict):
            return None, [{"field": "disclosures", "message": "must be an object"}]
        problems: list[dict[str, Any]] = []
        for path, opened in disclosures.items():
            ok = isinstance(opened, dict) and "value" in opened and "salt" in opened
            try:
                ok = ok and check_disclosure(event, path, opened["value"], opened["salt"])
            except RecordError:
                ok = False
            if not ok:
                problems.append(
                    {
                        "field": f"disclosures.{path}",
                        "message": "value and salt do not open the event's commitment",
                        "code": "disclosure_mismatch",
                    }
                )
        if problems:
            return None, problems
        return self.vault.encrypt(canonicalize(disclosures), leaf), []

    def disclosures(self, record_id: str) -> dict[str, Any]:
        """A record's confidential values and salts (for authorised readers only)."""
        row = self.record(record_id)
        sealed = self.store.get_sealed_disclosures(row.leaf)
        if sealed is None:
            return {}
        try:
            return parse_json(self.vault.decrypt(sealed[1], row.leaf).decode())
        except VaultError as exc:
            raise UnavailableError(f"confidential values cannot be opened: {exc}") from exc

    # -- reading -------------------------------------------------------------------------

    def record(self, record_id: str) -> RecordRow:
        """A stored record by its id (the leaf hex)."""
        row = self.store.get_record(self._record_key(record_id))
        if row is None:
            raise NotFoundError(f"no record {record_id}")
        return row

    def bundle(self, record_id: str) -> dict[str, Any]:
        """The proof bundle of one record (pending records have no proof yet)."""
        row = self.record(record_id)
        gtin, lot_number = self._lot_names(row.lot_key)
        out: dict[str, Any] = {
            "version": BUNDLE_VERSION,
            "recordId": _hex(row.leaf),
            "status": row.status.value,
            "gtin": gtin,
            "lot": lot_number,
            "digitalLink": digital_link_uri(self.settings.base_url, gtin, lot_number),
            "lotKey": _hex(row.lot_key),
            "event": parse_json(row.event_json.decode()),
            "salt": _hex(row.salt),
            "digest": _hex(row.digest),
            "leaf": _hex(row.leaf),
            "producer": self._producer_address(row.producer_id),
            "signature": _hex(row.signature),
            "chainId": self.chain.chain_id,
            "registry": self.chain.registry_address,
            "receivedAt": row.received_at.isoformat(),
            "epoch": None,
            "leafIndex": None,
            "proof": None,
            "root": None,
            "anchor": None,
        }
        proof = self.store.proof_for(row.leaf)
        if proof is not None:
            epoch = proof.epoch
            out.update(
                epoch=epoch.number,
                leafIndex=proof.leaf_index,
                proof=[_hex(p) for p in proof.proof],
                root=_hex(epoch.root),
            )
            if epoch.tx_hash is not None and epoch.block_number is not None:
                out["anchor"] = {
                    "chainId": epoch.chain_id or self.chain.chain_id,
                    "contract": to_checksum_address(epoch.contract)
                    if epoch.contract
                    else self.chain.registry_address,
                    "txHash": _hex(epoch.tx_hash),
                    "blockNumber": epoch.block_number,
                    "blockTimestamp": epoch.block_timestamp,
                }
        return out

    def _lot_names(self, key: bytes) -> tuple[str, str]:
        """A lot's GTIN and lot number by lot key (immutable, so memoised: one read
        transaction less per bundle)."""
        names = self._lot_names_memo.get(key)
        if names is None:
            lot = self.store.get_lot(key)
            if lot is None:
                raise NotFoundError(f"no lot 0x{key.hex()}")
            names = (lot.gtin, lot.lot_number)
            _memo_put(self._lot_names_memo, key, names)
        return names

    def _producer_address(self, producer_id: int) -> str:
        """A producer's checksum address by id (immutable, so memoised)."""
        address = self._producer_memo.get(producer_id)
        if address is None:
            producer = self.store.get_producer(producer_id)
            if producer is None:
                raise NotFoundError(f"no producer {producer_id}")
            address = to_checksum_address(producer.address)
            _memo_put(self._producer_memo, producer_id, address)
        return address

    def provenance(self, gtin: str, lot: str) -> dict[str, Any]:
        """A lot's events in order, with one multiproof per anchored epoch."""
        gtin14, lot, key = self.lot_identity(gtin, lot)
        lot_row = self.store.get_lot(key)
        if lot_row is None:
            raise NotFoundError(f"no lot {lot} of GTIN {gtin14}")
        producer = self.store.get_producer(lot_row.producer_id)
        assert producer is not None
        records = self.store.list_records_by_lot(key, limit=10_000)
        epochs: dict[int, list[RecordRow]] = defaultdict(list)
        for r in records:
            if r.epoch is not None:
                epochs[r.epoch].append(r)
        proofs = []
        for number in sorted(epochs):
            mp = self.store.multiproof_for(key, number)
            ep = mp.epoch
            proofs.append(
                {
                    "epoch": number,
                    "root": _hex(ep.root),
                    "status": ep.status.value,
                    "leaves": [_hex(x) for x in mp.leaves],
                    "proof": [_hex(x) for x in mp.proof],
                    "proofFlags": list(mp.proof_flags),
                    "anchor": None
                    if ep.tx_hash is None or ep.block_number is None
                    else {
                        "chainId": ep.chain_id,
                        "contract": self.chain.registry_address,
                        "txHash": _hex(ep.tx_hash),
                        "blockNumber": ep.block_number,
                        "blockTimestamp": ep.block_timestamp,
                    },
                }
            )
        return {
            "gtin": gtin14,
            "lot": lot,
            "lotKey": _hex(key),
            "digitalLink": digital_link_uri(self.settings.base_url, gtin14, lot),
            "producer": {
                "address": to_checksum_address(producer.address),
                "name": producer.name,
            },
            "chainId": self.chain.chain_id,
            "registry": self.chain.registry_address,
            "recall": None
            if lot_row.recalled_at is None
            else {"at": lot_row.recalled_at.isoformat(), "reason": lot_row.recall_reason},
            "records": [
                {
                    "recordId": _hex(r.leaf),
                    "status": r.status.value,
                    "epoch": r.epoch,
                    "leafIndex": r.leaf_index,
                    "event": parse_json(r.event_json.decode()),
                    "salt": _hex(r.salt),
                    "digest": _hex(r.digest),
                    "signature": _hex(r.signature),
                    "receivedAt": r.received_at.isoformat(),
                }
                for r in records
            ],
            "multiproofs": proofs,
        }

    # -- recall ----------------------------------------------------------------------------

    def recall(self, producer: ProducerRow | None, gtin: str, lot: str, reason: str) -> LotRow:
        """Recall a lot: on the node at once, and on chain (the node relays it).

        ``producer`` is the caller when a producer recalls its own lot; ``None`` means the
        admin (regulator).
        """
        gtin14, lot, key = self.lot_identity(gtin, lot)
        row = self.store.get_lot(key)
        if row is None:
            raise NotFoundError(f"no lot {lot} of GTIN {gtin14}")
        if producer is not None and row.producer_id != producer.id:
            raise ForbiddenError("only the lot's producer or the regulator may recall it")
        if not reason.strip():
            raise InvalidInputError("a recall needs a reason")
        if row.recalled_at is None:
            row = self.store.recall_lot(key, reason)
        if row.recall_tx_hash is None:
            try:
                result = self.chain.recall_lot(key, reason)
                row = self.store.mark_recall_onchain(key, result.tx_hash)
            except ContractRevertError as exc:
                if exc.error_name != "VntraceLotAlreadyRecalled":
                    raise ConflictError(f"recall refused on chain: {exc}") from exc
            except ChainError as exc:
                raise UnavailableError(f"recalled on the node, not yet on chain: {exc}") from exc
        return row

    # -- verification ------------------------------------------------------------------------

    def verify_bundles(self, items: Sequence[dict[str, Any]]) -> list[Verdict]:
        """Verify many bundles: offline checks, then each root and lot checked once."""
        try:  # the registry's events since the last batch: then no eth_call per record
            self.roots.refresh()
        except ChainError as exc:
            raise UnavailableError(f"the chain could not be read: {exc}") from exc
        by_root: dict[bytes, BatchVerifier] = {}

        def prove(root: bytes, leaf: bytes, proof: list[Any]) -> bool:
            verifier = by_root.get(root)
            if verifier is None:
                verifier = by_root[root] = BatchVerifier(root)
            return verifier.verify(leaf, proof)

        verdicts: list[Verdict] = []
        for item in items:
            check = bundles.check_bundle_offline(item, prove)
            reasons = list(check.reasons)
            details = list(check.details)
            anchor = item.get("anchor") if isinstance(item, dict) else None
            if check.root is not None and Reason.MALFORMED not in reasons:
                verdicts.append(self._chain_verdict(check, reasons, details, anchor))
            else:
                verdicts.append(_verdict(reasons, details, check, anchor))
        return verdicts

    def verify_records(self, record_ids: Sequence[str]) -> list[Verdict]:
        """Verify stored records by id, through the same path as a consumer's bundles."""
        items: list[dict[str, Any]] = []
        unknown: set[int] = set()
        for i, rid in enumerate(record_ids):
            try:
                items.append(self.bundle(rid))
            except (NotFoundError, InvalidInputError):
                unknown.add(i)
                items.append({})
        verdicts = self.verify_bundles(items)
        return [
            Verdict("failed", (Reason.UNKNOWN_RECORD.value,), ("no such record",), rid)
            if i in unknown
            else v
            for i, (rid, v) in enumerate(zip(record_ids, verdicts, strict=True))
        ]

    def _chain_verdict(
        self,
        check: bundles.OfflineCheck,
        reasons: list[Reason],
        details: list[str],
        anchor: Any,
    ) -> Verdict:
        assert check.root is not None and check.lot_key is not None
        try:
            state = self.roots.get(check.root)
            findings = bundles.chain_findings(
                check,
                state,
                producer_active=self.roots.is_active_producer(check.producer)
                if check.producer
                else None,
                recalled=self.roots.is_recalled(check.lot_key),
                anchor_claimed=anchor is not None,
            )
            if state is not None and anchor is not None:
                findings += self._anchor_claims(state, anchor)
        except ChainError as exc:
            raise UnavailableError(f"the chain could not be read: {exc}") from exc
        for reason, detail in findings:
            reasons.append(reason)
            details.append(detail)
        return _verdict(reasons, details, check, anchor)

    def _anchor_claims(self, state: RootState, anchor: Any) -> list[tuple[Reason, str]]:
        """Compare the anchor a bundle claims (chain, contract, transaction, block, time)
        with the registry's: a verdict must not vouch for an anchor time the chain never
        recorded. The root's block time and transaction are read once per root."""
        if not isinstance(anchor, dict):
            return [(Reason.ANCHOR_MISMATCH, "the anchor is not an object")]
        facts = self._anchor_facts_memo.get(state.root)
        if facts is None:
            info = self.chain.get_anchor(state.root)
            tx = next(
                (
                    e.tx_hash
                    for e in self.chain.events_since(state.block_number, state.block_number)
                    if e.name == "RootAnchored" and bytes(e.args["root"]) == state.root
                ),
                None,
            )
            facts = (info.timestamp if info is not None else None, _hex(tx))
            _memo_put(self._anchor_facts_memo, state.root, facts)
        timestamp, tx_hash = facts
        claims = {
            "chainId": (anchor.get("chainId"), self.chain.chain_id),
            "contract": (_lower(anchor.get("contract")), self.chain.registry_address.lower()),
            "txHash": (_lower(anchor.get("txHash")), tx_hash),
            "blockNumber": (anchor.get("blockNumber"), state.block_number),
            "blockTimestamp": (anchor.get("blockTimestamp"), timestamp),
        }
        return [
            (Reason.ANCHOR_MISMATCH, f"the anchor claims {name} {claimed}; the chain says {real}")
            for name, (claimed, real) in claims.items()
            if claimed is not None and (claimed != real or type(claimed) is bool)
        ]

    # -- helpers ---------------------------------------------------------------------------

    def anchor_now(self) -> int:
        """Seal and anchor everything pending now (demo, tests); returns epochs anchored."""
        return len(self.pipeline.drain())

    def _check_active(self, producer: ProducerRow) -> None:
        if not producer.active:
            raise ForbiddenError("this producer is deactivated")

    @staticmethod
    def _address(address: str) -> bytes:
        try:
            return address_bytes(address, "address")
        except (RecordError, ValueError) as exc:
            raise InvalidInputError(f"not an Ethereum address: {address!r}") from exc

    @staticmethod
    def _record_key(record_id: str) -> bytes:
        text = record_id.removeprefix("0x")
        if len(text) != 64:
            raise NotFoundError(f"no record {record_id}")
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise NotFoundError(f"no record {record_id}") from None


def _verdict(
    reasons: list[Reason], details: list[str], check: bundles.OfflineCheck, anchor: Any
) -> Verdict:
    rid = _hex(check.leaf)
    names = tuple(r.value for r in reasons)
    status = bundles.verdict_status(reasons)
    return Verdict(status, names, tuple(details), rid, anchor if isinstance(anchor, dict) else None)


__all__ = [
    "Acknowledgement",
    "NodeError",
    "Submission",
    "TraceNode",
    "Verdict",
]
