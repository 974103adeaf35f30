"""SDK side of EPCIS 2.0 capture: sign events and wrap them in a capture document.

What the producer signs is the EPCIS event itself, standalone form (``@context`` and
``eventID`` included), as the node stores and anchors it (docs/epcis.md §5); each
event of the capture document carries its signature in ``vnt:signature``, which is
not signed (§6). Two inputs:

- :func:`profile_events_document`: the profile's own events of one lot (the SDK maps
  them to EPCIS deterministically, committing private fields first);
- :func:`sign_epcis_document`: an EPCIS document a partner system produced (GS1's
  shape), signed as it is, each event's lot read from its ``epcClass``; a private
  profile field it holds in clear (``vnt:price``) is committed first, as for profile
  events, its value and salt travelling to the node sealed.

Both need the node's chain id and registry (``client.info()``) and the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from vntrace.node.epcis.errors import EpcisError
from vntrace.node.epcis.hashid import event_hash_id, namespaces_of
from vntrace.node.epcis.mapping import EXT_PREFIX, epcis_document, from_epcis, with_context
from vntrace.node.epcis.records import (
    SIGNATURE_FIELD,
    attach_signature,
    prepare_epcis_record,
    validate_epcis_event,
)
from vntrace.node.records import (
    RecordError,
    SignedRecord,
    as_bytes32,
    build_signed_record,
    commit_private_fields,
    new_salt,
    private_key_address,
    sign_record,
)

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

    from .signer import ProducerSigner

__all__ = [
    "is_signed",
    "profile_events_document",
    "sign_document_with",
    "sign_epcis_document",
    "sign_epcis_event",
]


def _without(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("@context") == context:
        return {k: v for k, v in event.items() if k != "@context"}
    return event


def profile_events_document(
    profile: Profile,
    gtin: str,
    lot: str,
    events: Sequence[dict[str, Any]],
    private_key: Any,
    *,
    chain_id: int,
    registry: str,
    creation_date: datetime | None = None,
    disclose: bool = True,
) -> dict[str, Any]:
    """A signed capture document of profile events of one lot (EPCIS 2.0 JSON-LD).

    Private fields are committed in the events; with ``disclose`` (the default, as for
    ``/v1/lots``) their values and salts travel in the envelope
    (``vnt:signature.disclosures``) so the node keeps them sealed for auditors. Such a
    document holds confidential values: send it to the node only (``disclose=False``
    withholds them; keep your own copy to prove the values later)."""
    signed = []
    for event in events:
        record = prepare_epcis_record(profile, gtin, lot, dict(event)).sign(
            private_key, chain_id, registry
        )
        with_envelope = attach_signature(record)
        if disclose and record.disclosures:
            with_envelope[SIGNATURE_FIELD] = {
                **with_envelope[SIGNATURE_FIELD],
                "disclosures": record.disclosures,
            }
        signed.append(with_envelope)
    return epcis_document(signed, profile, creation_date=creation_date)


def sign_epcis_event(
    profile: Profile,
    event: dict[str, Any],
    private_key: Any,
    *,
    chain_id: int,
    registry: str,
    salt: bytes | str | None = None,
    now: datetime | None = None,
) -> SignedRecord:
    """Sign one standalone EPCIS event (with its ``@context``) as the node will check it:
    GS1 schema, CBV vocabulary, the profile (private fields must already be
    commitments), the lot from its ``epcClass``."""
    event = {k: v for k, v in event.items() if k != SIGNATURE_FIELD}
    captured = validate_epcis_event(profile, event, now=now)
    salt_bytes = new_salt() if salt is None else as_bytes32(salt, "salt")
    return build_signed_record(
        captured.gtin,
        captured.lot,
        event,
        salt_bytes,
        producer=private_key_address(private_key),
        chain_id=chain_id,
        registry=registry,
        sign=partial(sign_record, private_key),
    )


def _commit_private(
    profile: Profile, event: dict[str, Any], ns: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``event`` with the profile's private fields (``vnt:<field>``) committed, and their
    disclosures. An ``eventID`` that was the hash ID of the event in clear is derived,
    not assigned: it becomes the committed event's hash ID."""
    try:
        kind = from_epcis(profile, event).event["kind"]
    except EpcisError:
        return event, {}  # not this profile's shape: the node says why
    paths = [f"{EXT_PREFIX}:{f}" for f in profile.private_fields(kind)]
    if not any(p in event for p in paths):
        return event, {}
    committed, disclosures = commit_private_fields(event, paths)
    if disclosures and event.get("eventID") == event_hash_id(event, ns):
        committed["eventID"] = event_hash_id(committed, ns)
    return committed, disclosures


def sign_epcis_document(
    document: dict[str, Any],
    profile: Profile,
    private_key: Any,
    *,
    chain_id: int,
    registry: str,
    set_event_ids: bool = False,
    disclose: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``document`` with every event signed (``vnt:signature`` added).

    An event without ``eventID`` gets its CBV 2.0 hash ID (CBV 2.0 §8.9), so partners
    can find it; with ``set_event_ids`` an existing ``ni:`` eventID that is not the
    event's hash ID (GS1's examples carry illustrative ones) is replaced too, otherwise
    such an event is refused, as the node would refuse it. Private profile fields in
    clear are committed before signing; with ``disclose`` (the default) their values
    and salts travel in the envelope for the node to seal, as
    :func:`profile_events_document` does.
    """
    context = document.get("@context")
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise EpcisError("not an EPCISDocument with epcisBody.eventList")
    out = []
    for i, raw in enumerate(events):
        if not isinstance(raw, dict):
            raise EpcisError(f"event {i} is not an object")
        event = with_context({k: v for k, v in raw.items() if k != SIGNATURE_FIELD}, context)
        ns = namespaces_of(event.get("@context"))
        event, disclosures = _commit_private(profile, event, ns)
        current = event.get("eventID")
        if current is None or (
            set_event_ids and isinstance(current, str) and current.startswith("ni:///")
        ):
            event["eventID"] = event_hash_id(event, ns)
        try:
            record = sign_epcis_event(
                profile, event, private_key, chain_id=chain_id, registry=registry, now=now
            )
        except RecordError as exc:
            raise EpcisError(f"event {i}: {exc}") from None
        signed = attach_signature(record)
        if disclose and disclosures:
            signed[SIGNATURE_FIELD] = {**signed[SIGNATURE_FIELD], "disclosures": disclosures}
        out.append(_without(signed, context))
    return {**document, "epcisBody": {**body, "eventList": out}}


def sign_document_with(
    signer: ProducerSigner, document: dict[str, Any], *, set_event_ids: bool = False
) -> dict[str, Any]:
    """:func:`sign_epcis_document` with a :class:`~vntrace.client.ProducerSigner`'s key,
    deployment and profile."""
    return sign_epcis_document(
        document,
        signer.profile,
        signer._key,  # same package: the signer never hands its key out publicly
        chain_id=signer.chain_id,
        registry=signer.registry,
        set_event_ids=set_event_ids,
    )


def is_signed(document: dict[str, Any]) -> bool:
    """Whether every event of a capture document carries its ``vnt:signature``."""
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    return bool(events) and all(isinstance(e, dict) and SIGNATURE_FIELD in e for e in events or [])
