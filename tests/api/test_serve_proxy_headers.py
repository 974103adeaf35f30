"""A real ``vntrace serve`` trusts no X-Forwarded-For unless proxies are configured."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from .test_serve import CLI, _free_port, _wait_ready


def _serve(tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    env |= {"VNTRACE_RATE_LIMIT_PER_SECOND": "0.01", "VNTRACE_RATE_LIMIT_BURST": "2", **extra}
    proc = subprocess.Popen(
        [*CLI, "serve", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url, proc)
    return proc, url


def _statuses(url: str) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as http:
        return [
            http.get("/v1/info", headers={"X-Forwarded-For": f"10.9.8.{i}"}).status_code
            for i in range(5)
        ]


def test_spoofed_forwarded_for_does_not_escape_the_rate_limit(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path / "a")
    try:
        statuses = _statuses(url)
    finally:
        proc.terminate()
        proc.wait(30)
    assert statuses[:2] == [200, 200] and 429 in statuses[2:], statuses


def test_configured_proxy_is_trusted(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path / "b", VNTRACE_FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        statuses = _statuses(url)
    finally:
        proc.terminate()
        proc.wait(30)
    assert statuses == [200] * 5, statuses  # each forwarded client has its own budget
