"""A real ``vntrace serve`` process for fault, security and soak runs, and HTTP helpers.

The process writes its log to a file (never a pipe nobody reads: uvicorn logs every
request and a full pipe would stall the server), runs in its own session so a test's
signals never reach it, and is stopped by its pid only.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from vntrace.node.demo import season_events
from vntrace.node.profile import Profile, load_profile
from vntrace.node.records import prepare_record

_ACCESS = re.compile(r'" (\d{3})$', re.MULTILINE)
ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "vntrace.node.cli")


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the developer's ``VNTRACE_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    env.setdefault("ETH_HASH_BACKEND", "pysha3")
    env.update(extra)
    return env


@dataclass
class ServeProcess:
    """One ``vntrace serve`` on ``data_dir``, restartable on the same folder and port."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    """More ``vntrace serve`` options (``--workers 2``)."""
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, *, timeout: float = 90.0, **extra_env: str) -> None:
        """Start (or restart) the server and wait until ``/healthz`` answers."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n==== start {self.starts} ====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    *CLI,
                    *("serve", "--data-dir", str(self.data_dir), "--port", str(self.port)),
                    *self.args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=clean_env(**{**self.env, **extra_env}),
                cwd=ROOT,
                start_new_session=True,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"serve exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not come up in {timeout} s:\n{self.log_tail()}")

    def kill(self) -> int:
        """SIGKILL the server (no clean-up at all); returns its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGINT: a clean stop (requests finish, anchoring finishes its step)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return self.kill()
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_bytes(self) -> int:
        """Resident memory of the server process (Linux ``/proc``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def admin_headers(self) -> dict[str, str]:
        token = (self.data_dir / "admin-token").read_text().strip()
        return {"Authorization": f"Bearer {token}"}

    def access_statuses(self) -> Counter[int]:
        """Status codes of every request in the server's access log (all its runs)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return Counter()
        return Counter(int(m) for m in _ACCESS.findall(text))

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


@dataclass
class HttpProducer:
    """A producer registered over HTTP: its signing key and its API key."""

    account: LocalAccount
    token: str
    key_id: str

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register_producer(
    http: httpx.Client, admin: dict[str, str], name: str = "Coop"
) -> HttpProducer:
    """Register a fresh producer and issue its API key (admin calls)."""
    account = Account.create()
    r = http.post("/v1/producers", json={"address": account.address, "name": name}, headers=admin)
    assert r.status_code in (200, 201), r.text
    r = http.post(f"/v1/producers/{account.address}/keys", json={}, headers=admin)
    assert r.status_code == 201, r.text
    return HttpProducer(account, r.json()["token"], r.json()["keyId"])


class EventSigner:
    """Signs demo-season events for lots, as a producer's SDK would."""

    def __init__(self, info: dict[str, Any], profile: Profile | None = None) -> None:
        self.info = info
        self.profile = profile or load_profile(info.get("profile", "robusta-vn"))
        self.gtin: str = info["gtins"][0]
        self._season = season_events(datetime.now(UTC))

    def sign(
        self,
        account: LocalAccount,
        lot: str,
        count: int,
        *,
        start: int = 0,
        chain_id: int | None = None,
        registry: str | None = None,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """``count`` signed events for ``lot``: request items and their record ids.

        ``chain_id`` and ``registry`` sign for another deployment (replay tests).
        """
        items: list[dict[str, Any]] = []
        ids: list[str] = []
        for i in range(count):
            event = dict(self._season[(start + i) % len(self._season)])
            prepared = prepare_record(self.profile, self.gtin, lot, event)
            signed = prepared.sign(
                account,
                self.info["chainId"] if chain_id is None else chain_id,
                registry or self.info["registry"],
            )
            items.append(
                {
                    "event": signed.event,
                    "salt": "0x" + signed.salt.hex(),
                    "signature": "0x" + signed.signature.hex(),
                }
            )
            ids.append("0x" + signed.leaf.hex())
        return items, ids


def is_problem(response: httpx.Response) -> bool:
    """An RFC 9457 problem+json answer with a matching ``status``."""
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    body = response.json()
    return body.get("status") == response.status_code and bool(body.get("title"))


def metric(http: httpx.Client, name: str) -> float:
    """One unlabelled sample from ``/metrics``."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")
