"""Errors of the witness, one tree under :class:`WitnessError` (a NodeError)."""

from __future__ import annotations

from vntrace.node.errors import NodeError


class WitnessError(NodeError):
    """The witness cannot start or run: bad key file, bad configuration, bad data folder."""

    status = 500
    title = "Witness error"


class ProtocolError(WitnessError):
    """An add-checkpoint request the witness refuses, with the tlog-witness status code."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = {
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            413: "Content Too Large",
            422: "Unprocessable Entity",
        }.get(status, "Witness error")


class ConflictSizeError(ProtocolError):
    """409: the old size is not the witness's latest; ``size`` is that latest size."""

    def __init__(self, size: int) -> None:
        super().__init__(409, f"the witness's latest cosigned size is {size}")
        self.size = size
