"""The SDK stays light: no py-evm, eth-tester, web3, FastAPI, Starlette, uvicorn or
SQLAlchemy, neither on import nor while a buyer runs ``vntrace verify``, a producer
runs ``vntrace audit`` or an auditor reads confidential values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vntrace.client import save_receipts

from .conftest import Node, Producer, anchored_lot, clean_env, events, new_lot

HEAVY = ("eth", "eth_tester", "web3", "fastapi", "starlette", "uvicorn", "sqlalchemy")

_REPORT = """
import json, sys
heavy = {heavy!r}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set(heavy))))
"""


def _loaded(code: str) -> list[str]:
    script = code + _REPORT.format(heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean_env(), check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_sdk_is_light() -> None:
    assert _loaded("import vntrace.client, vntrace.client.cli, vntrace.node.cli") == []


def test_verifying_end_to_end_is_light(node: Node, producer: Producer) -> None:
    lot = anchored_lot(producer, 1)
    code = f"""
import contextlib, io
from vntrace.client import Client
from vntrace.node.cli import main
with Client({node.url!r}) as c:
    assert c.verify_record({lot.record_ids[0]!r}).ok
    event = c.provenance({lot.gtin!r}, {lot.lot!r})["records"][0]["event"]
    c.signer("0x" + "11" * 32).sign_many({lot.gtin!r}, "L1", [event])
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["verify", {lot.record_ids[0]!r}, "--node", {node.url!r}]) == 0
"""
    assert _loaded(code) == []


def test_auditing_and_reading_disclosures_is_light(
    node: Node, producer: Producer, tmp_path: Path
) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    shipping = [e for e in events(6) if e["kind"] == "shipping"]
    written = client.register_lot(gtin, lot, producer.signer.sign_many(gtin, lot, shipping))
    client.wait_anchored(written.record_ids, timeout=30)
    receipts = tmp_path / "receipts.jsonl"
    save_receipts(receipts, written.receipts)
    code = f"""
import contextlib, io
from vntrace.client import Client, load_receipts
from vntrace.node.cli import main
with Client({node.url!r}, api_key={producer.token!r}) as c:
    assert c.disclosures({written.record_ids[0]!r}).values
    assert c.audit(load_receipts({str(receipts)!r})).ok
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["audit", {str(receipts)!r}, "--node", {node.url!r}]) == 0
"""
    assert _loaded(code) == []
