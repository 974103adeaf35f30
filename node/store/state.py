"""Idempotency keys of the HTTP API and the node's small key-value state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from . import rows
from .base import StoreBase, check_bytes
from .clock import to_ms
from .engine import insert_ignore, upsert
from .errors import InvalidInputError, StoreError
from .schema import idempotency_keys, kv
from .types import IdempotencyRow

__all__ = ["StateMixin"]


class StateMixin(StoreBase):
    # -- idempotency keys ------------------------------------------------------------

    def get_idempotency(self, producer_id: int, key: str) -> IdempotencyRow | None:
        return self._read(lambda c: _idem(c, producer_id, key), "get idempotency key")

    def put_idempotency(
        self, producer_id: int, key: str, request_hash: bytes, response: str, status_code: int
    ) -> IdempotencyRow:
        """Remember a response; the first one stored wins and is what comes back.

        The caller compares ``request_hash`` of the returned row with its own to tell a
        retry (same request) from a reused key (different request).
        """
        request_hash = check_bytes("request_hash", request_hash, 32)
        if not key or len(key) > 255:
            raise InvalidInputError("an idempotency key is 1 to 255 characters")

        def tx(conn: Connection) -> IdempotencyRow:
            conn.execute(
                insert_ignore(conn, idempotency_keys, ["producer_id", "key"]).values(
                    producer_id=producer_id,
                    key=key,
                    request_hash=request_hash,
                    response=response,
                    status_code=status_code,
                    created_at=self._now_ms(),
                )
            )
            row = _idem(conn, producer_id, key)
            if row is None:  # only if deleted concurrently by a purge
                raise StoreError("idempotency key vanished while being stored")
            return row

        return self._write(tx, "put idempotency key")

    def purge_idempotency(self, older_than: datetime) -> int:
        """Forget keys stored before ``older_than``; returns how many."""
        cutoff = to_ms(older_than)
        stmt = delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
        return self._write(lambda c: c.execute(stmt).rowcount, "purge idempotency keys")

    # -- key-value state -------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        """A small piece of node state (e.g. the anchored-roots cache's last block)."""
        return self._read(
            lambda c: c.scalar(select(kv.c.value).where(kv.c.key == key)), "get state"
        )

    def set_state(self, key: str, value: str) -> None:
        values = {"key": key, "value": value, "updated_at": self._now_ms()}
        self._write(lambda c: c.execute(upsert(c, kv, ["key"], values)), "set state")


def _idem(conn: Connection, producer_id: int, key: str) -> IdempotencyRow | None:
    r = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.producer_id == producer_id, idempotency_keys.c.key == key
        )
    ).first()
    return rows.idempotency(r) if r else None
