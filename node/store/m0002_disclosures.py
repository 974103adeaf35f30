"""Migration 2: sealed confidential-field disclosures, one row per record.

Frozen like migration 1: a database at version 2 has exactly this table. The values and
salts of a record's private fields are stored AES-256-GCM-sealed by the node's vault
(``vntrace.node.vault``), never in clear; ``key_id`` names the key, for rotation.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    LargeBinary,
    MetaData,
    String,
    Table,
)

from .m0001_initial import NAMING_CONVENTION

VERSION = 2
NAME = "sealed disclosures of confidential fields"

metadata = MetaData(naming_convention=NAMING_CONVENTION)
# A stub of the referenced table, enough for the foreign key; created by migration 1.
Table("records", metadata, Column("leaf", LargeBinary(32), unique=True))

disclosures = Table(
    "disclosures",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("key_id", String(32), nullable=False, index=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)


def apply(conn: Connection) -> None:
    """Create the disclosures table (inside the runner's transaction)."""
    disclosures.create(conn, checkfirst=False)
