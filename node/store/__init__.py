"""The node's durable store: SQLAlchemy 2 Core over SQLite (WAL) or PostgreSQL.

A record is acknowledged only after its transaction commits (SQLite runs with
``synchronous=FULL``, so a commit is on disk). Epoch trees are stored whole, so proofs
are read from them without a rebuild. Every anchoring step is one idempotent
transaction that resumes after a crash. See docs/store.md.
"""

from .engine import RetryPolicy
from .errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    StoreUnavailableError,
)
from .migrations import LATEST_VERSION, Migration, migrate
from .proofs import TreeBuilder, default_build
from .store import DB_FILENAME, Store
from .types import (
    ApiKeyRow,
    CustodialKeyRow,
    EpochRow,
    EpochStatus,
    IdempotencyRow,
    IssuedApiKey,
    LotMultiproof,
    LotRow,
    NewRecord,
    OutboxRow,
    Principal,
    ProducerRow,
    RecordProof,
    RecordRow,
    RecordStatus,
    Role,
    TxStatus,
)

__all__ = [
    "DB_FILENAME",
    "LATEST_VERSION",
    "ApiKeyRow",
    "ConflictError",
    "CustodialKeyRow",
    "EpochRow",
    "EpochStatus",
    "IdempotencyRow",
    "InvalidInputError",
    "IssuedApiKey",
    "LotMultiproof",
    "LotRow",
    "Migration",
    "NewRecord",
    "NotFoundError",
    "OutboxRow",
    "Principal",
    "ProducerRow",
    "RecordProof",
    "RecordRow",
    "RecordStatus",
    "RetryPolicy",
    "Role",
    "SchemaVersionError",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "TreeBuilder",
    "TxStatus",
    "default_build",
    "migrate",
]
