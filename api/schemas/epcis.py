"""EPCIS 2.0 REST bindings' capture job (GS1 OpenAPI ``CaptureJob``), with vntrace's
acknowledgements of the stored records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from vntrace.node.epcis.store import CaptureRow

from .common import ApiModel
from .lots import RecordAck


class CaptureProblem(ApiModel):
    """One refused event of a capture document (or the document, ``index`` null)."""

    index: int | None
    event_id: str | None = Field(alias="eventID")
    rule: str = Field(description="schema, vocabulary, profile, identifier, signature, lot, ...")
    path: str = ""
    message: str


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CaptureJob(ApiModel):
    """The state of a capture job, as GS1's OpenAPI defines it (``running`` and
    ``success``; ``captureErrorBehaviour`` is always ``rollback`` here: all or nothing)."""

    capture_id: str = Field(alias="captureID")
    running: bool
    success: bool
    created_at: str
    finished_at: str | None = None
    capture_error_behaviour: Literal["rollback"] = "rollback"
    errors: list[CaptureProblem] = Field(default_factory=list)
    record_count: int = Field(description="Records stored (vntrace extension).")

    @classmethod
    def of(cls, row: CaptureRow) -> CaptureJob:
        return cls(
            capture_id=row.capture_id,
            running=row.state == "running",
            success=row.state != "failed",
            created_at=_iso(row.created_at) or "",
            finished_at=_iso(row.finished_at),
            errors=[CaptureProblem.model_validate(e) for e in row.errors],
            record_count=row.record_count,
        )


class CaptureAccepted(CaptureJob):
    """``POST /epcis/capture``'s 202 answer: the job, and each record's acknowledgement
    (with the node's signed receipt) in document order."""

    records: list[RecordAck]
    hash_ids: list[str] = Field(
        alias="hashIDs", description="The CBV 2.0 event hash ID of each event, in order."
    )


def capture_job_json(model: ApiModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
