"""Typed errors of the Merkle engine.

Every malformed input is rejected with one of these, never answered with a wrong
``True``. They all derive from :class:`MerkleError` (itself a ``ValueError``), so a
caller can catch the family in one place.
"""

from __future__ import annotations


class MerkleError(ValueError):
    """Base class of every error the Merkle engine raises."""


class InvalidHashError(MerkleError):
    """A node, leaf, root or proof element is not 32 bytes (or not valid hex)."""


class InvalidLeafEncodingError(MerkleError):
    """A value does not fit its ABI leaf encoding."""


class EmptyTreeError(MerkleError):
    """A tree needs at least one leaf."""


class LeafIndexError(MerkleError, IndexError):
    """A value index is out of range."""


class DuplicateIndexError(MerkleError):
    """A multiproof was asked to prove the same leaf twice."""


class InvalidMultiproofError(MerkleError):
    """A multiproof is malformed: wrong counts, unconsumed proof, missing operands."""


class EmptyMultiproofError(InvalidMultiproofError):
    """A multiproof over zero leaves proves nothing and is refused."""


class InvalidTreeError(MerkleError):
    """A loaded tree or dump is inconsistent (wrong shape, hash mismatch, bad format)."""
