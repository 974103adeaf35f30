"""Migration 5: EPCIS 2.0 named queries, query subscriptions and their webhook deliveries.

Frozen once released, like migrations 1 to 4 (docs/epcis.md §9). Unlike the index of
migration 4 this is not derived data: it is what clients asked for and what the node
still owes them, so a restart resumes every delivery.

- ``epcis_queries``: a named query (``POST /queries``): its name, its definition (the
  ``query`` object as JSON), the producer who created it;
- ``epcis_subscriptions``: a subscription to a named query
  (``POST /queries/{queryName}/subscriptions``): webhook ``dest``, the client's
  ``signatureToken`` sealed by the node's vault (AES-256-GCM, never in clear), ``stream``
  or a ``schedule``, ``reportIfEmpty``, ``initialRecordTime``, and its cursor
  ``after_record_id``: the record id up to which the query has been run for it;
- ``epcis_deliveries``: the outbox of documents owed to a ``dest``: the exact signed
  body, attempts, when to try next, and its state.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from .m0001_initial import NAMING_CONVENTION, Id

VERSION = 5
NAME = "EPCIS named queries and subscriptions"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Only for the foreign keys' targets (created by migration 1).
Table("producers", metadata, Column("id", Id, primary_key=True))

epcis_queries = Table(
    "epcis_queries",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
)
epcis_subscriptions = Table(
    "epcis_subscriptions",
    metadata,
    Column("subscription_id", String(64), primary_key=True),
    Column("query_name", String(100), ForeignKey("epcis_queries.name"), nullable=False, index=True),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("dest", String(2048), nullable=False),
    Column("sealed_token", LargeBinary, nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("schedule", Text),
    Column("report_if_empty", Boolean, nullable=False),
    Column("initial_record_time", BigInteger, nullable=False),
    Column("after_record_id", BigInteger, nullable=False),
    Column("next_run_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("last_notified_at", BigInteger),
    CheckConstraint(
        "(stream AND schedule IS NULL) OR (NOT stream AND schedule IS NOT NULL)",
        name="stream_or_schedule",
    ),
)
epcis_deliveries = Table(
    "epcis_deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column(
        "subscription_id",
        String(64),
        ForeignKey("epcis_subscriptions.subscription_id"),
        nullable=False,
        index=True,
    ),
    Column("body", LargeBinary, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger),
    CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
    Index("ix_epcis_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
)


def apply(conn: Connection) -> None:
    """Create the tables (inside the runner's transaction)."""
    for table in (epcis_queries, epcis_subscriptions, epcis_deliveries):
        table.create(conn, checkfirst=False)
