"""Errors of the transparency log, one tree under :class:`TlogError`.

Stdlib only (like :mod:`vntrace.node.errors`, which it extends), so the pure verifier
imports without the server's dependencies. The gateway maps them through
``NodeError.status``: a bad note or proof is 422, an unknown size 404.
"""

from __future__ import annotations

from vntrace.node.errors import InvalidInputError, NotFoundError


class TlogError(InvalidInputError):
    """Base of every transparency-log error (a NodeError, status 422)."""

    title = "Transparency log error"


class NoteError(TlogError):
    """A signed note, verifier key or checkpoint is malformed (C2SP signed-note)."""

    title = "Malformed signed note"


class SignatureError(TlogError):
    """No trusted signature verifies, or a trusted key's signature fails to verify."""

    title = "Signature does not verify"


class ProofError(TlogError):
    """An inclusion or consistency proof does not verify, or its sizes are impossible."""

    title = "Proof does not verify"


class LeafError(TlogError):
    """An epoch leaf is not the 153-byte encoding of docs/witness.md."""

    title = "Malformed log leaf"


class PolicyError(TlogError):
    """Fewer trusted witnesses cosigned than the consumer's policy demands."""

    title = "Witness policy not met"


class SizeNotFoundError(NotFoundError):
    """The log has no checkpoint or leaf at the requested size or epoch."""

    title = "Not in the log"
