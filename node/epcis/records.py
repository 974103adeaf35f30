"""EPCIS records: what a producer signs is the EPCIS 2.0 event itself.

Same cryptography as :mod:`vntrace.node.records` (shared/DESIGN.md, "Hashing and
proofs"): ``digest = keccak256(salt || JCS(epcis_event))`` with RFC 8785 JCS, the OZ leaf
over ``(lot_key, digest)``, the EIP-712 ``Record(bytes32 lot, bytes32 digest)``
signature; private fields are committed *before* mapping, so the EPCIS event carries
``{"commitment": ...}`` under ``vnt:<field>``. Only the event changes language, so
:func:`vntrace.node.bundles.check_bundle_offline` verifies both record forms unchanged;
a bundle says which form its ``event`` is in with ``version`` (:data:`BUNDLE_VERSION_EPCIS`).

A signature travels with an event of a capture document in the extension field
:data:`SIGNATURE_FIELD`, which is *not* part of what is signed (it is removed before
JCS). Events that arrive without it (plain EPCIS clients) are signed by a key the node
holds for that producer: :data:`SignerKind` makes the difference visible (docs/epcis.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from vntrace.node.records import (
    PreparedRecord,
    RecordIntegrityError,
    SignedRecord,
    as_bytes32,
    canonicalize,
    commit_private_fields,
    digest_canonical,
    lot_key,
    new_salt,
    normalize_gtin,
    record_leaf,
    validate_event,
    validate_lot,
    verify_signed_record,
)

from .errors import EpcisError
from .hashid import EPCIS_TYPES, event_hash_id
from .mapping import EXT_PREFIX, epcis_document, from_epcis, profile_namespace, to_epcis
from .validate import CapturedEvent, validate_document

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

BUNDLE_VERSION_PROFILE = 1
"""Bundles whose ``event`` is the profile's own event object (records before EPCIS)."""
BUNDLE_VERSION_EPCIS = 2
"""Bundles whose ``event`` is an EPCIS 2.0 JSON-LD event (this module)."""
SIGNATURE_FIELD = f"{EXT_PREFIX}:signature"
"""Extension field carrying the producer's signature on a captured event (not signed)."""
SignerKind = Literal["producer", "custodial"]
"""``producer``: signed with the producer's own key. ``custodial``: signed by the node
with a key it holds for the producer (a plain EPCIS client sent the event)."""


@dataclass(frozen=True, slots=True)
class SignatureEnvelope:
    """The content of :data:`SIGNATURE_FIELD`: everything but the event to check it."""

    producer: str
    salt: str
    signature: str
    chain_id: int
    registry: str
    signer: SignerKind = "producer"

    def to_dict(self) -> dict[str, Any]:
        return {
            "producer": self.producer,
            "salt": self.salt,
            "signature": self.signature,
            "chainId": self.chain_id,
            "registry": self.registry,
            "signer": self.signer,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SignatureEnvelope:
        if not isinstance(data, dict):
            raise EpcisError(f"{SIGNATURE_FIELD} must be an object")
        try:
            signer = data.get("signer", "producer")
            if signer not in ("producer", "custodial"):
                raise EpcisError(f"{SIGNATURE_FIELD}.signer must be producer or custodial")
            return cls(
                producer=str(data["producer"]),
                salt=str(data["salt"]),
                signature=str(data["signature"]),
                chain_id=int(data["chainId"]),
                registry=str(data["registry"]),
                signer=signer,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, EpcisError):
                raise
            raise EpcisError(f"{SIGNATURE_FIELD} is malformed: {exc}") from None


def split_signature(event: dict[str, Any]) -> tuple[dict[str, Any], SignatureEnvelope | None]:
    """``(the event as signed, its envelope or None)``: the envelope field removed."""
    if SIGNATURE_FIELD not in event:
        return event, None
    signed = {k: v for k, v in event.items() if k != SIGNATURE_FIELD}
    return signed, SignatureEnvelope.from_dict(event[SIGNATURE_FIELD])


def attach_signature(record: SignedRecord, signer: SignerKind = "producer") -> dict[str, Any]:
    """The record's EPCIS event with its signature envelope, for a capture document."""
    envelope = SignatureEnvelope(
        producer=record.producer,
        salt="0x" + record.salt.hex(),
        signature="0x" + record.signature.hex(),
        chain_id=record.chain_id,
        registry=record.registry,
        signer=signer,
    )
    return {**record.event, SIGNATURE_FIELD: envelope.to_dict()}


def prepare_epcis_record(
    profile: Profile,
    gtin: str,
    lot: str,
    event: dict[str, Any],
    salt: bytes | str | None = None,
    *,
    now: datetime | None = None,
    field_salts: dict[str, bytes] | None = None,
) -> PreparedRecord:
    """Signer side: validate a profile event, commit its private fields, map it to EPCIS,
    digest the EPCIS event. The result signs exactly like a v1 record
    (:meth:`PreparedRecord.sign`); its ``event`` is the EPCIS event and its disclosure
    paths are the EPCIS keys (``vnt:price``)."""
    gtin14, lot_number = normalize_gtin(gtin), validate_lot(lot)
    validated = validate_event(profile, event, now=now, private="either")
    committed, disclosures = commit_private_fields(
        event, profile.private_fields(validated.kind), salts=field_salts
    )
    epcis = to_epcis(profile, gtin14, lot_number, committed)
    canonical = canonicalize(epcis)
    salt_bytes = new_salt() if salt is None else as_bytes32(salt, "salt")
    digest = digest_canonical(salt_bytes, canonical)
    key = lot_key(gtin14, lot_number)
    return PreparedRecord(
        gtin=gtin14,
        lot=lot_number,
        lot_key=key,
        event=epcis,
        salt=salt_bytes,
        digest=digest,
        leaf=record_leaf(key, digest),
        disclosures={f"{EXT_PREFIX}:{k}": v for k, v in disclosures.items()},
        validated=dataclasses.replace(
            validated,
            event=epcis,
            canonical=canonical,
            committed_fields=validated.private_fields,
        ),
    )


def validate_epcis_event(
    profile: Profile,
    event: dict[str, Any],
    *,
    gtin: str | None = None,
    lot: str | None = None,
    now: datetime | None = None,
) -> CapturedEvent:
    """Node intake of one signed EPCIS event: GS1 schema, CBV vocabulary, profile rules
    with private fields committed, the lot equal to the record's, and an ``ni:`` eventID
    equal to the event's CBV 2.0 hash ID (anything else there means it was edited)."""
    doc = {
        "@context": event.get("@context", []),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "1970-01-01T00:00:00Z",
        "epcisBody": {"eventList": [event]},
    }
    (captured,) = validate_document(doc, profile, now=now, private="committed")
    if gtin is not None and lot is not None:
        claimed = (normalize_gtin(gtin), validate_lot(lot))
        if (captured.gtin, captured.lot) != claimed:
            raise RecordIntegrityError(
                f"the event's epcClass names lot {captured.lot!r} of {captured.gtin}, "
                f"not the record's {claimed[1]!r} of {claimed[0]}"
            )
    event_id = event.get("eventID")
    if isinstance(event_id, str) and event_id.startswith("ni:///"):
        computed = event_hash_id(event, {EXT_PREFIX: profile_namespace(profile)})
        if event_id != computed:
            raise RecordIntegrityError(
                "eventID is a CBV 2.0 hash ID but not this event's (was the event edited?)"
            )
    return captured


def verify_epcis_record(
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
    """:func:`vntrace.node.records.verify_signed_record` for an EPCIS event: with a
    profile, the event first passes :func:`validate_epcis_event`; the cryptography is
    the same code path (JCS of the event as given)."""
    if profile is not None:
        validate_epcis_event(profile, event, gtin=gtin, lot=lot, now=now)
    return verify_signed_record(
        None,
        gtin=gtin,
        lot=lot,
        event=event,
        salt=salt,
        producer=producer,
        signature=signature,
        chain_id=chain_id,
        registry=registry,
        lot_key=lot_key,
        digest=digest,
        leaf=leaf,
    )


def bundle_version(bundle: dict[str, Any]) -> int:
    """1 (profile event; also bundles without ``version``) or 2 (EPCIS event)."""
    version = bundle.get("version", BUNDLE_VERSION_PROFILE)
    if version not in (BUNDLE_VERSION_PROFILE, BUNDLE_VERSION_EPCIS):
        raise EpcisError(f"unknown bundle version {str(version)[:20]!r}")
    return int(version)


def bundle_profile_event(profile: Profile, bundle: dict[str, Any]) -> dict[str, Any]:
    """A bundle's event in the profile's terms, whatever its version (for display)."""
    event = bundle.get("event")
    if not isinstance(event, dict):
        raise EpcisError("bundle has no event object")
    if bundle_version(bundle) == BUNDLE_VERSION_PROFILE:
        return event
    return from_epcis(profile, event).event


def bundle_epcis_event(profile: Profile, bundle: dict[str, Any]) -> dict[str, Any]:
    """A bundle's event as EPCIS 2.0, whatever its version. For a v1 bundle this is a
    *derived* view (what was signed is the profile event), for v2 the signed event."""
    event = bundle.get("event")
    if not isinstance(event, dict):
        raise EpcisError("bundle has no event object")
    if bundle_version(bundle) == BUNDLE_VERSION_EPCIS:
        return event
    return to_epcis(profile, str(bundle["gtin"]), str(bundle["lot"]), event)


def event_version(event: dict[str, Any]) -> int:
    """Which form a stored event is in: 1 (profile event, has ``kind``) or 2 (EPCIS)."""
    if "kind" in event:
        return BUNDLE_VERSION_PROFILE
    if event.get("type") in EPCIS_TYPES:
        return BUNDLE_VERSION_EPCIS
    raise EpcisError("neither a profile event nor an EPCIS event")


def profile_provenance(profile: Profile, provenance: dict[str, Any]) -> dict[str, Any]:
    """A lot's provenance with every EPCIS (v2) record's event read in the profile's
    terms, for what shows or checks profile fields (the consumer page, EUDR); v1
    records, and a provenance with none, come back as they are. An EPCIS event that
    does not map onto the profile keeps its signed form (its kind is then unknown).
    What was signed, digested and proven is always ``provenance`` itself."""
    records = provenance.get("records", [])
    if all("kind" in (r.get("event") or {}) for r in records):
        return provenance
    out = []
    for record in records:
        event = record.get("event")
        if isinstance(event, dict) and "kind" not in event:
            with contextlib.suppress(EpcisError):
                record = {**record, "event": from_epcis(profile, event).event}
        out.append(record)
    return {**provenance, "records": out}


def lot_document(
    profile: Profile,
    provenance: dict[str, Any],
    *,
    bundle_url: str = "/v1/records/{recordId}/bundle",
) -> dict[str, Any]:
    """A lot's provenance (``ProvenanceService.provenance``) as an EPCISDocument.

    Events are exactly as signed for v2 records and derived for v1 ones; the
    document-level extension ``vnt:records`` says, per event, which record it is, its
    form, and where its proof bundle is, so a partner verifies what it pulled without
    anything being added to the events themselves.
    """
    events: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    for record in provenance["records"]:
        event = record["event"]
        version = event_version(event)
        bundle = {
            "version": version,
            "gtin": provenance["gtin"],
            "lot": provenance["lot"],
            "event": event,
        }
        mapped = bundle_epcis_event(profile, bundle)
        events.append(mapped)
        index.append(
            {
                "eventID": mapped.get("eventID"),
                "recordId": record["recordId"],
                "version": version,
                "status": record["status"],
                "bundle": bundle_url.format(recordId=record["recordId"]),
            }
        )
    doc = epcis_document(events, profile)
    doc[f"{EXT_PREFIX}:records"] = index
    return doc
