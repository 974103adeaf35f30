"""EPCIS 2.0 through the SDK and ``vntrace epcis`` against a real node process: GS1's
example signed by the SDK, captured, queried back and verified against the chain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.support.epcis import gs1_example
from vntrace.client import AsyncClient
from vntrace.client.epcis import sign_document_with
from vntrace.client.errors import ApiError
from vntrace.node.epcis.gs1keys import lot_class_uri
from vntrace.node.epcis.mapping import with_context
from vntrace.node.epcis.records import SIGNATURE_FIELD
from vntrace.node.epcis.validate import epcis_schema_validator
from vntrace.node.records import canonicalize

from .conftest import Node, Producer, clean_env, new_lot
from .test_cli import vntrace


def test_cli_names_the_signature_field_as_the_core_does() -> None:
    from vntrace.client import epcis_cli

    assert epcis_cli.SIGNATURE_FIELD == SIGNATURE_FIELD


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_sdk_capture_query_and_verify_on_chain(node: Node, producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    doc = sign_document_with(
        producer.signer, gs1_example(producer.signer.profile, gtin, lot), set_event_ids=True
    )
    job = client.capture_epcis(doc)
    assert job["success"] is True and job["recordCount"] == 2
    assert client.capture_job(job["captureID"])["running"] is False
    client.wait_anchored([r["recordId"] for r in job["records"]], timeout=30)

    answer = client.query_events(epc_class=lot_class_uri(gtin, lot), per_page=10)
    assert [e.message for e in epcis_schema_validator().iter_errors(answer)] == []
    events = _events(answer)
    assert [e["eventID"] for e in events] == job["hashIDs"]
    for event, entry in zip(events, answer["vnt:records"], strict=True):
        result = client.verify_record(entry["recordId"])
        assert result.ok, result
        bundle = client.bundle(entry["recordId"])
        assert canonicalize(bundle["event"]) == canonicalize(
            with_context(event, answer["@context"])
        )

    # The same through the async client; a filter that matches nothing gives no events.
    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncClient(node.url) as aclient:
            return (
                await aclient.query_events(
                    EQ_bizStep="receiving", MATCH_epcClass=lot_class_uri(gtin, lot)
                ),
                await aclient.query_events(
                    biz_step=["packing"], epc_class=lot_class_uri(gtin, lot)
                ),
            )

    receiving, none = asyncio.run(run())
    assert [e["bizStep"] for e in _events(receiving)] == ["receiving"]
    assert _events(none) == []


def test_sdk_capture_refusal_names_the_event(producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    doc = sign_document_with(
        producer.signer, gs1_example(producer.signer.profile, gtin, lot), set_event_ids=True
    )
    doc["epcisBody"]["eventList"][1][SIGNATURE_FIELD]["salt"] = "0x" + "22" * 32
    try:
        client.capture_epcis(doc)
    except ApiError as exc:
        assert exc.status == 400
        assert [i.index for i in exc.errors] == [1]
    else:
        raise AssertionError("a bad signature was accepted")
    assert _events(client.query_events(any_epc_class=lot_class_uri(gtin, lot))) == []


def _env(node: Node, producer: Producer, **extra: str) -> dict[str, str]:
    return clean_env(
        VNTRACE_NODE_URL=node.url,
        VNTRACE_API_KEY=producer.token,
        PRODUCER_KEY=producer.key,
        **extra,
    )


def test_cli_capture_query_export(node: Node, producer: Producer, tmp_path: Path) -> None:
    gtin, lot = producer.client.info().gtins[0], new_lot()
    path = tmp_path / "gs1.jsonld"
    path.write_text(json.dumps(gs1_example(producer.signer.profile, gtin, lot)), "utf-8")
    env = _env(node, producer)
    r = vntrace(
        "epcis", "capture", str(path), "--key-env", "PRODUCER_KEY", "--set-event-ids", env=env
    )
    assert r.returncode == 0, r.stderr
    assert "2 event(s) stored" in r.stdout
    again = vntrace(
        "epcis", "capture", str(path), "--key-env", "PRODUCER_KEY", "--set-event-ids", env=env
    )
    assert (
        again.returncode == 0 and "(already stored)" not in again.stdout
    )  # new salts: new records

    q = vntrace(
        "epcis",
        "query",
        "--epc-class",
        lot_class_uri(gtin, lot),
        "--biz-step",
        "shipping",
        "--json",
        env=env,
    )
    assert q.returncode == 0, q.stderr
    assert [e["bizStep"] for e in json.loads(q.stdout)["events"]] == ["shipping", "shipping"]
    paged = vntrace(
        "epcis",
        "query",
        "--epc-class",
        lot_class_uri(gtin, lot),
        "--per-page",
        "1",
        "--all",
        env=env,
    )
    assert paged.returncode == 0 and len(paged.stdout.splitlines()) == 4
    empty = vntrace("epcis", "query", "--epc-class", lot_class_uri(gtin, new_lot()), env=env)
    assert empty.returncode == 1 and "0 event(s)" in empty.stderr

    out = tmp_path / "lot.jsonld"
    e = vntrace("epcis", "export", gtin, lot, "--out", str(out), env=env)
    assert e.returncode == 0, e.stderr
    exported = json.loads(out.read_text("utf-8"))
    assert len(exported["epcisBody"]["eventList"]) == len(exported["vnt:records"]) == 4


def test_cli_errors_are_one_line(node: Node, producer: Producer, tmp_path: Path) -> None:
    gtin, lot = producer.client.info().gtins[0], new_lot()
    env = _env(node, producer)
    bad = tmp_path / "bad.jsonld"
    doc = gs1_example(producer.signer.profile, gtin, lot)
    doc["epcisBody"]["eventList"][0]["bizStep"] = "https://ref.gs1.org/cbv/BizStep-teleporting"
    bad.write_text(json.dumps(doc), "utf-8")
    r = vntrace(
        "epcis", "capture", str(bad), "--key-env", "PRODUCER_KEY", "--set-event-ids", env=env
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "event 0" in r.stderr and "teleporting" in r.stderr
    unsigned = tmp_path / "unsigned.jsonld"
    unsigned.write_text(json.dumps(gs1_example(producer.signer.profile, gtin, lot)), "utf-8")
    r = vntrace("epcis", "capture", str(unsigned), env=env)
    assert r.returncode == 2 and "not signed" in r.stderr and "Traceback" not in r.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope", "utf-8")
    r = vntrace("epcis", "capture", str(garbage), env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    r = vntrace("epcis", "query", "--event-type", "PartyEvent", env=env)
    assert r.returncode == 5 and "Traceback" not in r.stderr and "eventType" in r.stderr


def test_cli_sends_a_signed_document_as_it_is(
    node: Node, producer: Producer, tmp_path: Path
) -> None:
    gtin, lot = producer.client.info().gtins[0], new_lot()
    doc = sign_document_with(
        producer.signer, gs1_example(producer.signer.profile, gtin, lot), set_event_ids=True
    )
    path = tmp_path / "signed.jsonld"
    path.write_text(json.dumps(doc), "utf-8")
    env = clean_env(VNTRACE_NODE_URL=node.url, VNTRACE_API_KEY=producer.token)
    r = vntrace("epcis", "capture", str(path), "--json", env=env)  # no key needed
    assert r.returncode == 0, r.stderr
    job = json.loads(r.stdout)
    assert job["recordCount"] == 2 and job["captureErrorBehaviour"] == "rollback"
