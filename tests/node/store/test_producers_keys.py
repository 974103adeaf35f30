"""Producers and API keys: registration, duplicates, authentication, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vntrace.node.store import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    Role,
    Store,
    keys,
)

ADDR = bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")


def test_add_get_list_producers(store: Store) -> None:
    p = store.add_producer(ADDR, "Cau Dat", "ipfs://meta")
    assert (p.address, p.name, p.metadata_uri, p.active, p.registered_onchain) == (
        ADDR,
        "Cau Dat",
        "ipfs://meta",
        True,
        False,
    )
    assert p.created_at.tzinfo is not None
    assert store.get_producer(p.id) == p
    assert store.get_producer_by_address(ADDR) == p
    assert store.get_producer_by_address(bytes(20)) is None
    assert store.get_producer(999) is None
    q = store.add_producer(bytes(19) + b"\x01", "Buon Ma Thuot", active=False)
    assert store.list_producers() == [p, q]
    assert store.list_producers(active=True) == [p]
    assert store.list_producers(active=False) == [q]


def test_duplicate_address_is_a_conflict(store: Store) -> None:
    store.add_producer(ADDR, "a")
    with pytest.raises(ConflictError):
        store.add_producer(ADDR, "b")
    assert len(store.list_producers()) == 1


def test_set_active_and_mark_onchain(store: Store) -> None:
    p = store.add_producer(ADDR, "a")
    assert store.set_producer_active(p.id, False).active is False
    assert store.set_producer_active(p.id, True).active is True
    tx = b"\x11" * 32
    q = store.mark_producer_onchain(p.id, tx)
    assert (q.registered_onchain, q.onchain_tx_hash) == (True, tx)
    with pytest.raises(NotFoundError):
        store.set_producer_active(42, False)
    with pytest.raises(NotFoundError):
        store.mark_producer_onchain(42, tx)


@pytest.mark.parametrize("address", [b"\x00" * 19, b"\x00" * 21, "0x" + "00" * 20])
def test_producer_address_must_be_20_bytes(store: Store, address: object) -> None:
    with pytest.raises(InvalidInputError):
        store.add_producer(address, "a")  # type: ignore[arg-type]


def test_api_key_roundtrip(store: Store) -> None:
    p = store.add_producer(ADDR, "a")
    issued = store.create_api_key(Role.PRODUCER, p.id, label="farm tablet")
    assert issued.token.startswith(f"vnt_{issued.key.key_id}_")
    assert issued.key.role is Role.PRODUCER
    assert issued.key.producer_id == p.id
    principal = store.authenticate(issued.token)
    assert principal is not None
    assert (principal.role, principal.producer, principal.key_id) == (
        Role.PRODUCER,
        p,
        issued.key.key_id,
    )
    admin = store.create_api_key("admin")
    pa = store.authenticate(admin.token)
    assert pa is not None and pa.role is Role.ADMIN and pa.producer is None
    assert store.list_api_keys() == [issued.key, admin.key]
    assert store.list_api_keys(producer_id=p.id) == [issued.key]


def test_authenticate_rejects_wrong_malformed_and_revoked(store: Store) -> None:
    issued = store.create_api_key("auditor")
    key_id, secret = keys.parse_token(issued.token)  # type: ignore[misc]
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert store.authenticate(f"vnt_{key_id}_{wrong}") is None
    assert store.authenticate(f"vnt_{'0' * 16}_{secret}") is None  # unknown key id
    for bad in ["", "vnt_", issued.token + "x", issued.token.replace("vnt_", "xyz_"), None]:
        assert store.authenticate(bad) is None  # type: ignore[arg-type]
    first = store.revoke_api_key(key_id)
    assert first.revoked_at is not None
    assert store.authenticate(issued.token) is None
    assert store.revoke_api_key(key_id).revoked_at == first.revoked_at  # idempotent
    with pytest.raises(NotFoundError):
        store.revoke_api_key("0" * 16)


def test_key_roles_and_producers_must_agree(store: Store) -> None:
    p = store.add_producer(ADDR, "a")
    with pytest.raises(InvalidInputError):
        store.create_api_key("producer")
    with pytest.raises(InvalidInputError):
        store.create_api_key("admin", p.id)
    with pytest.raises(InvalidInputError):
        store.create_api_key("root")
    with pytest.raises(NotFoundError):
        store.create_api_key("producer", 999)


def test_duplicate_key_id_is_a_conflict(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = ("0123456789abcdef", "s" * 43, "vnt_0123456789abcdef_" + "s" * 43)
    monkeypatch.setattr(keys, "make_token", lambda: fixed)
    store.create_api_key("admin")
    with pytest.raises(ConflictError):
        store.create_api_key("auditor")
    assert len(store.list_api_keys()) == 1


def test_injected_clock_stamps_rows(store_url: str) -> None:
    t = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    with Store.open(store_url, clock=lambda: t) as s:
        assert s.add_producer(ADDR, "a").created_at == t
        key = s.create_api_key("admin")
        assert key.key.created_at == t
    later = t + timedelta(hours=1)
    with Store.open(store_url, clock=lambda: later) as s:
        assert s.revoke_api_key(key.key.key_id).revoked_at == later
