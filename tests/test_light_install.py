"""A buyer's light install: ``pip install vntrace`` without the node extra verifies a real
bundle against a running node, and carries none of the node's server-side packages."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
REPO_CLI = (sys.executable, "-m", "vntrace.node.cli")
SERVER_ONLY = ("eth_tester", "eth", "web3", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "lmdb")

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("VNTRACE_", "PYTHON"))}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv holding the local wheel and its base dependencies only."""
    tmp = tmp_path_factory.mktemp("light")
    wheels, venv = tmp / "wheels", tmp / "venv"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("-w", str(wheels), str(ROOT)),
        ],
        check=True,
        capture_output=True,
    )
    (whl,) = wheels.glob("vntrace-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = subprocess.run(
        [
            *(
                str(venv / "bin/python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
            ),
            *("--cache-dir", str(tmp / "cache"), str(whl)),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=900,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv


def test_the_light_install_has_no_server_packages(light: Path) -> None:
    for module in SERVER_ONLY:
        run = subprocess.run(
            [str(light / "bin/python"), "-c", f"import {module}"],
            capture_output=True,
            text=True,
            cwd=light,
            env=_env(),
        )
        assert run.returncode != 0, f"{module} is importable in the light install"
        assert "ModuleNotFoundError" in run.stderr


def test_serve_says_it_needs_the_node_extra(light: Path) -> None:
    run = subprocess.run(
        [str(light / "bin/vntrace"), "serve", "--data-dir", str(light / "data")],
        capture_output=True,
        text=True,
        cwd=light,
        env=_env(),
    )
    assert run.returncode == 2
    assert run.stderr.strip() == "vntrace serve needs the node extra: pip install 'vntrace[node]'"


def test_the_light_install_verifies_a_bundle_from_a_running_node(
    light: Path, tmp_path: Path
) -> None:
    data = tmp_path / "node"
    demo = subprocess.run(
        [*REPO_CLI, "demo", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    lot = re.search(r"^lot\s+(\S+):", demo.stdout, re.MULTILINE)
    assert lot, demo.stdout
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen(
        [*REPO_CLI, "serve", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert serve.poll() is None, "serve exited early"
            assert time.monotonic() < deadline, "serve did not come up"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        gtin = httpx.get(url + "/v1/info").json()["gtins"][0]
        prov = httpx.get(
            f"{url}/01/{gtin}/10/{lot.group(1)}", headers={"Accept": "application/json"}
        ).json()
        rid = prov["records"][0]["recordId"]
        bundle = httpx.get(f"{url}/v1/records/{rid}/bundle").json()
        good, bad = tmp_path / "bundle.json", tmp_path / "tampered.json"
        good.write_text(json.dumps(bundle))
        tampered = json.loads(json.dumps(bundle))
        tampered["event"]["eventTime"] = "2001-01-01T00:00:00Z"
        bad.write_text(json.dumps(tampered))

        def verify(*target: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(light / "bin/vntrace"), "verify", *target, "--node", url, "--json"],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                env=_env(),
                timeout=120,
            )

        for target in (rid, str(good)):
            ok = verify(target)
            assert ok.returncode == 0, ok.stdout + ok.stderr
            assert json.loads(ok.stdout)["status"] == "verified"
        failed = verify(str(bad))
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert json.loads(failed.stdout)["status"] == "failed"
        assert "Traceback" not in failed.stderr
    finally:
        serve.terminate()
        serve.wait(timeout=30)
