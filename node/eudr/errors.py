"""Errors of the EUDR layer, under the node's :class:`~vntrace.node.errors.NodeError` tree.

The gateway maps them by ``status`` to RFC 9457 problems; the CLI prints them in one line.
Each carries ``errors``: one dict per plot or lot problem (``plot``, ``rule``, ``message``,
``where``), so a caller fixes everything in one round trip.
"""

from __future__ import annotations

from vntrace.node.errors import InvalidInputError, NodeError


class EudrError(NodeError):
    """Base of every EUDR refusal."""

    status = 422
    title = "EUDR rule broken"


class EudrInputError(EudrError, InvalidInputError):
    """A lot, plot or GeoJSON breaks a rule the EU information system applies."""


class ExportTooLargeError(EudrError):
    """The statement would exceed the EU information system's size limit per DDS."""

    status = 413
    title = "Statement too large"


class ExportWriteError(EudrError):
    """The export could not be written (folder exists, no room...); nothing was left behind."""

    status = 500
    title = "Export not written"
