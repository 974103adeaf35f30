"""Custodial keys: keys the node holds for producers whose systems cannot sign.

Migration 6 (docs/epcis.md §6). The store keeps only the vault's sealed blob of each
private key; sealing and opening are :class:`vntrace.node.services.custodial.
CustodialService`'s. At most one *active* (unrevoked) key per producer: enforced here,
inside the write transaction under the producer's row lock, so two concurrent requests
for a key give one key (the later one reads the first one's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .base import StoreBase, check_bytes
from .clock import from_ms, opt_from_ms
from .errors import InvalidInputError, NotFoundError
from .schema import custodial_keys, producers
from .types import CustodialKeyRow

__all__ = ["CustodialMixin"]


def _row(r: Any) -> CustodialKeyRow:
    return CustodialKeyRow(
        id=r.id,
        producer_id=r.producer_id,
        address=bytes(r.address),
        sealed_key=bytes(r.sealed_key),
        key_id=r.key_id,
        created_at=from_ms(r.created_at),
        revoked_at=opt_from_ms(r.revoked_at),
    )


def _active(conn: Connection, producer_id: int) -> CustodialKeyRow | None:
    r = conn.execute(
        select(custodial_keys)
        .where(
            custodial_keys.c.producer_id == producer_id,
            custodial_keys.c.revoked_at.is_(None),
        )
        .order_by(custodial_keys.c.id.desc())
        .limit(1)
    ).first()
    return _row(r) if r else None


class CustodialMixin(StoreBase):
    def add_custodial_key(
        self, producer_id: int, address: bytes, sealed_key: bytes, key_id: str
    ) -> tuple[CustodialKeyRow, bool]:
        """Store a new active key for the producer unless one is active already;
        ``(the active key, created)``: an existing one comes back with ``False``."""
        address = check_bytes("address", address, 20)
        sealed_key = check_bytes("sealed_key", sealed_key)
        if not key_id:
            raise InvalidInputError("a sealed key needs the id of the vault key")

        def tx(conn: Connection) -> tuple[CustodialKeyRow, bool]:
            # The producer's row lock serialises concurrent requests on PostgreSQL
            # (SQLite's write transaction already does): one active key, never two.
            locked = conn.execute(
                select(producers.c.id).where(producers.c.id == producer_id).with_for_update()
            ).first()
            if locked is None:
                raise NotFoundError(f"no producer {producer_id}")
            found = _active(conn, producer_id)
            if found is not None:
                return found, False
            conn.execute(
                insert(custodial_keys).values(
                    producer_id=producer_id,
                    address=address,
                    sealed_key=sealed_key,
                    key_id=key_id,
                    created_at=self._now_ms(),
                    revoked_at=None,
                )
            )
            row = _active(conn, producer_id)
            assert row is not None
            return row, True

        return self._write(tx, "add custodial key")

    def active_custodial_key(self, producer_id: int) -> CustodialKeyRow | None:
        """The key the node signs with for this producer (the newest unrevoked one)."""
        return self._read(lambda c: _active(c, producer_id), "active custodial key")

    def list_custodial_keys(self, producer_id: int) -> list[CustodialKeyRow]:
        """Every key held for the producer, oldest first, revoked ones included."""
        stmt = (
            select(custodial_keys)
            .where(custodial_keys.c.producer_id == producer_id)
            .order_by(custodial_keys.c.id)
        )
        return self._read(lambda c: [_row(r) for r in c.execute(stmt)], "list custodial keys")

    def custodial_keys_by_address(self, addresses: Sequence[bytes]) -> dict[bytes, CustodialKeyRow]:
        """Keys by address, in one read (unknown addresses are absent)."""
        wanted = list(dict.fromkeys(check_bytes("address", a, 20) for a in addresses))
        if not wanted:
            return {}
        stmt = select(custodial_keys).where(custodial_keys.c.address.in_(wanted))
        return self._read(
            lambda c: {bytes(r.address): _row(r) for r in c.execute(stmt)}, "custodial keys"
        )

    def revoke_custodial_key(self, address: bytes) -> CustodialKeyRow:
        """Revoke a key (idempotent: the first revocation time is kept)."""
        address = check_bytes("address", address, 20)

        def tx(conn: Connection) -> CustodialKeyRow:
            conn.execute(
                update(custodial_keys)
                .where(custodial_keys.c.address == address, custodial_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._now_ms())
            )
            r = conn.execute(
                select(custodial_keys).where(custodial_keys.c.address == address)
            ).first()
            if r is None:
                raise NotFoundError(f"no custodial key 0x{address.hex()}")
            return _row(r)

        return self._write(tx, "revoke custodial key")
