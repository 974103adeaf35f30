"""A real node's log and two real ``vntrace witness serve`` processes on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Gateway, open_gateway
from tests.api.helpers import new_lot
from vntrace.node.tlog.errors import PolicyError
from vntrace.node.tlog.merkle import leaf_hash, root_of
from vntrace.node.tlog.note import Checkpoint, Note, b64
from vntrace.node.tlog.service import LogService, WitnessEndpoint
from vntrace.node.tlog.verify import check_equivocation, verify_checkpoint, verify_log_section

CLI = [sys.executable, "-m", "vntrace.node.cli"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WitnessProc:
    def __init__(self, data: Path, name: str, log_vkey: str) -> None:
        self.data, self.log_vkey = data, log_vkey
        out = subprocess.run(
            [*CLI, "witness", "key", "--data-dir", str(data), "--name", name],
            capture_output=True,
            text=True,
            check=True,
        )
        self.vkey = out.stdout.strip()
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *CLI,
                "witness",
                "serve",
                "--data-dir",
                str(self.data),
                "--log",
                self.log_vkey,
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("witness did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(tmp_path_factory.mktemp("node"))


def _anchor_epoch(gw: Gateway) -> None:
    producer = gw.producer()
    gw.lot_with_events(producer, new_lot(), 2)
    assert gw.node.anchor_now() == 1


def test_two_witnesses_cosign_then_refuse_a_fork(gw: Gateway, tmp_path: Path) -> None:
    base = LogService.for_node(gw.node)
    ws = [WitnessProc(tmp_path / f"w{i}", f"witness.test/w{i}", base.vkey) for i in (1, 2)]
    for w in ws:
        w.start()
    try:
        log = LogService(
            gw.node.store,
            gw.node.identity,
            base._epochs,
            origin=base.origin,
            witnesses=[WitnessEndpoint.parse(f"{w.url} {w.vkey}") for w in ws],
        )
        for _ in range(3):
            _anchor_epoch(gw)
            log.sync()
            assert set(log.push().values()) == {"cosigned"}
        note = log.checkpoint_note()
        cp, cosigners = verify_checkpoint(note, log.vkey, [w.vkey for w in ws], 2)
        assert cp.size == log.size() >= 3 and len(cosigners) == 2

        # A bundle's log section verifies offline against "2 of these 2 witnesses".
        epoch = cp.size
        bundle_rec = gw.node.store.list_epochs(after=epoch - 1, limit=1)[0]
        section = log.bundle_section(epoch)
        assert section is not None
        verdict = verify_log_section(
            section, log_key=log.vkey, witnesses=[w.vkey for w in ws], min_witnesses=2
        )
        assert verdict.leaf.root == bundle_rec.root and len(verdict.cosigners) == 2
        with pytest.raises(PolicyError):
            verify_log_section(section, log_key=log.vkey, witnesses=[ws[0].vkey], min_witnesses=2)

        # Witness 1 is killed -9 and restarted: its durable state holds the size.
        ws[0].kill9()
        _anchor_epoch(gw)
        log.sync()
        outcome = log.push()
        assert outcome[ws[1].vkey.split("+")[0]] == "cosigned"
        assert outcome[ws[0].vkey.split("+")[0]].startswith("error")  # down: no blocking
        ws[0].start()
        assert set(log.push().values()) == {"cosigned"}

        # The operator forks: same size, another root, signed with the node's key.
        size = log.size()
        hashes = [leaf_hash(b"forged %d" % i) for i in range(size)]
        forged_text = Checkpoint(log.origin, size, root_of(hashes)).text
        forged = str(Note(forged_text, (log.signer.sign(forged_text),)))
        for w in ws:
            r = httpx.post(w.url + "/add-checkpoint", content=f"old {size}\n\n{forged}")
            assert r.status_code == 422, r.text
            r = httpx.post(w.url + "/add-checkpoint", content=f"old 0\n\n{forged}")
            assert r.status_code == 409 and r.text == f"{size}\n"
            assert r.headers["content-type"].startswith("text/x.tlog.size")
        # A rewritten history that is larger: its consistency proof cannot verify.
        longer = [*hashes, leaf_hash(b"more")]
        text2 = Checkpoint(log.origin, size + 1, root_of(longer)).text
        note2 = str(Note(text2, (log.signer.sign(text2),)))
        proof = "".join(b64(h) + "\n" for h in log.consistency(1, 2))
        r = httpx.post(ws[0].url + "/add-checkpoint", content=f"old {size}\n{proof}\n{note2}")
        assert r.status_code == 422

        # Malformed requests: the protocol's errors, never a 500.
        bad_sig = f"\u2014 {log.origin} {b64(b'1234' + bytes(64))}\n"  # unknown key ID
        for body, status in (
            (b"garbage", 400),
            (b"old 01\n\n" + forged.encode(), 400),
            (f"old {size + 5}\n\n{forged}".encode(), 400),
            (
                b"old 0\n\nother.origin\n1\n"
                + b64(bytes(32)).encode()
                + b"\n\n\xe2\x80\x94 k AAAAAAA=\n",
                404,
            ),
            (
                f"old {size}\n\n{forged_text}\n{bad_sig}".encode(),
                403,
            ),
        ):
            r = httpx.post(ws[0].url + "/add-checkpoint", content=body)
            assert r.status_code == status, (body, r.status_code, r.text)
        assert httpx.get(ws[0].url + "/add-checkpoint").status_code == 405

        # The evidence command prints both signed checkpoints; anyone can check them.
        out = subprocess.run(
            [*CLI, "witness", "evidence", "--data-dir", str(ws[1].data)],
            capture_output=True,
            text=True,
            check=True,
        )
        doc = json.loads(out.stdout)
        [eq] = [e for e in doc["evidence"] if e["kind"] == "equivocation"]
        assert eq["logKey"] == log.vkey
        assert "two different trees" in check_equivocation(*eq["checkpoints"], log.vkey)
        f = tmp_path / "evidence.json"
        f.write_text(out.stdout)
        chk = subprocess.run(
            [*CLI, "witness", "evidence", "--check", str(f)], capture_output=True, text=True
        )
        assert chk.returncode == 0 and "PROVEN" in chk.stdout

        # After all that, the honest log still gets cosigned (no state was damaged).
        _anchor_epoch(gw)
        log.sync()
        assert set(log.push().values()) == {"cosigned"}
    finally:
        for w in ws:
            w.stop()


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [*CLI, "witness", "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--log" in r.stderr
