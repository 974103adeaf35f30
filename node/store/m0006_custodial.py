"""Migration 6: custodial keys, and which custodian signed a record.

Frozen once released, like migrations 1 to 5 (docs/epcis.md §6, docs/security.md).
A plain EPCIS client (no vntrace SDK, no Ethereum key) captures through a key the node
holds for its producer:

- ``custodial_keys``: one secp256k1 key per row, for one producer: its address (20
  bytes, unique), the private key sealed by the node's vault (AES-256-GCM, never in
  clear), the vault key id that sealed it (rotation of the vault's keys), when it was
  made and when it was revoked (``NULL``: still signs);
- ``records.custodian``: the custodian address that signed the record, ``NULL`` for a
  record the producer signed with its own key (every record before this migration).
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
    text,
)

from .m0001_initial import NAMING_CONVENTION, Id

VERSION = 6
NAME = "custodial keys and record custodians"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Only for the foreign key's target (created by migration 1).
Table("producers", metadata, Column("id", Id, primary_key=True))

custodial_keys = Table(
    "custodial_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("address", LargeBinary(20), nullable=False, unique=True),
    Column("sealed_key", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)


def apply(conn: Connection) -> None:
    """Create the table and add the nullable column (inside the runner's transaction)."""
    custodial_keys.create(conn, checkfirst=False)
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    conn.execute(text(f"ALTER TABLE records ADD COLUMN custodian {blob}"))
