"""The SDK against a real node process: every resource, signing, uploads, errors."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from vntrace.client import (
    AsyncClient,
    AuthError,
    Client,
    ClientSettings,
    KeystoreError,
    NotFoundError,
    ProducerSigner,
    SigningError,
    UploadError,
    ValidationError,
    VntraceError,
    create_keystore,
)
from vntrace.client.signer import keystore_address

from .conftest import Node, Producer, anchored_lot, events, make_producer, new_lot


def test_info_and_me(node: Node, producer: Producer) -> None:
    info = producer.client.info()
    assert info.chain == "embedded" and info.rpc == "/rpc"
    assert info.registry.startswith("0x") and info.gtins
    assert info.max_events_per_request >= 1
    me = producer.client.me()
    assert me.role == "producer" and me.producer is not None
    assert me.producer["address"] == producer.address


def test_producers_and_keys(node: Node) -> None:
    p = make_producer(node, "Key rotation coop")
    with node.admin() as admin:
        assert admin.get_producer(p.address).registered_onchain
        assert p.address in {x.address for x in admin.list_producers()}
        again = admin.register_producer(p.address, "ignored")  # idempotent by address
        assert again.name == "Key rotation coop"
        second = admin.issue_api_key(p.address, label="scanner")
        assert second.token and second.token.startswith("vnt_")
        assert "vnt_" not in repr(second)  # the token never shows in a repr
        keys = admin.list_api_keys(p.address)
        assert {k.key_id for k in keys} >= {second.key_id}
        admin.revoke_api_key(p.address, second.key_id)
    with Client(node.url, api_key=second.token) as revoked, pytest.raises(AuthError) as err:
        revoked.me()
    assert err.value.status == 401
    with pytest.raises(AuthError) as err:
        p.client.list_producers()  # a producer is not the administrator
    assert err.value.status == 403
    p.client.close()


def test_signing_matches_the_node(producer: Producer) -> None:
    """Record ids computed on the producer's machine are the ids the node files them under."""
    client, signer = producer.client, producer.signer
    gtin, lot = client.info().gtins[0], new_lot()
    signed = signer.sign_many(gtin, lot, events(6))
    written = client.register_lot(gtin, lot, signed)
    assert written.created
    assert written.record_ids == [s.record_id for s in signed]
    assert written.lot_key == signed[0].lot_key
    shipping = next(s for s in signed if s.event["kind"] == "shipping")
    assert set(shipping.disclosures) == {"buyer", "price"}
    assert set(shipping.event["price"]) == {"commitment"}  # only the commitment leaves
    # The price never shows in the repr (hex digests may contain the digits by chance).
    assert "16740" not in re.sub(r"0x[0-9a-fA-F]+", "", repr(shipping))


def test_invalid_events_are_refused_locally(producer: Producer) -> None:
    gtin = producer.client.info().gtins[0]
    bad = events(2)
    bad[1]["quantity"] = {"value": 5200, "unit": "kg"}
    with pytest.raises(SigningError) as err:
        producer.signer.sign_many(gtin, new_lot(), bad)
    issue = err.value.errors[0]
    assert issue.index == 1 and issue.field == "quantity.unit" and "KGM" in issue.message


def test_server_errors_map_to_the_exception_tree(node: Node, producer: Producer) -> None:
    client = producer.client
    with pytest.raises(NotFoundError) as err:
        client.record("0x" + "00" * 32)
    assert err.value.status == 404 and err.value.type.endswith("/not-found")
    with pytest.raises(ValidationError) as err:
        client.register_lot("12345678901234", "L1")  # bad check digit
    assert err.value.errors and err.value.errors[0].field == "gtin"
    with Client(node.url) as anonymous, pytest.raises(AuthError):
        anonymous.register_lot(client.info().gtins[0], new_lot())
    assert issubclass(AuthError, VntraceError)
    # A record signed for another lot is refused by the node with the event's index.
    gtin = client.info().gtins[0]
    foreign = producer.signer.sign(gtin, "OTHER-LOT", events(1)[0])
    with pytest.raises(ValidationError) as err:
        client.register_lot(gtin, new_lot(), [foreign])
    assert err.value.errors[0].index == 0


def test_idempotent_retries(producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    signed = producer.signer.sign_many(gtin, lot, events(2))
    first = client.register_lot(gtin, lot, signed, idempotency_key="k-" + lot)
    replay = client.register_lot(gtin, lot, signed, idempotency_key="k-" + lot)
    assert replay.raw == first.raw  # the stored answer, byte for byte
    fresh_key = client.append_events(gtin, lot, signed)  # a new key: node dedupes records
    assert [r.duplicate for r in fresh_key.records] == [True, True]


def test_batched_upload_with_progress(producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    signed = producer.signer.sign_many(gtin, lot, events(5))
    seen: list[tuple[int, int]] = []
    written = client.upload_events(
        gtin, lot, signed, batch_size=2, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert written.record_ids == [s.record_id for s in signed]
    # A batch the node refuses stops the upload; what went before is reported stored.
    more = producer.signer.sign_many(gtin, lot, events(3))
    more[2] = producer.signer.sign(gtin, "OTHER-LOT", events(1)[0])
    with pytest.raises(UploadError) as err:
        client.upload_events(gtin, lot, more, batch_size=2)
    assert err.value.stored == 2 and err.value.total == 3
    assert err.value.errors[0].index == 2 and err.value.errors[0].field.startswith("events[2]")
    assert err.value.written is not None and len(err.value.written.record_ids) == 2


def test_reading_and_epochs(producer: Producer) -> None:
    client = producer.client
    lot = anchored_lot(producer, 2)
    status = client.record(lot.record_ids[0])
    assert status.status == "anchored" and status.epoch is not None
    bundle = client.bundle(lot.record_ids[0])
    assert bundle["recordId"] == lot.record_ids[0]
    prov = client.provenance(lot.gtin, lot.lot)
    assert [r["recordId"] for r in prov["records"]] == lot.record_ids
    epoch = client.epoch(status.epoch)
    assert epoch.root == status.root and epoch.status == "anchored"
    page = client.epochs(after=0, limit=1000)
    assert status.epoch in [e.number for e in page.items]


def test_verify_recall_and_digital_link(node: Node) -> None:
    owner = make_producer(node, "Digital link coop")
    lot = anchored_lot(owner, 3)
    client = owner.client
    uri = client.provenance(lot.gtin, lot.lot)["digitalLink"]
    assert client.verify_digital_link(uri).status == "verified"
    assert client.verify_record(lot.record_ids[2]).ok
    recall = client.recall(lot.gtin, lot.lot, "moisture above 13%")
    assert recall.onchain_tx_hash is not None
    result = client.verify_lot(lot.gtin, lot.lot)
    assert result.status == "recalled" and result.recall is not None
    assert result.recall.reason == "moisture above 13%"
    with pytest.raises(VntraceError):
        result.raise_for_status()
    client.close()


def test_sync_and_async_agree(node: Node, producer: Producer) -> None:
    lot = anchored_lot(producer, 3)

    async def run() -> dict[str, Any]:
        async with AsyncClient(node.url, api_key=producer.token) as client:
            signer = await client.signer(producer.key)
            gtin, lot_b = (await client.info()).gtins[0], new_lot()
            written = await client.upload_events(
                gtin, lot_b, signer.sign_many(gtin, lot_b, events(3)), batch_size=2
            )
            await client.wait_anchored(written.record_ids, timeout=30)
            return {
                "info": await client.info(),
                "bundle": await client.bundle(lot.record_ids[0]),
                "provenance": await client.provenance(lot.gtin, lot.lot),
                "record": (await client.verify_record(lot.record_ids[0])).to_dict(),
                "lot": (await client.verify_lot(lot.gtin, lot.lot)).to_dict(),
                "other": (await client.verify_lot(gtin, lot_b)).status,
            }

    got = asyncio.run(run())
    client = producer.client
    assert got["info"] == client.info()
    assert got["bundle"] == client.bundle(lot.record_ids[0])
    assert got["provenance"] == client.provenance(lot.gtin, lot.lot)
    assert got["record"] == client.verify_record(lot.record_ids[0]).to_dict()
    assert got["lot"] == client.verify_lot(lot.gtin, lot.lot).to_dict()
    assert got["lot"]["status"] == "verified" and got["other"] == "verified"


def test_keystore_round_trip(tmp_path: Path, producer: Producer) -> None:
    path = tmp_path / "producer.json"
    address = create_keystore(path, "correct horse", key=producer.key, kdf_iterations=1024)
    assert address == producer.address == keystore_address(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = producer.client.info()
    signer = ProducerSigner.from_keystore(
        path, "correct horse", chain_id=info.chain_id, registry=info.registry
    )
    assert signer.address == producer.address
    assert producer.key[2:] not in repr(signer)
    with pytest.raises(KeystoreError) as err:
        ProducerSigner.from_keystore(path, "wrong", chain_id=1, registry=info.registry)
    assert "wrong password" in str(err.value) and producer.key[2:] not in str(err.value)
    with pytest.raises(KeystoreError):
        create_keystore(path, "again", kdf_iterations=1024)  # never overwritten


def test_settings_come_from_one_place() -> None:
    env = {
        "VNTRACE_NODE_URL": "https://node.example",
        "VNTRACE_API_KEY": "vnt_secret",
        "VNTRACE_CHAIN_ID": "0x7a69",
    }
    s = ClientSettings.from_env(env)
    assert (s.node_url, s.api_key, s.chain_id) == ("https://node.example", "vnt_secret", 31337)
    assert "vnt_secret" not in repr(s)
    assert s.with_overrides(node_url="http://other", api_key=None).api_key == "vnt_secret"
    signer_env = {"MY_KEY": "0x" + "11" * 32}
    signer = ProducerSigner.from_env(
        "MY_KEY", chain_id=1, registry="0x" + "22" * 20, environ=signer_env
    )
    assert "11" * 32 not in repr(signer)
