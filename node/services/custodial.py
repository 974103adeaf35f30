"""Custodial keys: the node signs for a producer whose system only speaks EPCIS.

A plain EPCIS client has no vntrace SDK and no Ethereum key, so it cannot sign what it
captures. Its producer asks once for a custodial key; the node generates a secp256k1
key for that producer, keeps the private key sealed by its vault (AES-256-GCM with key
ids, the key's address as associated data, as disclosures are sealed), and signs that
producer's unsigned captures with it: the same EIP-712 ``Record(lot, digest)`` a
producer signs. Such a record is *signed by the node for the producer*, never read as
signed by the producer: its bundle names the custodian (``signer``), every verdict
says ``signed_by="custodial"``, and which custodians sign for which producer the node
states, signed with its Ed25519 identity (:mod:`vntrace.node.custodians`).

The private key never leaves this module: not in a response, an error or a log line.
Rotation is a new key after revoking the old one; a revoked custodian is no longer in
the statement, so the records it signed stop verifying (revocation means the key is
not trusted any more). docs/epcis.md §6, docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from eth_account import Account

from vntrace.node.custodians import issue_statement
from vntrace.node.errors import NotFoundError, UnavailableError
from vntrace.node.records import sign_record
from vntrace.node.records.signing import address_bytes, private_key_address, to_checksum_address
from vntrace.node.store import Store
from vntrace.node.store.clock import utc_now
from vntrace.node.store.types import CustodialKeyRow, ProducerRow
from vntrace.node.vault import VaultError

from .context import NodeContext

_ASSOCIATED = b"vntrace-custodial-key|"


def how_to_get_one(producer: ProducerRow) -> str:
    """What a refusal tells a producer without a custodial key."""
    return (
        f"POST /v1/producers/{to_checksum_address(producer.address)}/custodial-key "
        "(the producer's API key) gives it a key the node signs with for it"
    )


@dataclass(frozen=True, slots=True)
class CustodialSigner:
    """Signs records with one producer's custodial key (for one request; not kept)."""

    producer_id: int
    address: bytes
    _key: bytes = field(repr=False)

    @property
    def custodian(self) -> str:
        return to_checksum_address(self.address)

    def sign(self, chain_id: int, registry: str, lot_key: bytes, digest: bytes) -> bytes:
        """The EIP-712 ``Record(lot, digest)`` signature, 65 bytes, as producers make."""
        return sign_record(self._key, chain_id, registry, lot_key, digest)

    def derive(self, data: bytes) -> bytes:
        """32 bytes only this node can compute for ``data`` (HMAC-SHA256 under the key):
        the salts of the events it signs, so a retried event gets the same record."""
        return hmac.new(self._key, b"vntrace-custodial-salt|" + data, hashlib.sha256).digest()


def registered_custodians(store: Store, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(producer, custodian)`` address pairs hold: the custodian is an unrevoked
    key of that producer. One store read; the pairs come back as lower-case ``0x`` hex."""
    wanted: dict[bytes, set[str]] = {}
    for producer, custodian in pairs:
        try:
            wanted.setdefault(address_bytes(custodian), set()).add(producer.lower())
        except ValueError:
            continue
    if not wanted:
        return set()
    rows = store.custodial_keys_by_address(list(wanted))
    out: set[tuple[str, str]] = set()
    owners: dict[int, str] = {}
    for address, row in rows.items():
        if row.revoked_at is not None:
            continue
        owner = owners.get(row.producer_id)
        if owner is None:
            found = store.get_producer(row.producer_id)
            owner = owners[row.producer_id] = "0x" + found.address.hex() if found else ""
        for producer in wanted[address]:
            if producer == owner:
                out.add((producer, "0x" + address.hex()))
    return out


class CustodialService:
    """Creates, lists, states and uses the keys the node holds for producers."""

    def __init__(self, ctx: NodeContext) -> None:
        self._ctx = ctx

    def create(self, producer: ProducerRow) -> tuple[str, bool]:
        """The producer's active custodian address, made now if it has none:
        ``(address, created)``. Idempotent: one active key per producer."""
        existing = self._ctx.store.active_custodial_key(producer.id)
        if existing is not None:
            return to_checksum_address(existing.address), False
        account = Account.create()
        raw = bytes(account.key)
        address = address_bytes(account.address)
        vault = self._ctx.vault
        sealed = vault.encrypt(raw, _ASSOCIATED + address)
        row, created = self._ctx.store.add_custodial_key(producer.id, address, sealed, vault.active)
        return to_checksum_address(row.address), created

    def revoke(self, producer: ProducerRow, custodian: str) -> None:
        """Stop signing with (and vouching for) one of the producer's custodial keys."""
        address = address_bytes(custodian, "custodian")
        row = self._ctx.store.custodial_keys_by_address([address]).get(address)
        if row is None or row.producer_id != producer.id:
            raise NotFoundError(f"producer has no custodial key {custodian}")
        self._ctx.store.revoke_custodial_key(address)

    def custodians(self, producer: ProducerRow) -> list[str]:
        """The addresses that sign for the producer (revoked ones left out), oldest first."""
        return [
            to_checksum_address(k.address)
            for k in self._ctx.store.list_custodial_keys(producer.id)
            if k.revoked_at is None
        ]

    def statement(self, producer: ProducerRow) -> dict[str, object]:
        """The node's signed statement of the producer's custodians
        (:func:`vntrace.node.custodians.issue_statement`)."""
        chain = self._ctx.chain
        return issue_statement(
            self._ctx.identity,
            producer=to_checksum_address(producer.address),
            custodians=self.custodians(producer),
            chain_id=chain.chain_id,
            registry=chain.registry_address,
            issued_at=utc_now(),
        )

    def signer(self, producer: ProducerRow) -> CustodialSigner | None:
        """A signer with the producer's active custodial key, or ``None`` if it has none."""
        row = self._ctx.store.active_custodial_key(producer.id)
        return None if row is None else self._open(row)

    def sign(self, producer: ProducerRow, lot_key: bytes, digest: bytes) -> tuple[bytes, str]:
        """Sign ``Record(lot_key, digest)`` with the producer's custodial key:
        ``(signature, custodian address)``."""
        signer = self.signer(producer)
        if signer is None:
            raise NotFoundError(f"the producer has no custodial key: {how_to_get_one(producer)}")
        chain = self._ctx.chain
        return signer.sign(chain.chain_id, chain.registry_address, lot_key, digest), (
            signer.custodian
        )

    def registered(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """:func:`registered_custodians` over this node's store."""
        return registered_custodians(self._ctx.store, pairs)

    def _open(self, row: CustodialKeyRow) -> CustodialSigner:
        try:
            raw = self._ctx.vault.decrypt(row.sealed_key, _ASSOCIATED + row.address)
        except VaultError as exc:  # the message names the key id, never key material
            raise UnavailableError(f"the custodial key cannot be opened: {exc}") from None
        if address_bytes(private_key_address(raw)) != row.address:
            raise UnavailableError("the custodial key does not match its address")
        return CustodialSigner(row.producer_id, row.address, raw)
