"""``vntrace serve`` as a real process: uvicorn over HTTP, then SIGINT, exit code 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account

from vntrace.node.profile import load_profile

from .helpers import signed_events

CLI = (sys.executable, "-m", "vntrace.node.cli")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {proc.communicate()[0]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not come up")


def test_serve_process(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    env["VNTRACE_EPOCH_SECONDS"] = "0.2"
    proc = subprocess.Popen(
        [*CLI, "serve", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        _wait_ready(url, proc)
        admin = {"Authorization": f"Bearer {(tmp_path / 'admin-token').read_text().strip()}"}
        with httpx.Client(base_url=url, timeout=30) as http:
            info = http.get("/v1/info").json()
            account = Account.create()
            http.post(
                "/v1/producers", json={"address": account.address, "name": "P"}, headers=admin
            )
            token = http.post(f"/v1/producers/{account.address}/keys", headers=admin).json()[
                "token"
            ]
            gtin, lot = info["gtins"][0], "SERVE-1"
            events = signed_events(load_profile("robusta-vn"), info, account, gtin, lot, 2)
            r = http.post(
                "/v1/lots",
                json={"gtin": gtin, "lot": lot, "events": events},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
            rid = r.json()["recordIds"][0]
            deadline = time.monotonic() + 30
            while http.get(f"/v1/records/{rid}").json()["status"] != "anchored":
                assert time.monotonic() < deadline, "the serve process never anchored"
                time.sleep(0.1)
            bundle = http.get(f"/v1/records/{rid}/bundle").json()
            verdict = http.post("/v1/verify", json={"bundles": [bundle]}).json()
            assert verdict["results"][0]["status"] == "verified"
            assert http.get("/readyz").status_code == 200
            assert "vntrace_epochs_anchored_total" in http.get("/metrics").text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode == 0, output
    assert f"{url}/docs" in output and str(tmp_path) in output
    assert "admin-token" in output and "vnt_" not in output
