"""The distribution installs under ``vntrace.*`` only, in both install modes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("vntrace-*.whl")
    return whl


def test_wheel_holds_only_the_vntrace_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert top - {"vntrace"} == {d for d in top if d.endswith(".dist-info")}
    for leak in ("node", "api", "client", "contracts", "tests", "scripts"):
        assert leak not in top
    assert "vntrace/node/merkle/__init__.py" in names
    for folder, package in (("node", "node"), ("api", "api"), ("client", "client")):
        for source in (ROOT / folder).rglob("*.py"):
            rel = source.relative_to(ROOT / folder).as_posix()
            assert f"vntrace/{package}/{rel}" in names, f"{folder}/{rel} missing from the wheel"
    assert "vntrace/contracts/artifacts/VntraceRegistry.json" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "vntrace = vntrace.node.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_no_top_level_node_package_is_importable_outside_the_repo(tmp_path: Path) -> None:
    code = (
        "import importlib.util, sys\n"
        "import vntrace.node.merkle\n"
        "leaks = [m for m in ('node', 'api', 'client') if importlib.util.find_spec(m)]\n"
        "print(vntrace.node.merkle.__file__)\n"
        "sys.exit(1 if leaks else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
