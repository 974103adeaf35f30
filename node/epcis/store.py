"""The EPCIS tables (migration 4) over the node store's engine: index, query, captures.

SQLAlchemy Core through :func:`vntrace.node.store.engine.run_transaction` (retries,
error mapping), so it runs on SQLite and PostgreSQL alike. The index is derived from the
stored records and rebuildable (:meth:`EpcisStore.unindexed`); capture jobs are the
node's own bookkeeping of ``POST /epcis/capture`` (EPCIS 2.0 REST bindings).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, exists, or_, select, update

from vntrace.node.store.engine import RetryPolicy, insert_ignore, run_transaction
from vntrace.node.store.schema import (
    epcis_captures,
    epcis_epcs,
    epcis_events,
    lots,
    records,
)

from .index import EventQuery, IndexEntry

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CaptureRow:
    capture_id: str
    producer_id: int
    created_at: int
    finished_at: int | None
    state: str
    """``running``, ``success`` or ``failed``."""
    errors: list[dict[str, Any]]
    record_count: int


@dataclass(frozen=True, slots=True)
class EventRow:
    """One query hit: the record's id, leaf, stored event (JCS bytes) and status."""

    record_id: int
    leaf: bytes
    event_json: bytes
    status: str
    lot_key: bytes


class EpcisStore:
    """Reads and writes of the ``epcis_*`` tables."""

    def __init__(self, engine: Engine, retry: RetryPolicy | None = None) -> None:
        self._engine = engine
        self._retry = retry or RetryPolicy()

    def _tx(self, fn: Callable[[Connection], T], *, write: bool, what: str) -> T:
        return run_transaction(self._engine, fn, write=write, retry=self._retry, what=what)

    # -- capture jobs ------------------------------------------------------------------

    def create_capture(self, capture_id: str, producer_id: int, now_ms: int) -> None:
        values = {
            "capture_id": capture_id,
            "producer_id": producer_id,
            "created_at": now_ms,
            "state": "running",
            "errors": "[]",
            "record_count": 0,
        }
        self._tx(
            lambda c: c.execute(epcis_captures.insert().values(**values)),
            write=True,
            what="create capture",
        )

    def finish_capture(
        self,
        capture_id: str,
        state: str,
        now_ms: int,
        *,
        errors: Sequence[dict[str, Any]] = (),
        record_count: int = 0,
    ) -> None:
        stmt = (
            update(epcis_captures)
            .where(epcis_captures.c.capture_id == capture_id)
            .values(
                state=state,
                finished_at=now_ms,
                errors=json.dumps(list(errors), ensure_ascii=False),
                record_count=record_count,
            )
        )
        self._tx(lambda c: c.execute(stmt), write=True, what="finish capture")

    def get_capture(self, capture_id: str) -> CaptureRow | None:
        stmt = select(epcis_captures).where(epcis_captures.c.capture_id == capture_id)

        def tx(conn: Connection) -> CaptureRow | None:
            r = conn.execute(stmt).first()
            if r is None:
                return None
            return CaptureRow(
                capture_id=r.capture_id,
                producer_id=r.producer_id,
                created_at=r.created_at,
                finished_at=r.finished_at,
                state=r.state,
                errors=json.loads(r.errors),
                record_count=r.record_count,
            )

        return self._tx(tx, write=False, what="get capture")

    # -- index -------------------------------------------------------------------------

    def index(self, entries: Sequence[tuple[bytes, IndexEntry]]) -> None:
        """Index records (``(leaf, entry)``); an already indexed leaf is left as it is."""
        if not entries:
            return
        rows = [
            {
                "leaf": leaf,
                "event_hash_id": e.event_hash_id,
                "event_id": e.event_id,
                "event_type": e.event_type,
                "biz_step": e.biz_step,
                "disposition": e.disposition,
                "event_time": e.event_time,
                "biz_location": e.biz_location,
                "read_point": e.read_point,
                "correction_of": e.correction_of,
                "declaration_time": e.declaration_time,
                "capture_id": e.capture_id,
            }
            for leaf, e in entries
        ]
        epcs = [
            {"leaf": leaf, "role": role, "value": value}
            for leaf, e in entries
            for role, value in e.epcs
        ]

        def tx(conn: Connection) -> None:
            conn.execute(insert_ignore(conn, epcis_events, ["leaf"]), rows)
            if epcs:
                conn.execute(insert_ignore(conn, epcis_epcs, ["leaf", "role", "value"]), epcs)

        self._tx(tx, write=True, what="index EPCIS events")

    def hash_ids(self, leaves: Sequence[bytes]) -> dict[bytes, str]:
        """The stored hash IDs of indexed records."""
        stmt = select(epcis_events.c.leaf, epcis_events.c.event_hash_id).where(
            epcis_events.c.leaf.in_(list(leaves))
        )
        return self._tx(
            lambda c: {bytes(r.leaf): r.event_hash_id for r in c.execute(stmt)},
            write=False,
            what="EPCIS hash IDs",
        )

    def unindexed(self, after_id: int, limit: int) -> list[EventRow]:
        """Records after ``after_id`` not in the index (v1 ones included: the caller
        tells the forms apart), in id order: what a rebuild walks through."""
        stmt = (
            select(
                records.c.id, records.c.leaf, records.c.event_json, records.c.status, lots.c.lot_key
            )
            .join_from(records, lots, records.c.lot_id == lots.c.id)
            .where(records.c.id > after_id)
            .where(~exists().where(epcis_events.c.leaf == records.c.leaf))
            .order_by(records.c.id)
            .limit(limit)
        )
        return self._tx(lambda c: _event_rows(c, stmt), write=False, what="unindexed records")

    # -- query -------------------------------------------------------------------------

    def query(self, q: EventQuery, *, after_id: int, limit: int) -> list[EventRow]:
        """Indexed records matching ``q`` with id > ``after_id``, in id order."""
        ev = epcis_events
        stmt = (
            select(
                records.c.id, records.c.leaf, records.c.event_json, records.c.status, lots.c.lot_key
            )
            .join_from(ev, records, ev.c.leaf == records.c.leaf)
            .join(lots, records.c.lot_id == lots.c.id)
            .where(records.c.id > after_id)
        )
        if q.event_types:
            stmt = stmt.where(ev.c.event_type.in_(q.event_types))
        if q.ge_event_time is not None:
            stmt = stmt.where(ev.c.event_time >= q.ge_event_time)
        if q.lt_event_time is not None:
            stmt = stmt.where(ev.c.event_time < q.lt_event_time)
        for column, values in (
            (ev.c.biz_step, q.biz_steps),
            (ev.c.disposition, q.dispositions),
            (ev.c.biz_location, q.biz_locations),
            (ev.c.read_point, q.read_points),
        ):
            if values:
                stmt = stmt.where(column.in_(values))
        if q.event_ids:
            # A CBV 2.0 hash ID is a valid eventID (CBV 2.0 §8.9): match either column.
            stmt = stmt.where(
                or_(ev.c.event_id.in_(q.event_ids), ev.c.event_hash_id.in_(q.event_ids))
            )
        if q.exists_error_declaration:
            stmt = stmt.where(ev.c.declaration_time.is_not(None))
        for roles, values in q.match:
            stmt = stmt.where(
                exists().where(
                    and_(
                        epcis_epcs.c.leaf == ev.c.leaf,
                        epcis_epcs.c.role.in_(roles),
                        epcis_epcs.c.value.in_(values),
                    )
                )
            )
        stmt = stmt.order_by(records.c.id).limit(limit)
        return self._tx(lambda c: _event_rows(c, stmt), write=False, what="query EPCIS events")


    def members(self, resource: str, *, after: str | None, limit: int) -> list[str]:
        """The distinct values of one top-level resource of the bindings (``epcs``,
        ``bizSteps``, ``bizLocations``, ``readPoints``, ``dispositions``) among indexed
        events, ascending, those after ``after``."""
        column = _MEMBER_COLUMNS[resource]
        stmt = select(column).where(column.is_not(None)).distinct()
        if after is not None:
            stmt = stmt.where(column > after)
        stmt = stmt.order_by(column).limit(limit)
        return self._tx(
            lambda c: [str(v) for (v,) in c.execute(stmt)], write=False, what=f"list {resource}"
        )


_MEMBER_COLUMNS = {
    "epcs": epcis_epcs.c.value,
    "bizSteps": epcis_events.c.biz_step,
    "bizLocations": epcis_events.c.biz_location,
    "readPoints": epcis_events.c.read_point,
    "dispositions": epcis_events.c.disposition,
}
"""Where each top-level resource's members are (GS1 REST bindings, ``GET /epcs`` ...)."""

def _event_rows(conn: Connection, stmt: Any) -> list[EventRow]:
    return [
        EventRow(
            record_id=r.id,
            leaf=bytes(r.leaf),
            event_json=bytes(r.event_json),
            status=r.status,
            lot_key=bytes(r.lot_key),
        )
        for r in conn.execute(stmt)
    ]
