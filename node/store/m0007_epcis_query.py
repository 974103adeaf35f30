"""Migration 7: what the rest of the simple event query needs in the EPCIS index.

Frozen once released, like migrations 1 to 6 (docs/epcis.md §8). EPCIS 2.0 §8.2.7.1's
``EQ_action``, ``EQ_errorReason``, ``EQ_correctiveEventID``, ``GE_/LT_recordTime`` and
``orderBy=recordTime`` filter or sort on fields migration 4 did not index:

- ``epcis_events.action``: the event's action (``ADD``, ``OBSERVE``, ``DELETE``; ``NULL``
  for a TransformationEvent, which has none);
- ``epcis_events.error_reason``: an error declaration's reason, a bare CBV word;
- ``epcis_events.record_time``: when the node recorded the event (the record's
  ``received_at``, epoch ms), indexed for ranges and ordering;
- ``epcis_events.index_version``: which derivation of the index wrote the row. Rows
  indexed before this migration have ``NULL``: the node re-derives them from their
  records (``EpcisStore.stale``, ``vntrace.node.services.epcis.refresh_index``), so no
  data is computed here and this migration stays a few DDL statements;
- ``epcis_corrective_ids``: an error declaration's ``correctiveEventIDs``, one row each.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)

from .m0001_initial import NAMING_CONVENTION

VERSION = 7
NAME = "EPCIS index: action, error reason, corrective eventIDs, record time"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Only for the foreign key's target (created by migration 1).
Table("records", metadata, Column("leaf", LargeBinary(32), unique=True))

# The columns this migration adds to migration 4's table (for their DDL and indexes).
_new_columns = Table(
    "epcis_events",
    metadata,
    Column("action", String(16)),
    Column("error_reason", String(400)),
    Column("record_time", BigInteger, index=True),
    Column("index_version", Integer, index=True),
)
epcis_corrective_ids = Table(
    "epcis_corrective_ids",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("event_id", String(400), primary_key=True, index=True),
)


def apply(conn: Connection) -> None:
    """Add the nullable columns and their indexes, create the table (inside the runner's
    transaction)."""
    for column in _new_columns.columns:
        ddl = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE epcis_events ADD COLUMN {column.name} {ddl}"))
    for index in _new_columns.indexes:
        index.create(conn)
    epcis_corrective_ids.create(conn, checkfirst=False)
