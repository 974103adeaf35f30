"""Several real node processes on one PostgreSQL database and one JSON-RPC chain.

Shared by the multi-node tests and ``scripts/bench_multinode.py``. The registry is
deployed once (by :func:`bootstrap`); every process then gets the same operator key and
registry address, as a production deployment's gateways would, and its own data folder
holding copies of the one node's secrets made at bootstrap (``node-identity.pem``, which
signs intake receipts and is published on chain, and ``vault-keys``, which seal
confidential fields): several processes are one node, not several.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account

from tests.support.anvil import ANVIL_KEYS
from vntrace.node.config import Settings
from vntrace.node.service import TraceNode

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = ANVIL_KEYS[0]
OPERATOR_KEY = ANVIL_KEYS[1]
PRODUCER_KEY = ANVIL_KEYS[2]
#: Files of the data folder that every process of one node must share.
SHARED_SECRETS = ("node-identity.pem", "vault-keys")


@dataclass(frozen=True)
class Cluster:
    """What every node process of one deployment shares."""

    database_url: str
    rpc_url: str
    registry: str
    secrets_dir: Path
    producer_key: str = PRODUCER_KEY

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        """``VNTRACE_*`` settings of one process (plus ``extra`` overrides); its data
        folder is created with the node's shared secrets in it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in SHARED_SECRETS:
            if not (data_dir / name).exists():
                shutil.copy2(self.secrets_dir / name, data_dir / name)  # keeps mode 0600
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("VNTRACE_") or k == "VNTRACE_TEST_POSTGRES_URL"
        }
        env.update(
            VNTRACE_DATA_DIR=str(data_dir),
            VNTRACE_DATABASE_URL=self.database_url,
            VNTRACE_CHAIN="rpc",
            VNTRACE_RPC_URL=self.rpc_url,
            VNTRACE_OPERATOR_KEY=OPERATOR_KEY,
            VNTRACE_ADMIN_KEY=ADMIN_KEY,
            VNTRACE_REGISTRY_ADDRESS=self.registry,
            VNTRACE_EPOCH_SECONDS="0.3",
            VNTRACE_EPOCH_MAX_RECORDS="16",
            ETH_HASH_BACKEND="pysha3",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env


def bootstrap(database_url: str, rpc_url: str, data_dir: Path) -> Cluster:
    """Deploy the registry once and register the producer (on the node and on chain)."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        chain="rpc",
        rpc_url=rpc_url,
        operator_key=OPERATOR_KEY,
        admin_key=ADMIN_KEY,
    )  # type: ignore[call-arg]
    with TraceNode.open(settings) as node:
        node.register_producer(Account.from_key(PRODUCER_KEY).address, "HTX Ea Tu")
        registry = node.chain.registry_address
    return Cluster(database_url, rpc_url, registry, data_dir)


@dataclass
class Line:
    at: float
    text: str


@dataclass
class NodeProcess:
    """One worker process (``tests.multinode.node_worker``) and what it printed."""

    name: str
    proc: subprocess.Popen[str]
    data_dir: Path
    lines: list[Line] = field(default_factory=list)
    ended_at: float | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def start(
        cls,
        name: str,
        cluster: Cluster,
        data_dir: Path,
        *,
        records: int,
        batch: int,
        pause: float,
        loop_delay: float = 0.0,
        env: Mapping[str, str] | None = None,
        module: str = "tests.multinode.node_worker",
    ) -> NodeProcess:
        args = [name, cluster.producer_key, str(records), str(batch), str(pause), str(loop_delay)]
        process_env = cluster.env(data_dir, **(env or {}))
        with open(data_dir / "stderr.log", "w") as err:  # a file never blocks the child
            proc = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=ROOT,
                env=process_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        node = cls(name, proc, data_dir)
        threading.Thread(target=node._read, daemon=True).start()
        return node

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._cond:
                self.lines.append(Line(time.time(), raw.rstrip("\n")))
                self._cond.notify_all()
        self.proc.wait()
        with self._cond:
            self.ended_at = time.time()
            self._cond.notify_all()

    # -- evidence --------------------------------------------------------------------

    def acked(self) -> list[str]:
        with self._cond:
            return [x.text.split()[1] for x in self.lines if x.text.startswith("ACK ")]

    def logs(self, contains: str) -> list[tuple[float, str]]:
        """``(time the process logged it, message)`` of its anchoring log lines."""
        out = []
        with self._cond:
            for x in self.lines:
                if x.text.startswith("LOG ") and contains in x.text:
                    _, at, message = x.text.split(" ", 2)
                    out.append((float(at), message))
        return out

    def became_leader(self) -> list[float]:
        return [t for t, _ in self.logs("now the active anchorer")]

    def anchored_epochs(self) -> list[tuple[float, int]]:
        return [(t, int(m.split()[2].rstrip(":"))) for t, m in self.logs("anchored epoch ")]

    def said(self, text: str) -> bool:
        with self._cond:
            return any(x.text == text for x in self.lines)

    def tail(self, n: int = 15) -> str:
        with self._cond:
            out = "\n".join(x.text for x in self.lines[-n:])
        err = (self.data_dir / "stderr.log").read_text(errors="replace")[-3000:]
        return f"--- {self.name} stdout:\n{out}\n--- {self.name} stderr:\n{err}"

    # -- life ------------------------------------------------------------------------

    def kill9(self) -> float:
        """SIGKILL the process now; returns the time just before the signal."""
        at = time.time()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        return at

    def terminate(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, nodes: list[NodeProcess]
) -> float:
    """Poll until ``predicate()``; returns the time it became true (fails with the
    processes' recent output otherwise)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tails = "\n".join(n.tail() for n in nodes)
            raise AssertionError(f"{what}: not within {timeout}s\n{tails}")
        time.sleep(0.02)
    return time.time()
