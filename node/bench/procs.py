"""The processes the end-to-end and chain benchmarks run against.

- :class:`ServeProcess`: a real ``vntrace serve`` (uvicorn, SQLite, embedded chain or
  ``VNTRACE_CHAIN=rpc``) on a free port, in its own data folder, rate limit off.
- :class:`AnvilProcess`: the npm-installed anvil binary (Prague) on a free port.

Both run in their own process group and are stopped by that group's id (SIGINT first,
SIGKILL if they do not stop), so a failed benchmark leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
ANVIL_BIN: Final = (
    REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
)
#: anvil's well-known dev keys (mnemonic "test test ... junk"): admin, operator.
ANVIL_ADMIN_KEY: Final = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_OPERATOR_KEY: Final = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


class ProcessError(RuntimeError):
    """A benchmark process did not start (the message holds the tail of its output)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def anvil_binary() -> Path | None:
    """The anvil binary installed by ``npm ci`` (``VNTRACE_ANVIL`` overrides), or None."""
    path = Path(os.environ.get("VNTRACE_ANVIL") or ANVIL_BIN)
    return path if os.access(path, os.X_OK) else None


def _get(url: str, timeout: float = 1.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return int(response.status)


def _rpc(url: str, method: str, timeout: float = 1.0) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response).get("result")


class _Managed:
    """A child process in its own session, with its output in a temporary file."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def _spawn(self, args: list[str], env: Mapping[str, str] | None = None) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )

    def output(self, tail: int = 4000) -> str:
        """What the process printed so far (the last ``tail`` characters)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-tail:]

    def _fail(self, message: str) -> ProcessError:
        text = self.output()
        self.stop()
        return ProcessError(f"{message}:\n{text}")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT to the process group, SIGKILL after ``timeout``; returns the exit code."""
        proc, self.proc = self.proc, None
        code = None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code


class ServeProcess(_Managed):
    """``vntrace serve`` in ``data_dir`` with ``env`` (``VNTRACE_*``) on a free port."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.extra_env = dict(env or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The parent's environment minus any ``VNTRACE_*``, plus the benchmark's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
        env.update(
            VNTRACE_RATE_LIMIT_PER_SECOND="0",
            ETH_HASH_BACKEND="pysha3",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90.0) -> ServeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "vntrace.node.cli", "serve"]
        args += ["--data-dir", str(self.data_dir), "--port", str(self.port)]
        self._spawn(args, self.environment())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise self._fail("vntrace serve exited at start")
            with contextlib.suppress(OSError, urllib.error.URLError):
                if _get(self.url + "/healthz") == 200:
                    return self
            time.sleep(0.1)
        raise self._fail(f"vntrace serve did not answer on {self.url} within {timeout:.0f}s")

    def admin_token(self) -> str:
        """The admin token the node wrote on first start."""
        return (self.data_dir / "admin-token").read_text(encoding="utf-8").strip()

    def __enter__(self) -> ServeProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class AnvilProcess(_Managed):
    """anvil (Prague, automine) on a free port."""

    def __init__(self, binary: Path | None = None, extra_args: tuple[str, ...] = ()) -> None:
        super().__init__()
        found = binary or anvil_binary()
        if found is None:
            raise ProcessError(f"anvil is not installed at {ANVIL_BIN} (run npm ci)")
        self.binary = found
        self.port = free_port()
        self.extra_args = extra_args

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def version(self) -> str:
        out = subprocess.run(
            [str(self.binary), "--version"], capture_output=True, text=True, check=False
        )
        return out.stdout.splitlines()[0].strip() if out.stdout else "unknown"

    def start(self, timeout: float = 20.0) -> AnvilProcess:
        args = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--hardfork", "prague", "--silent", *self.extra_args]
        self._spawn(args)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise self._fail("anvil exited at start")
            with contextlib.suppress(OSError, urllib.error.URLError):
                _rpc(self.url, "eth_chainId")
                return self
            time.sleep(0.05)
        raise self._fail(f"anvil did not answer on {self.url} within {timeout:.0f}s")

    def __enter__(self) -> AnvilProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
