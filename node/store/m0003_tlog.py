"""Migration 3: the transparency log of anchored epochs (vntrace.node.tlog).

Frozen once released, like migrations 1 and 2. Everything here can be re-derived from
the anchored epochs except the signed checkpoints and collected cosignatures, which
are kept because a log must never sign two different trees of one size:

- ``tlog_meta``: the log's fixed facts (its origin line), set once;
- ``tlog_leaves``: leaf ``idx`` = epoch - 1, the 153-byte leaf and its RFC 6962 hash;
- ``tlog_checkpoints``: one log-signed checkpoint note per tree size;
- ``tlog_cosignatures``: cosignature lines a witness returned for a size;
- ``tlog_witnesses``: per configured witness, the size it last cosigned.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from .m0001_initial import NAMING_CONVENTION

VERSION = 3
NAME = "transparency log of epochs"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

tlog_meta = Table(
    "tlog_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
tlog_leaves = Table(
    "tlog_leaves",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False, unique=True),
    Column("data", LargeBinary, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)
tlog_checkpoints = Table(
    "tlog_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
tlog_cosignatures = Table(
    "tlog_cosignatures",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(400), primary_key=True),
    Column("line", Text, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)
tlog_witnesses = Table(
    "tlog_witnesses",
    metadata,
    Column("witness", String(400), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("updated_at", BigInteger, nullable=False),
)


def apply(conn: Connection) -> None:
    """Create the log's tables (inside the runner's transaction)."""
    metadata.create_all(conn, checkfirst=False)
