"""Error declarations (EPCIS 2.0 §7.4.1.4): corrections, recognised and never deduplicated.

An error declaration is a copy of the erroneous event with an ``errorDeclaration``
(``declarationTime``, optional CBV ``reason``, optional ``correctiveEventIDs``). Because
the CBV 2.0 §8.9 hash ID leaves ``errorDeclaration`` out, it has the *same* event hash ID
as the event it declares wrong, and by §7.4.1.4 the same ``eventID``: so neither may be a
de-duplication key on its own. :func:`dedup_key` is the key that keeps both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import EpcisError

CBV_ERROR_REASONS = frozenset({"did_not_occur", "incorrect_data"})
_ER_WEB = "https://ref.gs1.org/cbv/ER-"
_ER_URN = "urn:epcglobal:cbv:er:"


@dataclass(frozen=True, slots=True)
class Correction:
    """What an error declaration says about the event it corrects."""

    corrected_event_id: str | None
    """The declared event's ``eventID`` (equal to the erroneous event's)."""
    declaration_time: str
    reason: str | None
    corrective_event_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "correctedEventID": self.corrected_event_id,
            "declarationTime": self.declaration_time,
            "reason": self.reason,
            "correctiveEventIDs": list(self.corrective_event_ids),
        }


def correction_of(event: dict[str, Any]) -> Correction | None:
    """The :class:`Correction` an event declares, ``None`` for an ordinary event.

    Raises :class:`EpcisError` on a malformed declaration (no declarationTime, a reason
    outside CBV 2.0 §7.5, non-string corrective IDs).
    """
    decl = event.get("errorDeclaration")
    if decl is None:
        return None
    if not isinstance(decl, dict):
        raise EpcisError("errorDeclaration must be an object")
    when = decl.get("declarationTime")
    if not isinstance(when, str):
        raise EpcisError("errorDeclaration needs a declarationTime")
    reason = decl.get("reason")
    if reason is not None:
        word = str(reason)
        for prefix in (_ER_WEB, _ER_URN):
            if word.startswith(prefix):
                word = word[len(prefix) :]
        if word not in CBV_ERROR_REASONS:
            raise EpcisError(
                f"errorDeclaration reason {str(reason)[:60]!r} is not a CBV 2.0 error reason "
                f"({', '.join(sorted(CBV_ERROR_REASONS))})"
            )
        reason = word
    ids = decl.get("correctiveEventIDs", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise EpcisError("correctiveEventIDs must be an array of event IDs")
    event_id = event.get("eventID")
    return Correction(
        corrected_event_id=event_id if isinstance(event_id, str) else None,
        declaration_time=when,
        reason=reason,
        corrective_event_ids=tuple(ids),
    )


def dedup_key(hash_id: str, event: dict[str, Any]) -> tuple[str, str]:
    """``(hash ID, "")`` for an ordinary event, ``(hash ID, declarationTime)`` for a
    correction: a resubmitted event collapses, a correction never collapses into the
    event it corrects (nor into an earlier correction declared at another time)."""
    decl = event.get("errorDeclaration")
    when = decl.get("declarationTime") if isinstance(decl, dict) else None
    return (hash_id, str(when) if when is not None else "")
