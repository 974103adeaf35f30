"""Records end to end: prepare (validate, commit, digest, leaf), sign, verify.

The SDK's signer and the node's intake share this module, so both sides compute the
same lot key, digest and leaf from the same rules:

    prepare_record(profile, gtin, lot, event)  ->  PreparedRecord   (signer side)
    PreparedRecord.sign(key, chain_id, registry)  ->  SignedRecord
    build_signed_record(gtin, lot, event, salt, ...)  ->  SignedRecord  (checked EPCIS events)
    verify_signed_record(profile, ...)  ->  SignedRecord             (node intake, verifiers)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .canonical import canonicalize
from .confidential import commit_private_fields
from .digest import as_bytes32, digest_canonical, new_salt, record_leaf
from .errors import IdentifierError, RecordError, RecordIntegrityError
from .identifiers import lot_key as compute_lot_key
from .identifiers import normalize_gtin, validate_lot
from .signing import (
    address_bytes,
    private_key_address,
    record_typed_data,
    sign_record,
    signature_bytes,
    to_checksum_address,
    verify_record_signature,
)
from .validation import ValidatedEvent, validate_event

if TYPE_CHECKING:
    from vntrace.node.profile import Profile


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """A record as anchored: the signed (committed) event and everything to verify it.

    ``disclosures`` (private values and their salts) are *not* part of the public record;
    they are kept here so the signer can hand them to the node, and are left out of
    :meth:`to_dict`.
    """

    gtin: str
    lot: str
    lot_key: bytes
    event: dict[str, Any]
    salt: bytes
    digest: bytes
    leaf: bytes
    producer: str
    signature: bytes
    chain_id: int
    registry: str
    disclosures: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    canonical: bytes = field(default=b"", repr=False, compare=False)
    """JCS of ``event`` when the verifier computed it (saves the node a second pass)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form (camelCase keys, 0x-hex bytes), without disclosures."""
        return {
            "gtin": self.gtin,
            "lot": self.lot,
            "lotKey": _hex(self.lot_key),
            "event": self.event,
            "salt": _hex(self.salt),
            "digest": _hex(self.digest),
            "leaf": _hex(self.leaf),
            "producer": self.producer,
            "signature": _hex(self.signature),
            "chainId": self.chain_id,
            "registry": self.registry,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignedRecord:
        """Parse :meth:`to_dict` output (shapes only: call :func:`verify_record` to check)."""
        try:
            return cls(
                gtin=normalize_gtin(data["gtin"]),
                lot=validate_lot(data["lot"]),
                lot_key=as_bytes32(data["lotKey"], "lotKey"),
                event=data["event"],
                salt=as_bytes32(data["salt"], "salt"),
                digest=as_bytes32(data["digest"], "digest"),
                leaf=as_bytes32(data["leaf"], "leaf"),
                producer=to_checksum_address(address_bytes(data["producer"], "producer")),
                signature=signature_bytes(data["signature"]),
                chain_id=data["chainId"],
                registry=to_checksum_address(address_bytes(data["registry"], "registry")),
            )
        except KeyError as exc:
            raise RecordError(f"record is missing {exc.args[0]!r}") from None
        except ValueError as exc:
            if isinstance(exc, RecordError):
                raise
            raise RecordError(f"malformed record: {exc}") from None


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """A validated record with private fields committed, digest and leaf computed: ready
    to be signed."""

    gtin: str
    lot: str
    lot_key: bytes
    event: dict[str, Any]
    """The event as signed: private fields replaced by commitments."""
    salt: bytes
    digest: bytes
    leaf: bytes
    disclosures: dict[str, dict[str, Any]]
    validated: ValidatedEvent

    @property
    def event_time(self) -> datetime:
        return self.validated.event_time

    def typed_data(self, chain_id: int, registry: str | bytes) -> dict[str, Any]:
        """EIP-712 typed data to sign with a wallet (``eth_signTypedData_v4``)."""
        return record_typed_data(chain_id, registry, self.lot_key, self.digest)

    def sign(self, private_key: Any, chain_id: int, registry: str | bytes) -> SignedRecord:
        """Sign with a local key (bytes, hex, eth-account LocalAccount or eth-keys key)."""
        signature = sign_record(private_key, chain_id, registry, self.lot_key, self.digest)
        return self.with_signature(signature, private_key_address(private_key), chain_id, registry)

    def with_signature(
        self, signature: bytes | str, producer: str, chain_id: int, registry: str | bytes
    ) -> SignedRecord:
        """Attach a signature made elsewhere (a wallet); it is checked before returning."""
        sig = signature_bytes(signature)
        checked = verify_record_signature(
            chain_id, registry, self.lot_key, self.digest, sig, producer
        )
        return SignedRecord(
            gtin=self.gtin,
            lot=self.lot,
            lot_key=self.lot_key,
            event=self.event,
            salt=self.salt,
            digest=self.digest,
            leaf=self.leaf,
            producer=checked,
            signature=sig,
            chain_id=chain_id,
            registry=to_checksum_address(address_bytes(registry, "registry")),
            disclosures=self.disclosures,
        )


RecordSigner = Callable[[int, str, bytes, bytes], bytes]
"""Signs ``(chain_id, registry, lot_key, digest)``: ``functools.partial(sign_record, key)``
or a custodial signer's ``sign``."""


def build_signed_record(
    gtin: str,
    lot: str,
    event: dict[str, Any],
    salt: bytes,
    *,
    producer: str,
    chain_id: int,
    registry: str,
    sign: RecordSigner,
) -> SignedRecord:
    """The signed record of an event already checked by its caller (an EPCIS event
    signed by the SDK, or by the node with a custodial key): JCS, digest, lot key and
    leaf as every signer computes them, then ``sign`` over ``(lot key, digest)``.

    One builder so the SDK and the node cannot drift apart; pure but for ``sign``
    (EIP-712 signatures are deterministic, RFC 6979). ``registry`` comes back EIP-55."""
    canonical = canonicalize(event)
    digest = digest_canonical(salt, canonical)
    key = compute_lot_key(gtin, lot)
    return SignedRecord(
        gtin=gtin,
        lot=lot,
        lot_key=key,
        event=event,
        salt=salt,
        digest=digest,
        leaf=record_leaf(key, digest),
        producer=producer,
        signature=sign(chain_id, registry, key, digest),
        chain_id=chain_id,
        registry=to_checksum_address(address_bytes(registry, "registry")),
        canonical=canonical,
    )


def _lot_identity(profile: Profile | None, gtin: str, lot: str) -> tuple[str, str, bytes]:
    gtin14 = normalize_gtin(gtin)
    if profile is not None and gtin14 not in profile.gtins:
        raise IdentifierError(
            f"GTIN {gtin14} is not a product of profile {profile.id} "
            f"(its GTINs: {', '.join(profile.gtins)})"
        )
    return gtin14, validate_lot(lot), compute_lot_key(gtin14, lot)


def prepare_record(
    profile: Profile,
    gtin: str,
    lot: str,
    event: dict[str, Any],
    salt: bytes | str | None = None,
    *,
    now: datetime | None = None,
    field_salts: dict[str, bytes] | None = None,
) -> PreparedRecord:
    """Validate ``event`` for the lot, commit its private fields, digest it, compute the leaf.

    ``salt`` (32 bytes) defaults to a fresh random one, as do the per-field salts of the
    private fields; pass them only to reproduce known-answer vectors.
    """
    gtin14, lot, key = _lot_identity(profile, gtin, lot)
    validated = validate_event(profile, event, now=now, private="either")
    committed, disclosures = commit_private_fields(
        event, profile.private_fields(validated.kind), salts=field_salts
    )
    canonical = canonicalize(committed) if disclosures else validated.canonical
    validated = dataclasses.replace(
        validated,
        event=committed,
        canonical=canonical,
        committed_fields=validated.private_fields,
    )
    salt_bytes = new_salt() if salt is None else as_bytes32(salt, "salt")
    digest = digest_canonical(salt_bytes, canonical)
    return PreparedRecord(
        gtin=gtin14,
        lot=lot,
        lot_key=key,
        event=committed,
        salt=salt_bytes,
        digest=digest,
        leaf=record_leaf(key, digest),
        disclosures=disclosures,
        validated=validated,
    )


def verify_signed_record(
    profile: Profile | None,
    *,
    gtin: str,
    lot: str,
    event: dict[str, Any],
    salt: bytes | str,
    producer: str | bytes,
    signature: bytes | str,
    chain_id: int,
    registry: str | bytes,
    lot_key: bytes | str | None = None,
    digest: bytes | str | None = None,
    leaf: bytes | str | None = None,
    now: datetime | None = None,
) -> SignedRecord:
    """Recompute lot key, digest and leaf from the record's contents and check the
    producer's signature; raise a :class:`RecordError` subclass on any mismatch.

    With a ``profile`` the event must also pass it with private fields committed (the
    node's intake); with ``None`` only the cryptography is checked (a verifier holding
    an old record whose profile has since changed). Claimed ``lot_key``, ``digest`` and
    ``leaf``, when given, must equal the recomputed ones.
    """
    gtin14, lot, key = _lot_identity(profile, gtin, lot)
    if lot_key is not None and as_bytes32(lot_key, "lot key") != key:
        raise RecordIntegrityError(f"lot key does not match GTIN {gtin14} and lot {lot!r}")
    if profile is not None:
        canonical = validate_event(profile, event, now=now, private="committed").canonical
    else:
        canonical = canonicalize(event)
    salt_bytes = as_bytes32(salt, "salt")
    computed = digest_canonical(salt_bytes, canonical)
    if digest is not None and as_bytes32(digest, "digest") != computed:
        raise RecordIntegrityError("digest does not match keccak256(salt || JCS(event))")
    computed_leaf = record_leaf(key, computed)
    if leaf is not None and as_bytes32(leaf, "leaf") != computed_leaf:
        raise RecordIntegrityError("leaf does not match (lot key, digest)")
    sig = signature_bytes(signature)
    checked = verify_record_signature(chain_id, registry, key, computed, sig, producer)
    return SignedRecord(
        gtin=gtin14,
        lot=lot,
        lot_key=key,
        event=event,
        salt=salt_bytes,
        digest=computed,
        leaf=computed_leaf,
        producer=checked,
        signature=sig,
        chain_id=chain_id,
        registry=to_checksum_address(address_bytes(registry, "registry")),
        canonical=canonical,
    )


def verify_record(
    record: SignedRecord, profile: Profile | None = None, *, now: datetime | None = None
) -> SignedRecord:
    """:func:`verify_signed_record` over a :class:`SignedRecord` (e.g. from ``from_dict``)."""
    return verify_signed_record(
        profile,
        gtin=record.gtin,
        lot=record.lot,
        event=record.event,
        salt=record.salt,
        producer=record.producer,
        signature=record.signature,
        chain_id=record.chain_id,
        registry=record.registry,
        lot_key=record.lot_key,
        digest=record.digest,
        leaf=record.leaf,
        now=now,
    )
