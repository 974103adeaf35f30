"""The current schema as SQLAlchemy Core tables (portable: SQLite and PostgreSQL).

This is what the code reads and writes. The database gets its shape from the numbered
migrations (:mod:`.migrations`); a test migrates an empty database and checks that the
result matches these tables, so the two cannot drift apart.

Conventions: ids are ``BIGINT`` (``INTEGER`` on SQLite, where only ``INTEGER PRIMARY
KEY`` aliases the auto-incrementing rowid); hashes, addresses and JSON bytes are
``LargeBinary``; times are integer epoch milliseconds UTC (see :mod:`.clock`); states
are short strings guarded by CHECK constraints; constraints are named by convention so
later migrations can address them on every backend.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "NAMING_CONVENTION",
    "Id",
    "api_keys",
    "custodial_keys",
    "epcis_captures",
    "epcis_corrective_ids",
    "epcis_deliveries",
    "epcis_epcs",
    "epcis_events",
    "epcis_queries",
    "epcis_subscriptions",
    "epochs",
    "idempotency_keys",
    "kv",
    "lots",
    "metadata",
    "outbox",
    "producers",
    "records",
    "tlog_checkpoints",
    "tlog_cosignatures",
    "tlog_leaves",
    "tlog_meta",
    "tlog_witnesses",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")
"""Surrogate key type: BIGINT, but INTEGER on SQLite so it aliases the rowid."""

Ms = BigInteger
"""Epoch milliseconds, UTC."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)

producers = Table(
    "producers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("address", LargeBinary(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("metadata_uri", String(2048)),
    Column("active", Boolean, nullable=False),
    Column("registered_onchain", Boolean, nullable=False),
    Column("onchain_tx_hash", LargeBinary(32)),
    Column("created_at", Ms, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", LargeBinary(32), nullable=False),
    Column("role", String(16), nullable=False),
    Column("producer_id", Id, ForeignKey("producers.id")),
    Column("label", String(200)),
    Column("created_at", Ms, nullable=False),
    Column("revoked_at", Ms),
    CheckConstraint("role IN ('admin', 'producer', 'auditor')", name="role"),
    CheckConstraint(
        "(role = 'producer' AND producer_id IS NOT NULL)"
        " OR (role <> 'producer' AND producer_id IS NULL)",
        name="producer_role",
    ),
)

lots = Table(
    "lots",
    metadata,
    Column("id", Id, primary_key=True),
    Column("lot_key", LargeBinary(32), nullable=False, unique=True),
    Column("gtin", String(14), nullable=False),
    Column("lot_number", String(80), nullable=False),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("created_at", Ms, nullable=False),
    Column("recalled_at", Ms),
    Column("recall_reason", Text),
    Column("recall_tx_hash", LargeBinary(32)),
)

epochs = Table(
    "epochs",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False, unique=True),
    Column("record_count", Integer, nullable=False),
    Column("tree", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sealed_at", Ms, nullable=False),
    Column("anchored_at", Ms),
    Column("tx_hash", LargeBinary(32)),
    Column("block_number", BigInteger),
    Column("block_timestamp", BigInteger),
    Column("chain_id", BigInteger),
    Column("contract", LargeBinary(20)),
    CheckConstraint("status IN ('sealed', 'sent', 'anchored')", name="status"),
    CheckConstraint("number > 0 AND record_count > 0", name="positive"),
    CheckConstraint("length(tree) = (2 * record_count - 1) * 32", name="tree_size"),
)

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True),
    Column("leaf", LargeBinary(32), nullable=False, unique=True),
    Column("lot_id", Id, ForeignKey("lots.id"), nullable=False),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("salt", LargeBinary(32), nullable=False),
    Column("event_json", LargeBinary, nullable=False),
    Column("signature", LargeBinary(65), nullable=False),
    Column("received_at", Ms, nullable=False),
    Column("status", String(16), nullable=False),
    Column("epoch", BigInteger, ForeignKey("epochs.number")),
    Column("leaf_index", Integer),
    # Migration 6: the custodian address that signed the record (NULL: the producer did).
    Column("custodian", LargeBinary(20)),
    CheckConstraint("status IN ('pending', 'sealed', 'anchored')", name="status"),
    CheckConstraint(
        "(status = 'pending' AND epoch IS NULL AND leaf_index IS NULL)"
        " OR (status <> 'pending' AND epoch IS NOT NULL AND leaf_index IS NOT NULL)",
        name="sealed_has_epoch",
    ),
    UniqueConstraint("epoch", "leaf_index"),
    Index("ix_records_status_id", "status", "id"),
    Index("ix_records_lot_id_id", "lot_id", "id"),
    Index("ix_records_lot_id_epoch", "lot_id", "epoch", "leaf_index"),
    # AUTOINCREMENT: ids are never reused, so id order is intake order forever.
    sqlite_autoincrement=True,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True),
    Column("epoch", BigInteger, ForeignKey("epochs.number"), nullable=False, index=True),
    Column("raw_tx", LargeBinary, nullable=False),
    Column("tx_hash", LargeBinary(32), nullable=False, unique=True),
    Column("nonce", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False),
    CheckConstraint(
        "status IN ('signed', 'sent', 'mined', 'confirmed', 'replaced', 'failed')",
        name="status",
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("producer_id", Id, ForeignKey("producers.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("response", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("created_at", Ms, nullable=False, index=True),
)

kv = Table(
    "kv",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Ms, nullable=False),
)

disclosures = Table(
    "disclosures",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("key_id", String(32), nullable=False, index=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", Ms, nullable=False),
)

# The transparency log of anchored epochs (vntrace.node.tlog; migration 3).
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
    Column("created_at", Ms, nullable=False),
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
    Column("updated_at", Ms, nullable=False),
)

# The EPCIS 2.0 index of records and the capture jobs (vntrace.node.epcis; migration 4).
epcis_captures = Table(
    "epcis_captures",
    metadata,
    Column("capture_id", String(64), primary_key=True),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("created_at", Ms, nullable=False),
    Column("finished_at", Ms),
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
    Column("event_time", Ms, nullable=False, index=True),
    Column("biz_location", String(400), index=True),
    Column("read_point", String(400)),
    Column("correction_of", String(400), index=True),
    Column("declaration_time", Ms),
    Column("capture_id", String(64), index=True),
    # Migration 7: action, error reason, record time (the record's received_at), and
    # which derivation wrote the row (NULL: before migration 7, re-derived by the node).
    Column("action", String(16)),
    Column("error_reason", String(400)),
    Column("record_time", Ms, index=True),
    Column("index_version", Integer, index=True),
)
epcis_epcs = Table(
    "epcis_epcs",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("value", String(400), primary_key=True),
    Index("ix_epcis_epcs_value_role", "value", "role"),
)
# An error declaration's correctiveEventIDs (migration 7).
epcis_corrective_ids = Table(
    "epcis_corrective_ids",
    metadata,
    Column("leaf", LargeBinary(32), ForeignKey("records.leaf"), primary_key=True),
    Column("event_id", String(400), primary_key=True, index=True),
)

# EPCIS 2.0 named queries, subscriptions, webhook deliveries (vntrace.node.epcis; migration 5).
epcis_queries = Table(
    "epcis_queries",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("created_at", Ms, nullable=False),
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
    Column("initial_record_time", Ms, nullable=False),
    Column("after_record_id", BigInteger, nullable=False),
    Column("next_run_at", Ms),
    Column("created_at", Ms, nullable=False),
    Column("last_notified_at", Ms),
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
    Column("next_attempt_at", Ms, nullable=False),
    Column("last_error", Text),
    Column("created_at", Ms, nullable=False),
    Column("delivered_at", Ms),
    CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
    Index("ix_epcis_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
)

# Keys the node holds for producers whose systems cannot sign (migration 6, docs/epcis.md §6).
custodial_keys = Table(
    "custodial_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("producer_id", Id, ForeignKey("producers.id"), nullable=False, index=True),
    Column("address", LargeBinary(20), nullable=False, unique=True),
    Column("sealed_key", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("revoked_at", Ms),
)
