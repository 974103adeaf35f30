"""Exceptions of the records layer: one base class, so callers can catch every refusal.

Every error is a :class:`ValueError` too, because each one means "this input is not
acceptable", never "the node is broken".
"""

from __future__ import annotations

from dataclasses import dataclass


class RecordError(ValueError):
    """Base class: an identifier, event, record or signature was refused."""


class IdentifierError(RecordError):
    """A GTIN, lot number, lot key or Digital Link URI is malformed."""


class CanonicalizationError(RecordError):
    """A value has no RFC 8785 (JCS) form, or exceeds the node's size and depth limits."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in an event: where (a JSON path such as ``geolocation.coordinates[0]``),
    why (a sentence for people) and a stable ``code`` for programs."""

    path: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.path or '(event)'}: {self.message}"


class EventValidationError(RecordError):
    """An event breaks its product profile; ``errors`` lists every problem found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        count = len(self.errors)
        head = "; ".join(str(e) for e in self.errors[:10])
        more = f" (and {count - 10} more)" if count > 10 else ""
        super().__init__(f"{count} invalid field{'s' if count != 1 else ''}: {head}{more}")

    def to_dicts(self) -> list[dict[str, str]]:
        """The errors as plain dicts (for RFC 9457 problem details)."""
        return [{"path": e.path, "message": e.message, "code": e.code} for e in self.errors]


class SignatureError(RecordError):
    """A producer signature is malformed, malleable (high s) or recovers to someone else."""


class ConfidentialFieldError(RecordError):
    """A private field cannot be committed or opened (bad path, salt or disclosure)."""


class RecordIntegrityError(RecordError):
    """A record's digest, leaf or lot key does not match what its contents recompute to."""
