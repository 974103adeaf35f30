"""Custodial keys over HTTP: a plain EPCIS client (no SDK, no Ethereum key) captures with
only its producer's API key; the node signs for the producer, and every verdict says
so (``signedBy: custodial``), never ``producer``."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from eth_account import Account

from tests.support.epcis import gs1_example
from vntrace.node.custodians import verify_statement
from vntrace.node.demo import season_events
from vntrace.node.epcis.hashid import document_hash_ids
from vntrace.node.epcis.mapping import epcis_document, to_epcis
from vntrace.node.identity import b64url_decode

from .conftest import Gateway
from .helpers import Producer, assert_problem, new_lot

LD = {"Content-Type": "application/ld+json"}


def _key(gw: Gateway, producer: Producer, headers: dict[str, str] | None = None) -> Any:
    return gw.client.post(
        f"/v1/producers/{producer.address}/custodial-key", headers=headers or producer.headers
    )


def _node_key(gw: Gateway) -> bytes:
    return b64url_decode(gw.client.get("/.well-known/vntrace-node.json").json()["ed25519"])


def _plain_document(gw: Gateway, lot: str) -> dict[str, Any]:
    """GS1's Example 9.6.1 adapted to a coffee lot, as a plain EPCIS system sends it:
    no ``vnt:signature``, no eventIDs (GS1's are illustrative)."""
    doc = gs1_example(gw.node.profile, gw.gtin, lot)
    for event in doc["epcisBody"]["eventList"]:
        event.pop("eventID", None)
    return doc


def _capture(gw: Gateway, producer: Producer, doc: dict[str, Any]) -> Any:
    body = json.dumps(doc, ensure_ascii=False).encode()
    return gw.client.post("/epcis/capture", content=body, headers={**producer.headers, **LD})


def _verify(gw: Gateway, **body: Any) -> list[dict[str, Any]]:
    r = gw.client.post("/v1/verify", json=body)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_create_is_idempotent_and_the_statement_verifies(gw: Gateway, producer: Producer) -> None:
    r = _key(gw, producer)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/producers/{producer.address}/custodians"
    statement = r.json()
    assert statement["producer"] == producer.address and len(statement["custodians"]) == 1
    custodian = statement["custodians"][0]
    assert custodian != producer.address
    again = _key(gw, producer, gw.admin)  # the administrator may ask too
    assert again.status_code == 200 and again.json()["custodians"] == [custodian]
    public = gw.client.get(f"/v1/producers/{producer.address}/custodians")  # no key needed
    assert public.status_code == 200
    found = verify_statement(
        public.json(),
        _node_key(gw),
        producer=producer.address,
        chain_id=gw.info["chainId"],
        registry=gw.info["registry"],
    )
    assert found == {custodian.lower()}
    assert "key" not in json.dumps(public.json()).lower().replace("custodial-key", "")


def test_only_the_producer_or_the_admin_may_ask(gw: Gateway, producer: Producer) -> None:
    other = gw.producer("Other")
    r = _key(gw, producer, other.headers)
    body = assert_problem(r, 403)
    assert "itself" in body["detail"]
    assert_problem(gw.client.post(f"/v1/producers/{producer.address}/custodial-key"), 401)
    assert_problem(_key(gw, producer, {"Authorization": "Bearer vnt_nope"}), 401)
    unknown = Account.create().address
    assert_problem(gw.client.post(f"/v1/producers/{unknown}/custodial-key", headers=gw.admin), 404)
    assert_problem(gw.client.get(f"/v1/producers/{unknown}/custodians"), 404)
    assert gw.client.get(f"/v1/producers/{producer.address}/custodians").json()["custodians"] == []


def test_plain_capture_without_a_key_says_how_to_get_one(gw: Gateway, producer: Producer) -> None:
    body = assert_problem(_capture(gw, producer, _plain_document(gw, new_lot())), 400)
    signature = [e for e in body["errors"] if e["rule"] == "signature"]
    assert [e["index"] for e in signature] == [0, 1]
    assert all(f"/v1/producers/{producer.address}/custodial-key" in e["message"] for e in signature)


def test_plain_epcis_capture_end_to_end(gw: Gateway, producer: Producer) -> None:
    custodian = _key(gw, producer).json()["custodians"][0]
    lot = new_lot()
    r = _capture(gw, producer, _plain_document(gw, lot))
    assert r.status_code == 202, r.text
    ids = [a["recordId"] for a in r.json()["records"]]
    assert len(ids) == 2 and all(h.startswith("ni:///sha-256;") for h in r.json()["hashIDs"])
    gw.node.anchor_now()
    bundles = [gw.client.get(f"/v1/records/{i}/bundle").json() for i in ids]
    assert all(
        b["signer"] == {"kind": "custodial", "custodian": custodian, "producer": producer.address}
        for b in bundles
    )
    assert [b["event"]["eventID"] for b in bundles] == r.json()["hashIDs"]
    results = _verify(gw, bundles=bundles, recordIds=ids)
    assert [(x["status"], x["signedBy"]) for x in results] == [("verified", "custodial")] * 4

    # Without its signer section, or with another custodian, it is not the producer's.
    stripped = {k: v for k, v in bundles[0].items() if k != "signer"}
    other = gw.producer("Elsewhere")
    elsewhere = _key(gw, other).json()["custodians"][0]
    swapped = {**bundles[0], "signer": {**bundles[0]["signer"], "custodian": elsewhere}}
    stranger = {**bundles[0], "signer": {**bundles[0]["signer"], "custodian": other.address}}
    results = _verify(gw, bundles=[stripped, swapped, stranger])
    assert [x["status"] for x in results] == ["failed"] * 3
    assert all("bad_signature" in x["reasons"] for x in results)
    assert results[0]["signedBy"] == "producer"

    # A producer-signed record still says producer.
    own = gw.lot_with_events(producer, new_lot(), 1)
    gw.node.anchor_now()
    rid = own["records"][0]["recordId"]
    (result,) = _verify(gw, recordIds=[rid])
    assert (result["status"], result["signedBy"]) == ("verified", "producer")
    assert "signer" not in gw.client.get(f"/v1/records/{rid}/bundle").json()


def test_the_sdk_checks_the_custodian_with_the_nodes_statement(
    gw: Gateway, producer: Producer
) -> None:
    """Independent verification (the SDK, reading the chain through the node's /rpc)
    accepts a custodial record only through the node's signed custodians statement,
    checked with the node's key as registered on chain; the CLI's words say so."""
    from vntrace.client import Client
    from vntrace.client._output import render

    custodian = _key(gw, producer).json()["custodians"][0]
    lot = new_lot()
    r = _capture(gw, producer, _plain_document(gw, lot))
    assert r.status_code == 202, r.text
    gw.node.anchor_now()
    rid = r.json()["records"][0]["recordId"]
    # The in-process app's transport: every request, /rpc included, reaches the real node.
    with Client("http://testserver", transport=gw.client._transport) as sdk:
        one = sdk.verify_record(rid)
        assert (one.status, one.signed_by) == ("verified", "custodial"), one.details
        assert one.to_dict()["signedBy"] == "custodial"
        assert "signed by the node for the producer" in render(one)
        whole = sdk.verify_lot(gw.gtin, lot)
        assert whole.status == "verified", whole.details
        assert [x.signed_by for x in whole.records] == ["custodial", "custodial"]
        assert "2 of 2 records signed by the node for the producer" in render(whole)
        # Tampered signer sections fail independently too.
        bundle = sdk.bundle(rid)
        stripped = {k: v for k, v in bundle.items() if k != "signer"}
        other = gw.producer("Other again")
        swapped = {**bundle, "signer": {**bundle["signer"], "custodian": other.address}}
        for bad in (stripped, swapped):
            result = sdk.verify_bundle(bad)
            assert result.status == "failed" and "bad_signature" in result.reasons
        assert swapped["signer"]["custodian"] != custodian
        # A producer-signed record still reads as the producer's.
        own = gw.lot_with_events(producer, new_lot(), 1)
        gw.node.anchor_now()
        mine = sdk.verify_record(own["records"][0]["recordId"])
        assert (mine.status, mine.signed_by) == ("verified", "producer")
        assert "signed by the node" not in render(mine)


def _season_document(gw: Gateway, lot: str) -> dict[str, Any]:
    """The demo season as a plain EPCIS system sends it: private values (farmer, buyer,
    price) in clear, no eventIDs, no signatures."""
    events = [to_epcis(gw.node.profile, gw.gtin, lot, e) for e in season_events(datetime.now(UTC))]
    return epcis_document(events, gw.node.profile)


def test_a_retried_capture_is_a_duplicate_whatever_eventids_it_carries(
    gw: Gateway, producer: Producer
) -> None:
    """Salts are derived, not drawn: the same events sent again, bare, with their own
    hash IDs in clear, or with the hash IDs the node answered, are the same records."""
    _key(gw, producer)
    lot = new_lot()
    doc = _season_document(gw, lot)
    first = _capture(gw, producer, doc)
    assert first.status_code == 202, first.text
    ids = [a["recordId"] for a in first.json()["records"]]
    assert not any(a["duplicate"] for a in first.json()["records"])
    clear_ids = document_hash_ids(doc)
    answered = first.json()["hashIDs"]
    assert clear_ids != answered  # the private values were committed before hashing

    def with_ids(event_ids: list[str]) -> dict[str, Any]:
        again = copy.deepcopy(doc)
        for event, event_id in zip(again["epcisBody"]["eventList"], event_ids, strict=True):
            event["eventID"] = event_id
        return again

    for retry in (doc, with_ids(answered), with_ids(clear_ids)):
        r = _capture(gw, producer, retry)
        assert r.status_code == 202, r.text
        assert [a["recordId"] for a in r.json()["records"]] == ids
        assert all(a["duplicate"] for a in r.json()["records"])
        assert r.json()["hashIDs"] == answered
    provenance = gw.client.get(f"/v1/lots/{gw.gtin}/{lot}/provenance").json()
    assert len(provenance["records"]) == len(ids)


def test_a_producer_signature_never_passes_as_custodial(gw: Gateway, producer: Producer) -> None:
    """The other way round: a record the producer signed, relabelled as signed by the
    node with one of the producer's real custodial keys, does not verify."""
    custodian = _key(gw, producer).json()["custodians"][0]
    own = gw.lot_with_events(producer, new_lot(), 1)
    gw.node.anchor_now()
    bundle = gw.client.get(f"/v1/records/{own['records'][0]['recordId']}/bundle").json()
    claimed = {
        **bundle,
        "signer": {"kind": "custodial", "custodian": custodian, "producer": producer.address},
    }
    (result,) = _verify(gw, bundles=[claimed])
    assert (result["status"], result["signedBy"]) == ("failed", "custodial")
    assert "bad_signature" in result["reasons"]
    from vntrace.client import Client

    with Client("http://testserver", transport=gw.client._transport) as sdk:
        independent = sdk.verify_bundle(claimed)
        assert independent.status == "failed" and "bad_signature" in independent.reasons
        assert sdk.verify_bundle(bundle).signed_by == "producer"


def test_the_administrator_revokes_a_key_and_its_records_stop_verifying(
    gw: Gateway, producer: Producer
) -> None:
    """Rotation on a running node: revoke over HTTP (the administrator only), then ask
    again; what the revoked key signed is no longer vouched for."""
    first = _key(gw, producer).json()["custodians"][0]
    r = _capture(gw, producer, _plain_document(gw, new_lot()))
    assert r.status_code == 202, r.text
    gw.node.anchor_now()
    rid = r.json()["records"][0]["recordId"]
    url = f"/v1/producers/{producer.address}/custodians/{first}"
    assert_problem(gw.client.delete(url, headers=producer.headers), 403, "forbidden")
    assert_problem(gw.client.delete(url), 401)
    other = gw.producer("Not theirs")
    theirs = _key(gw, other).json()["custodians"][0]
    wrong = f"/v1/producers/{producer.address}/custodians/{theirs}"
    assert_problem(gw.client.delete(wrong, headers=gw.admin), 404)
    assert gw.client.get(f"/v1/producers/{other.address}/custodians").json()["custodians"] == [
        theirs
    ]
    assert _verify(gw, recordIds=[rid])[0]["status"] == "verified"

    revoked = gw.client.delete(url, headers=gw.admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["custodians"] == []
    assert gw.client.delete(url, headers=gw.admin).status_code == 200  # idempotent
    (result,) = _verify(gw, recordIds=[rid])
    assert result["status"] == "failed" and "bad_signature" in result["reasons"]
    # Without an active key, unsigned events are refused again, until a new key is made.
    body = assert_problem(_capture(gw, producer, _plain_document(gw, new_lot())), 400)
    assert all("/custodial-key" in e["message"] for e in body["errors"])
    again = _key(gw, producer)
    assert again.status_code == 201 and again.json()["custodians"] != [first]
