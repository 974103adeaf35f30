"""One exception tree for the SDK, rooted at :class:`VntraceError`.

Callers catch :class:`VntraceError` for "anything the SDK raised", or a precise class:
:class:`ApiError` and its subclasses carry the gateway's RFC 9457 problem document,
:class:`TransportError` means the node (or the chain's JSON-RPC) could not be reached,
:class:`ChainReadError` that the chain answered something unusable. A record that
fails verification is *not* an exception: verification returns a result with reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import LotWritten


class VntraceError(Exception):
    """Base of every error the SDK raises."""


class ConfigurationError(VntraceError):
    """Missing or invalid client configuration (node URL, API key, signing key)."""


class KeystoreError(ConfigurationError):
    """A keystore cannot be read, decrypted or written (the message never holds a key)."""


class TransportError(VntraceError):
    """The request never got an HTTP answer: connection refused, timeout, TLS, DNS."""


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One field error from a problem document (``errors`` extension)."""

    field: str
    message: str
    code: str | None = None
    index: int | None = None
    location: str | None = None

    @classmethod
    def of(cls, item: Any) -> FieldIssue:
        if not isinstance(item, dict):
            return cls(field="", message=str(item))
        index = item.get("index")
        return cls(
            field=str(item.get("field") or ""),
            message=str(item.get("message") or ""),
            code=None if item.get("code") is None else str(item["code"]),
            index=index if isinstance(index, int) else None,
            location=None if item.get("in") is None else str(item["in"]),
        )

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ApiError(VntraceError):
    """The gateway answered with an error (problem+json fields kept as attributes)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type: str = "about:blank",
        title: str | None = None,
        instance: str | None = None,
        errors: tuple[FieldIssue, ...] = (),
        extensions: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {title or 'error'}: {detail}")
        self.status = status
        self.detail = detail
        self.type = type
        self.title = title
        self.instance = instance
        self.errors = errors
        self.extensions = extensions or {}
        self.retry_after = retry_after


class AuthError(ApiError):
    """401 or 403: no API key, an unknown or revoked one, or not allowed to do this."""


class NotFoundError(ApiError):
    """404: no such producer, lot, record or epoch."""


class ConflictError(ApiError):
    """409: conflicts with stored state (e.g. the registry refused a transaction)."""


class ValidationError(ApiError):
    """422: the request broke a rule; :attr:`errors` names each field (and batch index)."""


class RateLimitError(ApiError):
    """429: too many requests; :attr:`retry_after` says when to try again."""


class ServerError(ApiError):
    """5xx: the node failed or a dependency (database, chain) is unavailable."""


class ChainReadError(VntraceError):
    """The chain's JSON-RPC answered with an error or with data that cannot be decoded."""


class SigningError(VntraceError):
    """An event could not be prepared or signed (invalid under the profile, bad lot)."""

    def __init__(self, message: str, errors: tuple[FieldIssue, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors


class AnchorTimeoutError(VntraceError):
    """Records were still not anchored when ``wait_anchored`` gave up."""


class UploadError(VntraceError):
    """A batch of an upload failed; the first :attr:`stored` events are on the node.

    :attr:`cause` is the underlying error; field errors of a refused batch are
    re-indexed to positions in the whole upload.
    """

    def __init__(
        self,
        message: str,
        *,
        stored: int,
        total: int,
        written: LotWritten | None,
        cause: VntraceError,
        errors: tuple[FieldIssue, ...] = (),
    ) -> None:
        super().__init__(message)
        self.stored = stored
        self.total = total
        self.written = written
        self.cause = cause
        self.errors = errors


class VerificationError(VntraceError):
    """Raised by :meth:`VerificationResult.raise_for_status` when a record did not verify."""

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class DisclosureError(VerificationError):
    """Disclosed private values do not open the record's signed commitments (or the
    record served is not the one signed); :attr:`result` is the
    :class:`~vntrace.client.disclosures.DisclosureResult` with its ``failures``."""


__all__ = [
    "AnchorTimeoutError",
    "ApiError",
    "AuthError",
    "ChainReadError",
    "ConfigurationError",
    "ConflictError",
    "DisclosureError",
    "FieldIssue",
    "KeystoreError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "SigningError",
    "TransportError",
    "UploadError",
    "ValidationError",
    "VerificationError",
    "VntraceError",
]
