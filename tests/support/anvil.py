"""Start and stop the npm-installed anvil for tests and benchmarks.

anvil runs in its own process group on a free 127.0.0.1 port and is stopped by
that group id, so no orphan is left behind even if a test fails. If the binary
is missing (``npm ci`` not run), :func:`require_anvil` skips the test with the
reason; CI installs it, so there the tests run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
ANVIL_BIN: Final = (
    REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
)

#: anvil's well-known dev keys (mnemonic "test test ... junk"), each funded with 10,000 ETH.
ANVIL_KEYS: Final = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
)
ANVIL_CHAIN_ID: Final = 31337


def anvil_binary() -> Path | None:
    """The anvil binary installed by npm, or ``None``."""
    return ANVIL_BIN if os.access(ANVIL_BIN, os.X_OK) else None


def require_anvil() -> Path:
    """The anvil binary, or skip the calling test with the reason."""
    import pytest

    binary = anvil_binary()
    if binary is None:
        reason = f"anvil not installed at {ANVIL_BIN} (run npm ci)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc(url: str, method: str, params: Sequence[object] = (), timeout: float = 2.0) -> object:
    """One raw JSON-RPC call (stdlib only), for poking anvil directly in tests."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.load(response)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply.get("result")


class Anvil:
    """One anvil process. ``state`` keeps the chain across a clean :meth:`stop`."""

    def __init__(
        self,
        *,
        port: int | None = None,
        state: Path | None = None,
        extra_args: Sequence[str] = (),
        binary: Path | None = None,
    ) -> None:
        self.binary = binary or ANVIL_BIN
        self.port = port or free_port()
        self.state = state
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Anvil:
        args = [
            str(self.binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--hardfork",
            "prague",
            "--silent",
            *self.extra_args,
        ]
        if self.state is not None:
            args += ["--state", str(self.state)]
        # A file, not a pipe: it can never fill up. Closed by stop().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() kills the whole group
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"anvil exited at start: {self._output()}")
            with contextlib.suppress(OSError, urllib.error.URLError, RuntimeError):
                rpc(self.url, "eth_chainId", timeout=0.5)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"anvil did not answer on {self.url} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly (SIGINT lets anvil dump ``--state``), then SIGKILL if needed."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            pgid = os.getpgid(proc.pid)
        except ProcessLookupError:
            pgid = None
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if pgid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
            proc.wait(timeout=timeout)
        finally:
            self._close_log()

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip()
        self._close_log()
        return text

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Anvil:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_anvil(**kwargs: object) -> Iterator[Anvil]:
    """``with running_anvil() as anvil: ...`` — anvil on a free port, stopped on exit."""
    anvil = Anvil(**kwargs)  # type: ignore[arg-type]
    anvil.start()
    try:
        yield anvil
    finally:
        anvil.stop()
