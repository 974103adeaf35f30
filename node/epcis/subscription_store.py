"""The tables of migration 5 (named queries, subscriptions, webhook deliveries).

SQLAlchemy Core through :class:`~vntrace.node.store.base.TableStore`, so it runs on
SQLite and PostgreSQL alike. Writes that several node processes could race on are
compare-and-set: a subscription's run advances its cursor only from the value it read,
and a delivery is claimed only from the ``next_attempt_at`` it read, so two workers never
queue or send the same document twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from vntrace.node.store.base import TableStore
from vntrace.node.store.engine import insert_ignore
from vntrace.node.store.schema import (
    epcis_deliveries,
    epcis_queries,
    epcis_subscriptions,
    records,
)


@dataclass(frozen=True, slots=True)
class QueryRow:
    name: str
    definition: dict[str, Any]
    producer_id: int
    created_at: int


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    subscription_id: str
    query_name: str
    producer_id: int
    dest: str
    sealed_token: bytes
    stream: bool
    schedule: dict[str, str] | None
    report_if_empty: bool
    initial_record_time: int
    after_record_id: int
    next_run_at: int | None
    created_at: int
    last_notified_at: int | None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    subscription_id: str
    body: bytes
    event_count: int
    state: str
    """``pending``, ``delivered`` or ``failed`` (gave up after the last attempt)."""
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    delivered_at: int | None


def _query(r: Any) -> QueryRow:
    return QueryRow(r.name, json.loads(r.definition), r.producer_id, r.created_at)


def _subscription(r: Any) -> SubscriptionRow:
    return SubscriptionRow(
        subscription_id=r.subscription_id,
        query_name=r.query_name,
        producer_id=r.producer_id,
        dest=r.dest,
        sealed_token=bytes(r.sealed_token),
        stream=bool(r.stream),
        schedule=None if r.schedule is None else json.loads(r.schedule),
        report_if_empty=bool(r.report_if_empty),
        initial_record_time=r.initial_record_time,
        after_record_id=r.after_record_id,
        next_run_at=r.next_run_at,
        created_at=r.created_at,
        last_notified_at=r.last_notified_at,
    )


def _delivery(r: Any) -> DeliveryRow:
    return DeliveryRow(
        id=r.id,
        subscription_id=r.subscription_id,
        body=bytes(r.body),
        event_count=r.event_count,
        state=r.state,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        last_error=r.last_error,
        created_at=r.created_at,
        delivered_at=r.delivered_at,
    )


class SubscriptionStore(TableStore):
    """Reads and writes of ``epcis_queries``, ``epcis_subscriptions``, ``epcis_deliveries``."""

    # -- named queries -----------------------------------------------------------------

    def add_query(self, name: str, definition: dict[str, Any], producer_id: int, now: int) -> bool:
        """Store a named query; False if the name is taken."""
        values = {
            "name": name,
            "definition": json.dumps(definition, ensure_ascii=False, separators=(",", ":")),
            "producer_id": producer_id,
            "created_at": now,
        }

        def tx(conn: Connection) -> bool:
            # RETURNING tells "inserted" from "already there" on both backends.
            stmt = insert_ignore(conn, epcis_queries, ["name"]).values(**values)
            return conn.execute(stmt.returning(epcis_queries.c.name)).first() is not None

        return self._tx(tx, write=True, what="add named query")

    def get_query(self, name: str) -> QueryRow | None:
        stmt = select(epcis_queries).where(epcis_queries.c.name == name)

        def tx(conn: Connection) -> QueryRow | None:
            r = conn.execute(stmt).first()
            return None if r is None else _query(r)

        return self._tx(tx, write=False, what="get named query")

    def list_queries(self, after: str, limit: int) -> list[QueryRow]:
        stmt = (
            select(epcis_queries)
            .where(epcis_queries.c.name > after)
            .order_by(epcis_queries.c.name)
            .limit(limit)
        )
        return self._tx(
            lambda c: [_query(r) for r in c.execute(stmt)], write=False, what="list named queries"
        )

    def delete_query(self, name: str) -> bool:
        """Delete a named query with its subscriptions and the deliveries they are owed."""
        subs = select(epcis_subscriptions.c.subscription_id).where(
            epcis_subscriptions.c.query_name == name
        )

        def tx(conn: Connection) -> bool:
            conn.execute(
                delete(epcis_deliveries).where(epcis_deliveries.c.subscription_id.in_(subs))
            )
            conn.execute(
                delete(epcis_subscriptions).where(epcis_subscriptions.c.query_name == name)
            )
            return (
                conn.execute(delete(epcis_queries).where(epcis_queries.c.name == name)).rowcount
                == 1
            )

        return self._tx(tx, write=True, what="delete named query")

    # -- subscriptions -----------------------------------------------------------------

    def add_subscription(self, values: dict[str, Any]) -> None:
        values = {
            **values,
            "schedule": None if values["schedule"] is None else json.dumps(values["schedule"]),
        }
        self._tx(
            lambda c: c.execute(insert(epcis_subscriptions).values(**values)),
            write=True,
            what="add subscription",
        )

    def get_subscription(self, subscription_id: str) -> SubscriptionRow | None:
        stmt = select(epcis_subscriptions).where(
            epcis_subscriptions.c.subscription_id == subscription_id
        )

        def tx(conn: Connection) -> SubscriptionRow | None:
            r = conn.execute(stmt).first()
            return None if r is None else _subscription(r)

        return self._tx(tx, write=False, what="get subscription")

    def list_subscriptions(self, query_name: str, producer_id: int | None) -> list[SubscriptionRow]:
        """A query's subscriptions (of one producer, or all with ``None``), oldest first."""
        stmt = select(epcis_subscriptions).where(epcis_subscriptions.c.query_name == query_name)
        if producer_id is not None:
            stmt = stmt.where(epcis_subscriptions.c.producer_id == producer_id)
        stmt = stmt.order_by(
            epcis_subscriptions.c.created_at, epcis_subscriptions.c.subscription_id
        )
        return self._tx(
            lambda c: [_subscription(r) for r in c.execute(stmt)],
            write=False,
            what="list subscriptions",
        )

    def delete_subscription(self, subscription_id: str) -> bool:
        """Unsubscribe: the subscription and every delivery it is still owed."""

        def tx(conn: Connection) -> bool:
            conn.execute(
                delete(epcis_deliveries).where(
                    epcis_deliveries.c.subscription_id == subscription_id
                )
            )
            stmt = delete(epcis_subscriptions).where(
                epcis_subscriptions.c.subscription_id == subscription_id
            )
            return conn.execute(stmt).rowcount == 1

        return self._tx(tx, write=True, what="delete subscription")

    def due_subscriptions(self, now: int) -> list[SubscriptionRow]:
        """Every stream subscription and each scheduled one whose run time has come."""
        s = epcis_subscriptions
        stmt = (
            select(s)
            .where(s.c.stream | (s.c.next_run_at <= now))
            .order_by(s.c.created_at, s.c.subscription_id)
        )
        return self._tx(
            lambda c: [_subscription(r) for r in c.execute(stmt)],
            write=False,
            what="due subscriptions",
        )

    def record_run(
        self,
        sub: SubscriptionRow,
        *,
        after_record_id: int,
        next_run_at: int | None,
        bodies: Sequence[tuple[bytes, int]],
        now: int,
    ) -> bool:
        """Queue ``bodies`` (``(document, event count)``) and move the cursor, in one
        transaction, only if nobody else ran the subscription since ``sub`` was read."""
        s = epcis_subscriptions
        stmt = (
            update(s)
            .where(s.c.subscription_id == sub.subscription_id)
            .where(s.c.after_record_id == sub.after_record_id)
            .values(after_record_id=after_record_id, next_run_at=next_run_at)
        )
        if sub.next_run_at is None:
            stmt = stmt.where(s.c.next_run_at.is_(None))
        else:
            stmt = stmt.where(s.c.next_run_at == sub.next_run_at)
        rows = [
            {
                "subscription_id": sub.subscription_id,
                "body": body,
                "event_count": count,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for body, count in bodies
        ]

        def tx(conn: Connection) -> bool:
            if conn.execute(stmt).rowcount != 1:
                return False  # run elsewhere, or unsubscribed meanwhile: queue nothing
            if rows:
                conn.execute(insert(epcis_deliveries), rows)
            return True

        return self._tx(tx, write=True, what="record subscription run")

    # -- deliveries --------------------------------------------------------------------

    def claim_deliveries(self, now: int, lease_ms: int, limit: int) -> list[DeliveryRow]:
        """The oldest pending delivery of each subscription, if due, leased to the caller
        for ``lease_ms`` (a crashed sender's lease runs out and another retries it).
        Oldest first per subscription: a receiver gets its documents in order."""
        d = epcis_deliveries
        stmt = select(d).where(d.c.state == "pending").order_by(d.c.id).limit(limit)

        def tx(conn: Connection) -> list[DeliveryRow]:
            seen: set[str] = set()
            claimed = []
            for r in conn.execute(stmt).all():
                if r.subscription_id in seen:
                    continue
                seen.add(r.subscription_id)
                if r.next_attempt_at > now:
                    continue
                lease = (
                    update(d)
                    .where(d.c.id == r.id)
                    .where(d.c.state == "pending")
                    .where(d.c.next_attempt_at == r.next_attempt_at)
                    .values(next_attempt_at=now + lease_ms)
                )
                if conn.execute(lease).rowcount == 1:
                    claimed.append(_delivery(r))
            return claimed

        return self._tx(tx, write=True, what="claim deliveries")

    def delivered(self, delivery: DeliveryRow, now: int) -> None:
        d, s = epcis_deliveries, epcis_subscriptions

        def tx(conn: Connection) -> None:
            conn.execute(
                update(d)
                .where(d.c.id == delivery.id)
                .values(state="delivered", attempts=d.c.attempts + 1, delivered_at=now)
            )
            conn.execute(
                update(s)
                .where(s.c.subscription_id == delivery.subscription_id)
                .values(last_notified_at=now)
            )

        self._tx(tx, write=True, what="delivery done")

    def failed(
        self, delivery: DeliveryRow, *, error: str, next_attempt_at: int, final: bool
    ) -> None:
        d = epcis_deliveries
        stmt = (
            update(d)
            .where(d.c.id == delivery.id)
            .where(d.c.state == "pending")
            .values(
                state="failed" if final else "pending",
                attempts=d.c.attempts + 1,
                next_attempt_at=next_attempt_at,
                last_error=error[:500],
            )
        )
        self._tx(lambda c: c.execute(stmt), write=True, what="delivery failed")

    def deliveries(self, subscription_id: str) -> list[DeliveryRow]:
        d = epcis_deliveries
        stmt = select(d).where(d.c.subscription_id == subscription_id).order_by(d.c.id)
        return self._tx(
            lambda c: [_delivery(r) for r in c.execute(stmt)], write=False, what="deliveries"
        )

    # -- records -----------------------------------------------------------------------

    def last_record_before(self, received_before: int) -> int:
        """The highest record id received before ``received_before`` (0 if none)."""
        stmt = select(func.max(records.c.id)).where(records.c.received_at < received_before)
        return self._tx(
            lambda c: int(c.execute(stmt).scalar() or 0), write=False, what="last record id"
        )

    def record_ids(self, leaves: Sequence[bytes]) -> dict[bytes, int]:
        if not leaves:
            return {}
        stmt = select(records.c.leaf, records.c.id).where(records.c.leaf.in_(list(leaves)))
        return self._tx(
            lambda c: {bytes(r.leaf): int(r.id) for r in c.execute(stmt)},
            write=False,
            what="record ids",
        )
