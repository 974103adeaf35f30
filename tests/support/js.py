"""Run the JavaScript reference tools (``scripts/js/*.mjs``) from tests.

The interop tests compare our Merkle engine with ``@openzeppelin/merkle-tree``, the
library OpenZeppelin's own contracts are tested against. Node.js and the npm packages
are build/test tools only: when they are missing the tests skip with the reason (CI
installs them; set ``VNTRACE_REQUIRE_JS=1`` to make a missing tool fail instead).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS_JS = REPO_ROOT / "scripts" / "js"
OZ_MERKLE_SCRIPT = SCRIPTS_JS / "oz_merkle.mjs"
OZ_PACKAGE = REPO_ROOT / "node_modules" / "@openzeppelin" / "merkle-tree" / "package.json"


@cache
def find_node() -> str | None:
    """Path of the ``node`` executable (``VNTRACE_NODE`` overrides ``PATH``)."""
    return shutil.which(os.environ.get("VNTRACE_NODE") or "node")


def missing_js_reason() -> str | None:
    """Why the JS reference cannot run here, or ``None`` when it can."""
    if find_node() is None:
        return "node (Node.js) is not on PATH"
    if not OZ_PACKAGE.is_file():
        return f"@openzeppelin/merkle-tree is not installed ({OZ_PACKAGE} missing; run npm ci)"
    return None


def require_oz() -> str:
    """Return the ``node`` path, or skip (fail under ``VNTRACE_REQUIRE_JS``) with the reason."""
    reason = missing_js_reason()
    if reason is None:
        node = find_node()
        assert node is not None
        return node
    message = f"JS reference unavailable: {reason}"
    print(message)
    if os.environ.get("VNTRACE_REQUIRE_JS"):
        pytest.fail(message)
    pytest.skip(message)


def to_js(value: Any) -> Any:
    """A Python leaf value as the JS library takes it.

    ``bytes`` become 0x-hex, ints decimal strings (OZ rejects JS numbers as leaf
    values, and JSON numbers past 2**53 lose precision in JavaScript).
    """
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_js(v) for v in value]
    return value


def _run(node: str, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    proc = subprocess.run(
        [node, str(OZ_MERKLE_SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"oz_merkle.mjs failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def run_oz(request: dict[str, Any], timeout: float = 300.0) -> dict[str, Any]:
    """Send one request (use ``{"op": "batch", ...}`` for many) to ``oz_merkle.mjs``.

    One Node.js process per call: start-up costs about 50 ms, so batch requests.
    """
    return _run(require_oz(), request, timeout)


def run_oz_batch(
    requests: list[dict[str, Any]], timeout: float = 300.0, jobs: int = 1
) -> list[dict[str, Any]]:
    """Responses to many requests, in order, from ``jobs`` Node.js processes at once.

    The JS library is slow (about a millisecond per proof), so big batches are split
    round-robin over processes; each process still answers many requests.
    """
    node = require_oz()
    jobs = max(1, min(jobs, len(requests)))
    shares = [{"op": "batch", "requests": requests[j::jobs]} for j in range(jobs)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        answers = list(pool.map(lambda share: _run(node, share, timeout)["responses"], shares))
    out: list[dict[str, Any]] = [{}] * len(requests)
    for j, answer in enumerate(answers):
        out[j::jobs] = answer
    return out
