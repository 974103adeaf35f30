"""Migration 4: the EPCIS 2.0 index of records and the capture jobs (vntrace.node.epcis).

Frozen once released, like migrations 1 to 3. The index is derived data: every row of
``epcis_events`` and ``epcis_epcs`` can be rebuilt from the record's stored event
(``records.event_json``), so a crash between storing a record and indexing it loses
nothing (docs/epcis.md §8):

- ``epcis_events``: one row per record whose event is an EPCIS 2.0 event (bundle
  version 2): its CBV 2.0 hash ID, eventID, type, bizStep, disposition, eventTime,
  bizLocation, readPoint, the eventID it corrects and the capture job it came in;
- ``epcis_epcs``: the event's EPCs and EPC classes by role, for exact-match queries;
- ``epcis_captures``: capture jobs (EPCIS 2.0 REST bindings, ``/capture/{captureID}``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

VERSION = 4
NAME = "EPCIS index and capture jobs"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Only for the foreign keys' targets (created by migration 1).
Table("records", metadata, Column("leaf", LargeBinary(32), unique=True))
Table("producers", metadata, Column("id", Id, primary_key=True))

epcis_captures = Table(
    "epcis_captures",
    metadata,
    Column("capture_id", String(64), primary_key=True),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("state", String(16), nullable=False),
    Column("errors", Text, nullable=False),
    Column("record_count", Integer, nullable=False),
    CheckConstraint("state IN ('running', 'success', 'failed')", name="state"),
)
epcis_events = Table(
    "epcis_events",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("event_hash_id", String(120), nullable=False, index=True),
    Column("event_id", String(400), index=True),
    Column("event_type", String(64), nullable=False),
    Column("biz_step", String(400)),
    Column("disposition", String(400)),
    Column("event_time", BigInteger, nullable=False, index=True),
    Column("biz_location", String(400), index=True),
    Column("read_point", String(400)),
    Column("correction_of", String(400), index=True),
    Column("declaration_time", BigInteger),
    Column("capture_id", String(64), index=True),
)
epcis_epcs = Table(
    "epcis_epcs",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("value", String(400), primary_key=True),
    Index("ix_epcis_epcs_value_role", "value", "role"),
)


def apply(conn: Connection) -> None:
    """Create the EPCIS tables (inside the runner's transaction)."""
    for table in (epcis_captures, epcis_events, epcis_epcs):
        table.create(conn, checkfirst=False)
