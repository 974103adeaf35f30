"""The records layer stays light: the client SDK imports it without the node's stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("web3", "eth", "eth_tester", "fastapi", "starlette", "sqlalchemy", "uvicorn", "lmdb")


def test_records_and_profile_import_without_heavy_dependencies() -> None:
    code = (
        "import sys\n"
        "import vntrace.node.records, vntrace.node.profile\n"
        "vntrace.node.profile.default_profile()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ""


def test_public_api_is_curated() -> None:
    import vntrace.node.records as records

    assert sorted(records.__all__) == sorted(set(records.__all__))
    for name in records.__all__:
        assert hasattr(records, name), name
