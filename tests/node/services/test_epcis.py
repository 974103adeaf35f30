"""EPCIS capture and query over a real node: SDK-signed documents are stored as records,
indexed by their CBV 2.0 hash ID, queried back with the standard filters and paged
exactly once; refused documents name each event and store nothing."""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import delete, func, select

from tests.support.epcis import gs1_example
from vntrace.client.epcis import profile_events_document, sign_epcis_document
from vntrace.node.demo import season_events
from vntrace.node.epcis.gs1keys import lot_class_uri
from vntrace.node.epcis.hashid import event_hash_id, namespaces_of
from vntrace.node.epcis.index import EpcisQueryError
from vntrace.node.epcis.mapping import with_context
from vntrace.node.epcis.records import SIGNATURE_FIELD, split_signature
from vntrace.node.records import parse_json
from vntrace.node.service import TraceNode
from vntrace.node.services.epcis import CaptureRefusedError, CaptureTooLargeError
from vntrace.node.store.schema import epcis_epcs, epcis_events, records
from vntrace.node.store.types import ProducerRow

from .conftest import NOW


def _lot() -> str:
    return "E-" + secrets.token_hex(5).upper()


@pytest.fixture
def producer(node: TraceNode) -> tuple[LocalAccount, ProducerRow]:
    acct = Account.create()
    return acct, node.producers.register_producer(acct.address, "HTX Cư Kuin")


def _facts(node: TraceNode) -> dict[str, Any]:
    return {"chain_id": node.chain.chain_id, "registry": node.chain.registry_address}


def _demo_doc(node: TraceNode, acct: LocalAccount, lot: str) -> dict[str, Any]:
    gtin = node.profile.gtins[0]
    return profile_events_document(
        node.profile, gtin, lot, season_events(NOW), acct, **_facts(node)
    )


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _record_count(node: TraceNode) -> int:
    with node.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(records)).scalar_one())


def _signed_forms(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for event in doc["epcisBody"]["eventList"]:
        plain, _ = split_signature(event)
        out.append(with_context(plain, doc["@context"]))
    return out


def test_demo_document_captures_and_queries_back(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    lot = _lot()
    doc = _demo_doc(node, acct, lot)
    result = node.epcis.capture(row, _bytes(doc))
    assert len(result.acknowledgements) == 6
    assert all(a.receipt and not a.duplicate for a in result.acknowledgements)
    # The hash IDs returned and stored are the ones computed over the signed events
    # (the envelope is not event data); the demo's eventIDs are those hash IDs.
    signed = _signed_forms(doc)
    assert result.hash_ids == [event_hash_id(e) for e in signed] == [e["eventID"] for e in signed]
    leaves = [bytes.fromhex(a.record_id[2:]) for a in result.acknowledgements]
    assert node.epcis.store.hash_ids(leaves) == dict(zip(leaves, result.hash_ids, strict=True))
    job = node.epcis.capture_job(result.capture_id)
    assert (job.state, job.record_count, job.errors) == ("success", 6, [])

    epc_class = lot_class_uri(node.profile.gtins[0], lot)
    page = node.epcis.query({"MATCH_epcClass": epc_class})
    assert page.events == [
        e for e in _signed_forms(doc) if e["type"] != "TransformationEvent"
    ]  # drying/hulling carry the lot as input/output, not quantityList
    page = node.epcis.query({"MATCH_anyEPCClass": epc_class})
    assert page.events == _signed_forms(doc)  # exactly as signed, in intake order
    assert [r["recordId"] for r in page.records] == [a.record_id for a in result.acknowledgements]
    assert all(r["version"] == 2 and r["bundle"].endswith("/bundle") for r in page.records)
    shipping = node.epcis.query({"MATCH_anyEPCClass": epc_class, "EQ_bizStep": "shipping"})
    assert [e["vnt:kind"] for e in shipping.events] == ["shipping"]
    # Private fields are commitments in what anyone can query.
    assert set(shipping.events[0]["vnt:price"]) == {"commitment"}
    # CBV URI form and bare word are the same bizStep.
    web = node.epcis.query(
        {"MATCH_anyEPCClass": epc_class, "EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"}
    )
    assert web.events == shipping.events
    # Resubmitting the same document stores nothing new.
    again = node.epcis.capture(row, _bytes(doc))
    assert all(a.duplicate for a in again.acknowledgements)
    assert len(node.epcis.query({"MATCH_anyEPCClass": epc_class}).events) == 6


def test_gs1_example_captures_and_queries_back(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    gtin, lot = node.profile.gtins[0], _lot()
    example = gs1_example(node.profile, gtin, lot)
    doc = sign_epcis_document(example, node.profile, acct, set_event_ids=True, **_facts(node))
    result = node.epcis.capture(row, _bytes(doc))
    assert len(result.acknowledgements) == 2
    stored = node.epcis.query({"MATCH_epcClass": lot_class_uri(gtin, lot)}).events
    original = example["epcisBody"]["eventList"]
    assert len(stored) == 2
    for got, want, hash_id in zip(stored, original, result.hash_ids, strict=True):
        # Same meaning: every field GS1 wrote is there unchanged; eventID is the hash ID.
        assert {k: v for k, v in got.items() if k not in ("eventID", "@context")} == {
            k: v for k, v in want.items() if k != "eventID"
        }
        assert got["eventID"] == hash_id == event_hash_id(got)
        assert SIGNATURE_FIELD not in got
    # GS1's readPoint and bizLocation are queryable, URN or Digital Link alike.
    by_loc = node.epcis.query({"EQ_bizLocation": "urn:epc:id:sgln:0012345.11111.0"})
    assert [e["bizStep"] for e in by_loc.events if e in stored] == ["receiving"]
    by_id = node.epcis.query({"EQ_eventID": result.hash_ids[0]})
    assert [e["bizStep"] for e in by_id.events] == ["shipping"]


def test_correction_is_stored_and_shown(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    gtin, lot = node.profile.gtins[0], _lot()
    example = gs1_example(node.profile, gtin, lot)
    first = sign_epcis_document(example, node.profile, acct, set_event_ids=True, **_facts(node))
    node.epcis.capture(row, _bytes(first))
    wrong = copy.deepcopy(first["epcisBody"]["eventList"][0])
    wrong.pop(SIGNATURE_FIELD)
    wrong["errorDeclaration"] = {
        "declarationTime": "2005-04-05T10:00:00.000Z",
        "reason": "incorrect_data",
    }
    fix = {**first, "epcisBody": {"eventList": [wrong]}}
    signed_fix = sign_epcis_document(fix, node.profile, acct, **_facts(node))
    result = node.epcis.capture(row, _bytes(signed_fix))
    assert result.hash_ids == [wrong["eventID"]]  # the hash ID leaves errorDeclaration out
    assert not result.acknowledgements[0].duplicate  # never collapsed into the event
    both = node.epcis.query({"EQ_eventID": wrong["eventID"]}).events
    assert len(both) == 2 and "errorDeclaration" in both[1] and "errorDeclaration" not in both[0]
    corrections = node.epcis.query(
        {"EXISTS_errorDeclaration": "", "MATCH_epcClass": lot_class_uri(gtin, lot)}
    )
    assert [e["errorDeclaration"]["reason"] for e in corrections.events] == ["incorrect_data"]
    leaf = bytes.fromhex(result.acknowledgements[0].record_id[2:])
    with node.store.engine.connect() as conn:
        corrected = conn.execute(
            select(epcis_events.c.correction_of).where(epcis_events.c.leaf == leaf)
        ).scalar_one()
    assert corrected == wrong["eventID"]


def _refused(node: TraceNode, row: ProducerRow, doc: dict[str, Any] | bytes) -> list[dict]:
    before = _record_count(node)
    with pytest.raises(CaptureRefusedError) as info:
        node.epcis.capture(row, doc if isinstance(doc, bytes) else _bytes(doc))
    assert _record_count(node) == before  # nothing stored
    job = node.epcis.capture_job(info.value.capture_id)
    assert job.state == "failed" and job.errors == info.value.errors
    return info.value.errors


def test_bad_documents_name_each_event_and_store_nothing(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    lot = _lot()
    doc = _demo_doc(node, acct, lot)
    ids = [e["eventID"] for e in doc["epcisBody"]["eventList"]]

    schema = copy.deepcopy(doc)
    schema["epcisBody"]["eventList"][1]["eventTime"] = "yesterday"
    assert [(e["index"], e["eventID"], e["rule"]) for e in _refused(node, row, schema)] == [
        (1, ids[1], "schema")
    ]
    vocab = copy.deepcopy(doc)
    vocab["epcisBody"]["eventList"][5]["bizStep"] = "https://ref.gs1.org/cbv/BizStep-teleporting"
    assert (5, ids[5], "vocabulary") in [
        (e["index"], e["eventID"], e["rule"]) for e in _refused(node, row, vocab)
    ]
    bad_sig = copy.deepcopy(doc)  # one bad event among good ones
    envelope = bad_sig["epcisBody"]["eventList"][3][SIGNATURE_FIELD]
    envelope["salt"] = "0x" + "11" * 32
    errors = _refused(node, row, bad_sig)
    assert [(e["index"], e["eventID"], e["rule"]) for e in errors] == [(3, ids[3], "signature")]
    renamed = copy.deepcopy(doc)  # an ni: eventID must be the event's own hash ID
    renamed["epcisBody"]["eventList"][0]["eventID"] = ids[1]
    assert [(e["index"], e["rule"]) for e in _refused(node, row, renamed)] == [(0, "identifier")]
    unsigned = copy.deepcopy(doc)
    del unsigned["epcisBody"]["eventList"][2][SIGNATURE_FIELD]
    (error,) = _refused(node, row, unsigned)
    assert (error["index"], error["rule"]) == (2, "signature")
    assert "custodial signing" in error["message"]
    assert [e["rule"] for e in _refused(node, row, b"{not json")] == ["json"]
    # Someone else's signature under this producer's key.
    other = _demo_doc(node, Account.create(), lot)
    assert {e["rule"] for e in _refused(node, row, other)} == {"signature"}
    assert (
        node.epcis.query({"MATCH_anyEPCClass": lot_class_uri(node.profile.gtins[0], lot)}).events
        == []
    )


def test_another_producers_lot_is_refused(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    lot = _lot()
    node.epcis.capture(row, _bytes(_demo_doc(node, acct, lot)))
    intruder = Account.create()
    intruder_row = node.producers.register_producer(intruder.address, "Intruder")
    errors = _refused(node, intruder_row, _demo_doc(node, intruder, lot))
    assert {e["rule"] for e in errors} == {"lot"}


def test_size_is_checked_before_parsing(node: TraceNode, producer: Any) -> None:
    _, row = producer
    with pytest.raises(CaptureTooLargeError):
        node.epcis.capture(row, b"[" * (node.epcis.max_document_bytes + 1))


def test_paging_returns_every_event_exactly_once(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    lot = _lot()
    epc_class = lot_class_uri(node.profile.gtins[0], lot)
    node.epcis.capture(row, _bytes(_demo_doc(node, acct, lot)))
    seen: list[str] = []
    params = {"MATCH_anyEPCClass": epc_class, "perPage": "4"}
    page = node.epcis.query(params)
    seen += [r["recordId"] for r in page.records]
    # Events arriving between pages do not shift the pages already read.
    node.epcis.capture(row, _bytes(_demo_doc(node, acct, lot)))
    while page.next_page_token:
        page = node.epcis.query({**params, "nextPageToken": page.next_page_token})
        seen += [r["recordId"] for r in page.records]
    assert len(seen) == len(set(seen)) == 12
    with pytest.raises(EpcisQueryError, match="another query"):
        node.epcis.query({"EQ_bizStep": "shipping", "nextPageToken": page_token(node, params)})


def page_token(node: TraceNode, params: dict[str, str]) -> str:
    token = node.epcis.query({**params, "perPage": "1"}).next_page_token
    assert token is not None
    return token


def test_bad_query_parameters(node: TraceNode) -> None:
    for params, name in (
        ({"eventType": "PartyEvent"}, "eventType"),
        ({"GE_eventTime": "soon"}, "GE_eventTime"),
        ({"perPage": "0"}, "perPage"),
        ({"EQ_colour": "red"}, "EQ_colour"),
        ({"MATCH_epc": "urn:epc:idpat:sgtin:0614141.*"}, "MATCH_epc"),
        ({"nextPageToken": "!!"}, "nextPageToken"),
    ):
        with pytest.raises(EpcisQueryError) as info:
            node.epcis.query(params)
        assert info.value.parameter == name


def test_index_is_rebuilt_from_the_records(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    lot = _lot()
    epc_class = lot_class_uri(node.profile.gtins[0], lot)
    result = node.epcis.capture(row, _bytes(_demo_doc(node, acct, lot)))
    before = node.epcis.query({"MATCH_anyEPCClass": epc_class})
    leaves = [bytes.fromhex(a.record_id[2:]) for a in result.acknowledgements]
    with node.store.engine.begin() as conn:  # as if the process died before indexing
        conn.execute(delete(epcis_epcs).where(epcis_epcs.c.leaf.in_(leaves)))
        conn.execute(delete(epcis_events).where(epcis_events.c.leaf.in_(leaves)))
    assert node.epcis.query({"MATCH_anyEPCClass": epc_class}).events == []
    assert node.epcis.rebuild_index() == 6
    after = node.epcis.query({"MATCH_anyEPCClass": epc_class})
    assert after.events == before.events
    assert node.epcis.store.hash_ids(leaves) == dict(zip(leaves, result.hash_ids, strict=True))
    stored = parse_json(node.store.get_record(leaves[0]).event_json)  # type: ignore[union-attr]
    assert event_hash_id(stored, namespaces_of(stored["@context"])) == result.hash_ids[0]


def test_private_values_are_sealed_for_auditors(node: TraceNode, producer: Any) -> None:
    acct, row = producer
    doc = _demo_doc(node, acct, _lot())
    shipping = next(e for e in doc["epcisBody"]["eventList"] if e["vnt:kind"] == "shipping")
    opened = shipping[SIGNATURE_FIELD]["disclosures"]
    assert set(opened) == {"vnt:buyer", "vnt:price"}
    tampered = copy.deepcopy(doc)
    index = doc["epcisBody"]["eventList"].index(shipping)
    tampered["epcisBody"]["eventList"][index][SIGNATURE_FIELD]["disclosures"]["vnt:price"][
        "value"
    ] = {"amount": "1.00", "currency": "USD"}
    errors = _refused(node, row, tampered)
    assert [(e["index"], e["rule"]) for e in errors] == [(index, "disclosure")]

    result = node.epcis.capture(row, _bytes(doc))
    record_id = result.acknowledgements[index].record_id
    assert node.disclosures(record_id) == opened
    withheld = profile_events_document(
        node.profile, node.profile.gtins[0], _lot(), season_events(NOW), acct,
        disclose=False, **_facts(node),
    )  # fmt: skip
    assert all("disclosures" not in e[SIGNATURE_FIELD] for e in withheld["epcisBody"]["eventList"])


def test_a_partner_document_with_private_values_in_clear_is_committed_before_signing(
    node: TraceNode, producer: Any
) -> None:
    """An ERP's EPCIS document holds the price in clear: the SDK commits it (the event's
    derived hash ID follows), sends the value sealed, and the node stores a commitment."""
    from vntrace.node.epcis.mapping import epcis_document, to_epcis

    acct, row = producer
    gtin, lot = node.profile.gtins[0], _lot()
    clear = [to_epcis(node.profile, gtin, lot, e) for e in season_events(NOW)]
    shipping = next(i for i, e in enumerate(clear) if e["vnt:kind"] == "shipping")
    price = clear[shipping]["vnt:price"]
    assert "commitment" not in price
    doc = sign_epcis_document(epcis_document(clear, node.profile), node.profile, acct,
                              **_facts(node))  # fmt: skip
    signed = doc["epcisBody"]["eventList"][shipping]
    assert set(signed["vnt:price"]) == {"commitment"}
    assert signed[SIGNATURE_FIELD]["disclosures"]["vnt:price"]["value"] == price
    assert signed["eventID"] != clear[shipping]["eventID"]  # the committed event's hash ID
    result = node.epcis.capture(row, _bytes(doc))
    record_id = result.acknowledgements[shipping].record_id
    assert node.bundle(record_id)["event"]["vnt:price"] == signed["vnt:price"]
    assert node.disclosures(record_id)["vnt:price"]["value"] == price
    untouched = doc["epcisBody"]["eventList"][0]
    assert untouched["eventID"] == clear[0]["eventID"]  # nothing private: as it came
