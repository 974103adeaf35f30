"""The EPCIS tables (migrations 4 and 7) over the node store's engine: index, query, captures.

SQLAlchemy Core through :class:`vntrace.node.store.base.TableStore` (the store's
transactions: retries, error mapping), so it runs on SQLite and PostgreSQL alike. The
index is derived from the stored records and rebuildable (:meth:`EpcisStore.unindexed`
walks records not indexed, :meth:`EpcisStore.stale` rows an older derivation wrote, such
as those indexed before migration 7); capture jobs are the node's own bookkeeping of
``POST /epcis/capture`` (EPCIS 2.0 REST bindings).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, or_, select, update

from vntrace.node.store.base import TableStore
from vntrace.node.store.engine import insert_ignore
from vntrace.node.store.schema import (
    epcis_captures,
    epcis_corrective_ids,
    epcis_epcs,
    epcis_events,
    lots,
    records,
)

from .index import INDEX_VERSION, EventQuery, IndexEntry


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
    """One query hit: the record's id, leaf, stored event (JCS bytes) and status, and
    (for query hits) the indexed eventTime and recordTime, epoch ms."""

    record_id: int
    leaf: bytes
    event_json: bytes
    status: str
    lot_key: bytes
    event_time: int | None = None
    record_time: int | None = None


class EpcisStore(TableStore):
    """Reads and writes of the ``epcis_*`` tables."""

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
        """Index records (``(leaf, entry)``); an already indexed leaf is left as it is.
        The record time is the record's ``received_at`` (when the node stored it)."""
        if not entries:
            return

        def tx(conn: Connection) -> None:
            times = _received_at(conn, [leaf for leaf, _ in entries])
            rows = [_event_values(leaf, e, times.get(leaf)) for leaf, e in entries]
            conn.execute(insert_ignore(conn, epcis_events, ["leaf"]), rows)
            epcs, ids = _children(entries)
            if epcs:
                conn.execute(insert_ignore(conn, epcis_epcs, ["leaf", "role", "value"]), epcs)
            if ids:
                conn.execute(insert_ignore(conn, epcis_corrective_ids, ["leaf", "event_id"]), ids)

        self._tx(tx, write=True, what="index EPCIS events")

    def refresh(self, entries: Sequence[tuple[bytes, IndexEntry]]) -> None:
        """Re-derive indexed rows (``(leaf, entry)``) in place, keeping their capture
        job: every derived column, EPC and corrective eventID is rewritten and the row
        marked :data:`~vntrace.node.epcis.index.INDEX_VERSION`. What the reindex of rows
        indexed before migration 7 (or any older derivation) runs."""
        if not entries:
            return
        leaves = [leaf for leaf, _ in entries]

        def tx(conn: Connection) -> None:
            times = _received_at(conn, leaves)
            for leaf, e in entries:
                values = _event_values(leaf, e, times.get(leaf))
                for key in ("leaf", "capture_id"):
                    values.pop(key)
                conn.execute(
                    update(epcis_events).where(epcis_events.c.leaf == leaf).values(**values)
                )
            conn.execute(delete(epcis_epcs).where(epcis_epcs.c.leaf.in_(leaves)))
            conn.execute(
                delete(epcis_corrective_ids).where(epcis_corrective_ids.c.leaf.in_(leaves))
            )
            epcs, ids = _children(entries)
            if epcs:
                conn.execute(epcis_epcs.insert(), epcs)
            if ids:
                conn.execute(epcis_corrective_ids.insert(), ids)

        self._tx(tx, write=True, what="reindex EPCIS events")

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

    def stale(self, after_id: int, limit: int) -> list[EventRow]:
        """Indexed records after ``after_id`` whose row an older derivation of the index
        wrote (``index_version`` NULL, i.e. indexed before migration 7, or lower than
        :data:`~vntrace.node.epcis.index.INDEX_VERSION`), in id order."""
        ev = epcis_events
        stmt = (
            select(
                records.c.id, records.c.leaf, records.c.event_json, records.c.status, lots.c.lot_key
            )
            .join_from(ev, records, ev.c.leaf == records.c.leaf)
            .join(lots, records.c.lot_id == lots.c.id)
            .where(records.c.id > after_id)
            .where(or_(ev.c.index_version.is_(None), ev.c.index_version < INDEX_VERSION))
            .order_by(records.c.id)
            .limit(limit)
        )
        return self._tx(lambda c: _event_rows(c, stmt), write=False, what="stale index rows")

    # -- query -------------------------------------------------------------------------

    def query(
        self,
        q: EventQuery,
        *,
        after_id: int = 0,
        after_key: int | None = None,
        limit: int,
    ) -> list[EventRow]:
        """Indexed records matching ``q``, one page of ``limit`` after the cursor.

        Without ``q.order_by``: record order (ascending id), those with id > ``after_id``.
        With it: by (eventTime or recordTime, record id), ascending or descending, those
        after ``(after_key, after_id)`` in that order (none when ``after_key`` is
        ``None``): keyset paging, so equal times never repeat or skip an event.
        """
        ev = epcis_events
        stmt = (
            select(
                records.c.id,
                records.c.leaf,
                records.c.event_json,
                records.c.status,
                lots.c.lot_key,
                ev.c.event_time,
                ev.c.record_time,
            )
            .join_from(ev, records, ev.c.leaf == records.c.leaf)
            .join(lots, records.c.lot_id == lots.c.id)
        )
        stmt = _filtered(stmt, q)
        rid = records.c.id
        if q.order_by is None:
            stmt = stmt.where(rid > after_id).order_by(rid)
        else:
            key = ev.c.event_time if q.order_by == "eventTime" else ev.c.record_time
            if after_key is not None:
                if q.descending:
                    stmt = stmt.where(or_(key < after_key, and_(key == after_key, rid < after_id)))
                else:
                    stmt = stmt.where(or_(key > after_key, and_(key == after_key, rid > after_id)))
            stmt = stmt.order_by(*((key.desc(), rid.desc()) if q.descending else (key, rid)))
        stmt = stmt.limit(limit)
        return self._tx(lambda c: _event_rows(c, stmt), write=False, what="query EPCIS events")

    def count(self, q: EventQuery, *, at_most: int) -> int:
        """How many indexed records match ``q`` (counting stops after ``at_most``): what
        ``maxEventCount`` is checked against."""
        ev = epcis_events
        hits = _filtered(
            select(ev.c.leaf).join_from(ev, records, ev.c.leaf == records.c.leaf), q
        ).limit(at_most)
        stmt = select(func.count()).select_from(hits.subquery())
        return self._tx(
            lambda c: int(c.execute(stmt).scalar_one()), write=False, what="count EPCIS events"
        )

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


def _filtered(stmt: Any, q: EventQuery) -> Any:
    """``stmt`` (over ``epcis_events`` joined to ``records``) with ``q``'s filters."""
    ev = epcis_events
    for column, low, high in (
        (ev.c.event_time, q.ge_event_time, q.lt_event_time),
        (ev.c.record_time, q.ge_record_time, q.lt_record_time),
    ):
        if low is not None:
            stmt = stmt.where(column >= low)
        if high is not None:
            stmt = stmt.where(column < high)
    for column, values in (
        (ev.c.event_type, q.event_types),
        (ev.c.action, q.actions),
        (ev.c.biz_step, q.biz_steps),
        (ev.c.disposition, q.dispositions),
        (ev.c.biz_location, q.biz_locations),
        (ev.c.read_point, q.read_points),
        (ev.c.error_reason, q.error_reasons),
    ):
        if values:
            stmt = stmt.where(column.in_(values))
    if q.event_ids:
        # A CBV 2.0 hash ID is a valid eventID (CBV 2.0 §8.9): match either column.
        stmt = stmt.where(or_(ev.c.event_id.in_(q.event_ids), ev.c.event_hash_id.in_(q.event_ids)))
    if q.exists_error_declaration:
        stmt = stmt.where(ev.c.declaration_time.is_not(None))
    if q.corrective_event_ids:
        ids = epcis_corrective_ids
        stmt = stmt.where(
            exists().where(
                and_(ids.c.leaf == ev.c.leaf, ids.c.event_id.in_(q.corrective_event_ids))
            )
        )
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
    return stmt


def _received_at(conn: Connection, leaves: Sequence[bytes]) -> dict[bytes, int]:
    """The records' ``received_at`` (epoch ms): the events' record time."""
    stmt = select(records.c.leaf, records.c.received_at).where(records.c.leaf.in_(list(leaves)))
    return {bytes(r.leaf): int(r.received_at) for r in conn.execute(stmt)}


def _event_values(leaf: bytes, e: IndexEntry, record_time: int | None) -> dict[str, Any]:
    return {
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
        "action": e.action,
        "error_reason": e.error_reason,
        "record_time": record_time,
        "index_version": INDEX_VERSION,
    }


def _children(
    entries: Sequence[tuple[bytes, IndexEntry]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``epcis_epcs`` and ``epcis_corrective_ids`` rows of ``entries``."""
    epcs = [
        {"leaf": leaf, "role": role, "value": value}
        for leaf, e in entries
        for role, value in e.epcs
    ]
    ids = [
        {"leaf": leaf, "event_id": event_id}
        for leaf, e in entries
        for event_id in e.corrective_event_ids
    ]
    return epcs, ids


def _event_rows(conn: Connection, stmt: Any) -> list[EventRow]:
    out = []
    for r in conn.execute(stmt):
        m = r._mapping
        out.append(
            EventRow(
                record_id=r.id,
                leaf=bytes(r.leaf),
                event_json=bytes(r.event_json),
                status=r.status,
                lot_key=bytes(r.lot_key),
                event_time=m.get("event_time"),
                record_time=m.get("record_time"),
            )
        )
    return out
