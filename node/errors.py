"""The node's service-level errors, one tree under :class:`NodeError`.

The gateway maps each class to an HTTP status and an RFC 9457 problem type (with the
``extensions`` members and ``headers`` an error adds); the CLI prints them. Lower layers
(records, store, chain) have their own trees; the service translates what a caller can
act on into these. A feature's own errors join the tree by subclassing the kind their
status says (EPCIS subscriptions' ``NoSuchNameError`` is a :class:`NotFoundError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar


class NodeError(Exception):
    """Base of every error the node's service layer raises."""

    status = 500
    title = "Node error"
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Response headers the answer carries (a protocol's version headers, say)."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    @property
    def extensions(self) -> dict[str, Any]:
        """Members of the problem beyond RFC 9457's own (§3.2), e.g. ``epcisException``."""
        return {}


class InvalidInputError(NodeError):
    """The request is well-formed but its content breaks a rule (field errors attached)."""

    status = 422
    title = "Invalid input"


class NotFoundError(NodeError):
    """The producer, lot, record or epoch does not exist."""

    status = 404
    title = "Not found"


class ForbiddenError(NodeError):
    """The caller may not do this (another producer's lot, an inactive producer...)."""

    status = 403
    title = "Forbidden"


class ConflictError(NodeError):
    """The request conflicts with stored state (already registered, already recalled)."""

    status = 409
    title = "Conflict"


class UnavailableError(NodeError):
    """A dependency (database, chain) is unavailable; try again later."""

    status = 503
    title = "Service unavailable"
