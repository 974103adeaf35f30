"""What the figures were measured on: a rate means little without the machine."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vntrace.node.config import usable_cores


def cpu_model() -> str:
    """``model name`` from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def node_version(node: str | None) -> str | None:
    if node is None:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def describe(node: str | None) -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "node": node_version(node),
    }


#: Distributions whose versions the published figures depend on.
KEY_LIBRARIES = (
    "vntrace",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "sqlalchemy",
    "httpx",
    "web3",
    "py-evm",
    "eth-tester",
    "eth-account",
    "coincurve",
    "cryptography",
    "safe-pysha3",
    "pymerkle",
    "matplotlib",
)


def memory_total() -> int | None:
    """Installed RAM in bytes (``MemTotal`` from /proc/meminfo), if known."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages (other work on a shared machine)."""
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover - not on this platform
        return None


def library_versions(names: tuple[str, ...] = KEY_LIBRARIES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def describe_full(node: str | None) -> dict[str, Any]:
    """:func:`describe` plus RAM, load average, library versions and the date."""
    return {
        **describe(node),
        "memory_bytes": memory_total(),
        "load_average": load_average(),
        "libraries": library_versions(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
