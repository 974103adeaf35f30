"""The people commands as real processes, against the real node: output and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import CLI, Node, Producer, anchored_lot, clean_env, events, free_port, new_lot

PASSWORD = "correct horse battery"


def vntrace(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        input=stdin,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cli_env(node: Node) -> dict[str, str]:
    return clean_env(VNTRACE_NODE_URL=node.url, KS_PASSWORD=PASSWORD)


def test_producer_journey(node: Node, cli_env: dict[str, str], tmp_path: Path) -> None:
    """key create -> producer add (admin) -> lot register with events -> events add -> show."""
    keystore = tmp_path / "coop.json"
    r = vntrace("key", "create", str(keystore), "--password-env", "KS_PASSWORD",
                "--kdf-iterations", "1024", env=cli_env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    address = r.stdout.strip()
    assert address.startswith("0x") and "register this address" in r.stderr
    again = vntrace("key", "create", str(keystore), "--password-env", "KS_PASSWORD", env=cli_env)
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr

    admin_file = str(node.data_dir / "admin-token")
    r = vntrace("producer", "add", address, "--name", "HTX CLI", "--api-key-file", admin_file,
                env=cli_env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("vnt_")
    env = dict(cli_env, VNTRACE_API_KEY=token)
    signing = ["--keystore", str(keystore), "--password-env", "KS_PASSWORD"]

    gtin, lot = "08936099000015", new_lot()
    first = tmp_path / "first.json"
    first.write_text(json.dumps(events(2)))
    r = vntrace("lot", "register", gtin, lot, "--events", str(first), *signing, "--wait", "30",
                env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"/01/{gtin}/10/{lot}" in r.stdout and "uploading 2/2 events" in r.stderr

    more = tmp_path / "more.json"  # a file naming its lot, with private fields
    more.write_text(json.dumps({"gtin": gtin, "lot": lot, "events": events(6)[2:]}))
    r = vntrace("events", "add", str(more), *signing, "--batch-size", "2", "--wait", "30",
                "--json", env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert len(summary["recordIds"]) == 4
    progress = [ln for ln in r.stderr.splitlines() if ln.startswith("uploading")]
    assert [ln.split(" (")[0] for ln in progress] == [
        "uploading 2/4 events",
        "uploading 4/4 events",
    ]
    disclosures = json.loads((tmp_path / "more.json.disclosures.json").read_text())
    assert set(next(iter(disclosures.values()))) == {"buyer", "price"}

    r = vntrace("lot", "show", gtin, lot, env=env)
    assert r.returncode == 0, r.stderr
    assert "harvest" in r.stdout and "VERIFIED  lot" in r.stdout and "6 verified" in r.stdout

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**events(1)[0], "plotArea": 2}]))
    r = vntrace("events", "add", str(bad), "--gtin", gtin, "--lot", lot, *signing, env=env)
    assert r.returncode == 2 and "plotArea" in r.stderr and "plotAreaHa" in r.stderr


def test_verify_exit_codes(
    node: Node, producer: Producer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    lot = anchored_lot(producer, 2)
    rid = lot.record_ids[0]
    uri = producer.client.provenance(lot.gtin, lot.lot)["digitalLink"]

    r = vntrace("verify", uri, env=cli_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("VERIFIED  lot") and "anchored  epoch" in r.stdout

    r = vntrace("verify", rid, "--json", env=cli_env)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["status"] == "verified" and result["anchor"]["txHash"]

    bundle = producer.client.bundle(rid)
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle))
    # A bundle file checked straight against a chain JSON-RPC, no gateway involved.
    offline_env = clean_env(VNTRACE_RPC_URL=node.rpc_url)
    r = vntrace("verify", str(good), "--registry", bundle["registry"], env=offline_env)
    assert r.returncode == 0, r.stdout + r.stderr

    bundle["event"]["eventTime"] = "2020-01-01T00:00:00Z"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    r = vntrace("verify", str(tampered), "--json", env=cli_env)
    assert r.returncode == 1
    assert "digest_mismatch" in json.loads(r.stdout)["reasons"]
    r = vntrace("verify", "-", env=offline_env, stdin=json.dumps(bundle))
    assert r.returncode == 1 and r.stdout.startswith("FAILED") and "digest_mismatch" in r.stdout

    producer.client.recall(lot.gtin, lot.lot, "mould found")
    r = vntrace("verify", rid, env=cli_env)
    assert r.returncode == 4 and r.stdout.startswith("RECALLED") and "mould found" in r.stdout

    r = vntrace("verify", rid, "--node", f"http://127.0.0.1:{free_port()}", env=clean_env())
    assert r.returncode == 5 and "cannot reach the node" in r.stderr
