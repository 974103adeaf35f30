"""Producers and API keys."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from . import keys, rows
from .base import StoreBase, check_bytes
from .errors import ConflictError, InvalidInputError, NotFoundError
from .schema import api_keys, producers
from .types import ApiKeyRow, IssuedApiKey, Principal, ProducerRow, Role

__all__ = ["ProducersMixin"]


class ProducersMixin(StoreBase):
    # -- producers -------------------------------------------------------------------

    def add_producer(
        self, address: bytes, name: str, metadata_uri: str | None = None, *, active: bool = True
    ) -> ProducerRow:
        """Register a producer; an address already registered is a ConflictError."""
        address = check_bytes("address", address, 20)
        if not name:
            raise InvalidInputError("a producer needs a name")

        def tx(conn: Connection) -> ProducerRow:
            if conn.scalar(select(producers.c.id).where(producers.c.address == address)):
                raise ConflictError(f"producer 0x{address.hex()} is already registered")
            pid = conn.execute(
                insert(producers).values(
                    address=address,
                    name=name,
                    metadata_uri=metadata_uri,
                    active=active,
                    registered_onchain=False,
                    created_at=self._now_ms(),
                )
            ).inserted_primary_key[0]
            return _producer(conn, pid)

        return self._write(tx, "add producer")

    def get_producer(self, producer_id: int) -> ProducerRow | None:
        return self._read(lambda c: _producer_or_none(c, producer_id), "get producer")

    def get_producer_by_address(self, address: bytes) -> ProducerRow | None:
        address = check_bytes("address", address, 20)

        def tx(conn: Connection) -> ProducerRow | None:
            r = conn.execute(select(producers).where(producers.c.address == address)).first()
            return rows.producer(r) if r else None

        return self._read(tx, "get producer")

    def list_producers(self, *, active: bool | None = None) -> list[ProducerRow]:
        stmt = select(producers).order_by(producers.c.id)
        if active is not None:
            stmt = stmt.where(producers.c.active == active)
        return self._read(lambda c: [rows.producer(r) for r in c.execute(stmt)], "list producers")

    def set_producer_active(self, producer_id: int, active: bool) -> ProducerRow:
        return self._update_producer(producer_id, "set producer active", active=active)

    def mark_producer_onchain(self, producer_id: int, tx_hash: bytes) -> ProducerRow:
        """Remember that the registry contract knows this producer (and by which tx)."""
        tx_hash = check_bytes("tx_hash", tx_hash, 32)
        return self._update_producer(
            producer_id, "mark producer on chain", registered_onchain=True, onchain_tx_hash=tx_hash
        )

    def _update_producer(self, producer_id: int, what: str, **values: object) -> ProducerRow:
        def tx(conn: Connection) -> ProducerRow:
            res = conn.execute(
                update(producers).where(producers.c.id == producer_id).values(**values)
            )
            if res.rowcount == 0:
                raise NotFoundError(f"no producer {producer_id}")
            return _producer(conn, producer_id)

        return self._write(tx, what)

    # -- API keys --------------------------------------------------------------------

    def create_api_key(
        self, role: Role | str, producer_id: int | None = None, *, label: str | None = None
    ) -> IssuedApiKey:
        """A new key; its token is returned here once and only its hash is stored.

        Producer keys need ``producer_id``; admin and auditor keys must not have one.
        """
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInputError(f"unknown role {role!r}") from None
        if (role is Role.PRODUCER) != (producer_id is not None):
            raise InvalidInputError("producer keys, and only they, belong to a producer")
        key_id, secret, token = keys.make_token()

        def tx(conn: Connection) -> ApiKeyRow:
            if producer_id is not None and _producer_or_none(conn, producer_id) is None:
                raise NotFoundError(f"no producer {producer_id}")
            if conn.scalar(select(api_keys.c.id).where(api_keys.c.key_id == key_id)):
                raise ConflictError(f"API key id {key_id} exists")
            kid = conn.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    key_hash=keys.hash_secret(secret),
                    role=role.value,
                    producer_id=producer_id,
                    label=label,
                    created_at=self._now_ms(),
                )
            ).inserted_primary_key[0]
            r = conn.execute(select(*rows.API_KEY_COLUMNS).where(api_keys.c.id == kid)).one()
            return rows.api_key(r)

        return IssuedApiKey(key=self._write(tx, "create API key"), token=token)

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind a token, or ``None`` (malformed, unknown, revoked, wrong)."""
        parsed = keys.parse_token(token)
        if parsed is None:
            return None
        key_id, secret = parsed

        def tx(conn: Connection) -> Principal | None:
            r = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
            stored = bytes(r.key_hash) if r is not None else keys.DUMMY_HASH
            ok = keys.secrets_match(stored, secret)
            if r is None or not ok or r.revoked_at is not None:
                return None
            producer = _producer_or_none(conn, r.producer_id) if r.producer_id else None
            return Principal(key_id=r.key_id, role=Role(r.role), producer=producer)

        return self._read(tx, "authenticate")

    def revoke_api_key(self, key_id: str) -> ApiKeyRow:
        """Revoke a key (idempotent: the first revocation time is kept)."""

        def tx(conn: Connection) -> ApiKeyRow:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._now_ms())
            )
            r = conn.execute(
                select(*rows.API_KEY_COLUMNS).where(api_keys.c.key_id == key_id)
            ).first()
            if r is None:
                raise NotFoundError(f"no API key {key_id}")
            return rows.api_key(r)

        return self._write(tx, "revoke API key")

    def list_api_keys(self, *, producer_id: int | None = None) -> list[ApiKeyRow]:
        stmt = select(*rows.API_KEY_COLUMNS).order_by(api_keys.c.id)
        if producer_id is not None:
            stmt = stmt.where(api_keys.c.producer_id == producer_id)
        return self._read(lambda c: [rows.api_key(r) for r in c.execute(stmt)], "list API keys")


def _producer_or_none(conn: Connection, producer_id: int) -> ProducerRow | None:
    r = conn.execute(select(producers).where(producers.c.id == producer_id)).first()
    return rows.producer(r) if r else None


def _producer(conn: Connection, producer_id: int) -> ProducerRow:
    p = _producer_or_none(conn, producer_id)
    if p is None:
        raise NotFoundError(f"no producer {producer_id}")
    return p
