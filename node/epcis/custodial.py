"""Preparing an unsigned EPCIS event for the node to sign for its producer.

A plain EPCIS client (no vntrace SDK, no key) sends events without ``vnt:signature``;
the node signs them with a custodial key it holds for the producer (docs/epcis.md §6).
Before that, the node does to the event what the SDK does before signing
(``client/epcis.py``): private profile fields in clear (``vnt:price``) are committed
(their values and salts are returned, to be sealed in the vault), an ``eventID`` that
was the hash ID of the event in clear becomes the committed event's, and a missing
``eventID`` becomes the event's CBV 2.0 hash ID (§8.9: a hash ID is a valid eventID).

Salts are not random here but derived with HMAC-SHA256 under a secret only the node
has (``derive``, keyed by the custodial key): unpredictable to anyone else, as a salt
must be, and the same for the same event, so a plain client that retries a capture gets
its stored records back (``duplicate: true``) instead of a second copy, also when the
retry carries the eventIDs the node answered the first time (a hash ID is content, not
part of what field salts are derived from).

Pure: dicts in, dicts out. Anything malformed is left as it is for the capture's
validation to name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vntrace.node.records import RecordError, canonicalize, commit_private_fields

from .errors import EpcisError
from .hashid import event_hash_id, namespaces_of
from .mapping import EXT_PREFIX, from_epcis, with_context

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

Derive = Callable[[bytes], bytes]
"""``label-and-data -> 32 secret bytes`` (HMAC-SHA256 under the node's custodial key)."""


def prepare_unsigned_event(
    profile: Profile, event: dict[str, Any], context: Any, derive: Derive
) -> tuple[dict[str, Any], dict[str, Any], bytes | None]:
    """``(standalone event to sign, disclosures, salt)`` for an unsigned event of a
    capture document whose ``@context`` is ``context``. The salt is ``None`` when the
    event could not be canonicalised (validation will say why)."""
    standalone = with_context(dict(event), context)
    try:
        ns = namespaces_of(standalone.get("@context"))
        clear = canonicalize(_content(standalone))
    except (EpcisError, RecordError):
        return standalone, {}, None
    committed, disclosures = standalone, {}
    try:
        kind = from_epcis(profile, standalone).event["kind"]
    except (EpcisError, RecordError, KeyError):
        kind = None
    if kind is not None:
        paths = [f"{EXT_PREFIX}:{f}" for f in profile.private_fields(kind)]
        present = [p for p in paths if p in standalone]
        if present:
            salts = {p: derive(b"field|" + p.encode() + b"|" + clear) for p in present}
            try:
                committed, disclosures = commit_private_fields(standalone, present, salts=salts)
            except RecordError:
                committed, disclosures = standalone, {}
            try:
                if disclosures and standalone.get("eventID") == event_hash_id(standalone, ns):
                    committed["eventID"] = event_hash_id(committed, ns)
            except (EpcisError, TypeError, ValueError, KeyError):
                return committed, disclosures, None
    try:
        if committed.get("eventID") is None:
            committed = {**committed, "eventID": event_hash_id(committed, ns)}
        salt = derive(b"salt|" + canonicalize(committed))
    except (EpcisError, TypeError, ValueError, KeyError):  # RecordError is a ValueError
        return committed, disclosures, None
    return committed, disclosures, salt


def _content(event: dict[str, Any]) -> dict[str, Any]:
    """The event without a CBV hash ID as its eventID, what field salts are derived from.

    A hash ID only restates the event's content (capture refuses one that is not the
    signed event's), so the same event sent without an eventID, with its own hash ID in
    clear, or with the hash ID the node answered (the committed event's) gets the same
    salts and therefore the same record: a retry is a duplicate, not a refusal."""
    event_id = event.get("eventID")
    if isinstance(event_id, str) and event_id.startswith("ni:///"):
        return {k: v for k, v in event.items() if k != "eventID"}
    return event


__all__ = ["Derive", "prepare_unsigned_event"]
