"""Exceptions of the EPCIS layer, all under :class:`EpcisError` (a :class:`RecordError`).

Each means "this input is not acceptable EPCIS for this node", never "the node is broken",
so the gateway maps them to 4xx problem details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vntrace.node.records.errors import RecordError


class EpcisError(RecordError):
    """Base class: an EPCIS event or document was refused."""


class MappingError(EpcisError):
    """A profile event cannot be mapped to EPCIS, or an EPCIS event back to the profile."""


class HashIdError(EpcisError):
    """An event lacks what the CBV 2.0 event hash ID needs (type, eventTime)."""


class DocumentTooLargeError(EpcisError):
    """A document is over the size limit; refused before parsing."""


@dataclass(frozen=True, slots=True)
class EventProblem:
    """One problem of one event in a document: which event, which rule, what is wrong.

    ``index`` is the position in ``epcisBody.eventList`` (``None``: the document itself);
    ``rule`` is a stable code (``schema``, ``vocabulary``, ``profile``, ``identifier`` ...).
    """

    index: int | None
    event_id: str | None
    rule: str
    message: str
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "eventID": self.event_id,
            "rule": self.rule,
            "path": self.path,
            "message": self.message,
        }


class DocumentValidationError(EpcisError):
    """An EPCIS document was refused; ``problems`` names every offending event and rule."""

    def __init__(self, problems: list[EventProblem]) -> None:
        self.problems: tuple[EventProblem, ...] = tuple(problems)
        head = "; ".join(
            f"event {p.index}: {p.rule}: {p.message}" if p.index is not None else p.message
            for p in self.problems[:5]
        )
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s) in EPCIS document: {head}{more}")

    def to_dicts(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.problems]
