"""Helpers shared by the lot routes: lot identity with field errors, response pieces."""

from __future__ import annotations

from typing import Any

from vntrace.node.errors import InvalidInputError
from vntrace.node.profile import Profile
from vntrace.node.records import (
    RecordError,
    digital_link_uri,
    lot_key,
    normalize_gtin,
    validate_lot,
)
from vntrace.node.records.signing import to_checksum_address
from vntrace.node.services import Acknowledgement
from vntrace.node.store.types import ProducerRow

from ..problems import Problem
from ..schemas.lots import LotWritten, RecordAck


def lot_identity(
    profile: Profile | Any, gtin: str, lot: str, where: str = "body"
) -> tuple[str, str]:
    """Normalised (GTIN-14, lot), refusing each bad part with its own field error.

    ``profile`` is the node's profile (or, for older callers, anything holding one).
    """
    profile = getattr(profile, "profile", profile)
    try:
        gtin14 = normalize_gtin(gtin)
    except RecordError as exc:
        raise _field(where, "gtin", str(exc)) from None
    if not profile.accepts_gtin(gtin14):
        raise _field(
            where,
            "gtin",
            f"GTIN {gtin14} is not a product of profile {profile.id} "
            f"(its GTINs: {', '.join(profile.gtins)})",
        )
    try:
        lot = validate_lot(lot)
    except RecordError as exc:
        raise _field(where, "lot", str(exc)) from None
    return gtin14, lot


def _field(where: str, name: str, message: str) -> Problem:
    return Problem(
        422, f"{name}: {message}", errors=[{"field": name, "in": where, "message": message}]
    )


def submission_errors(exc: InvalidInputError) -> InvalidInputError:
    """The service's per-item errors with fields a client can find in its request."""
    errors: list[dict[str, Any]] = []
    for err in exc.errors:
        index = err.get("index")
        inner = err.get("field") or ""
        base = f"events[{index}]" if index is not None else "events"
        item = dict(err)
        item["field"] = f"{base}.event.{inner}" if inner else base
        errors.append(item)
    return InvalidInputError(exc.detail, errors=errors)


def lot_written(
    base_url: str,
    producer: ProducerRow,
    gtin14: str,
    lot: str,
    created: bool,
    acks: list[Acknowledgement],
) -> LotWritten:
    """The answer to a write into a lot (``gtin14`` and ``lot`` already normalised)."""
    return LotWritten(
        gtin=gtin14,
        lot=lot,
        lot_key="0x" + lot_key(gtin14, lot).hex(),
        digital_link=digital_link_uri(base_url, gtin14, lot),
        producer=to_checksum_address(producer.address),
        created=created,
        record_ids=[a.record_id for a in acks],
        records=[RecordAck.of(a) for a in acks],
    )


def too_many(what: str, count: int, limit: int) -> Problem:
    return Problem(
        422,
        f"{count} {what} in one request; the limit is {limit}: split the batch",
        slug="too-many-items",
        title="Too many items",
        errors=[{"field": what, "message": f"at most {limit} items", "code": "too_long"}],
    )
