"""``vntrace serve`` as a real child process for tests, its output in a file.

The output goes to ``serve.log`` in the data folder, never to a pipe: a long session
logs more than a pipe buffer holds, and a node writing to a full pipe nobody reads
stops answering (every request blocks in the log handler).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

CLI = (sys.executable, "-m", "vntrace.node.cli")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any VNTRACE_* the developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    env.update(extra)
    return env


def log_tail(data_dir: Path, lines: int = 40) -> str:
    try:
        text = (data_dir / "serve.log").read_text(errors="replace")
    except OSError:
        return "(no serve.log)"
    return "\n".join(text.splitlines()[-lines:])


def spawn(data_dir: Path, port: int, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``vntrace serve --data-dir data_dir --port port``; returns at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "serve.log", "ab") as log:  # the child keeps its own handle
        return subprocess.Popen(
            [*CLI, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )


def wait_ready(
    url: str, proc: subprocess.Popen[bytes], data_dir: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"vntrace serve exited early:\n{log_tail(data_dir)}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"vntrace serve did not come up:\n{log_tail(data_dir)}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGINT (a clean shutdown), then kill after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
