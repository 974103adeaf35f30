"""The distribution installs under ``vntrace.*`` only, in both install modes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel and the build's whole verbose output (setuptools' warnings included)."""
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (whl,) = out.glob("vntrace-*.whl")
    return whl, run.stdout + run.stderr


@pytest.fixture(scope="module")
def wheel(build: tuple[Path, str]) -> Path:
    return build[0]


def test_build_prints_no_package_data_warning(build: tuple[Path, str]) -> None:
    log = build[1]
    assert "running bdist_wheel" in log  # the verbose log really is the build's
    assert "absent from the `packages` configuration" not in log
    assert "BuildBackendWarning" not in log


def test_data_files_ship_in_the_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "vntrace/api/pages/templates/lot.html",
        "vntrace/api/pages/static/page.css",
        "vntrace/api/pages/static/page.js",
        "vntrace/contracts/artifacts/VntraceRegistry.json",
        "vntrace/contracts/VntraceRegistry.sol",
        "vntrace/contracts/lib/AnchorBook.sol",
        "vntrace/node/profiles/robusta-vn.json",
    }
    assert expected <= names, sorted(expected - names)
    for folder in ("api/pages/templates", "api/pages/static", "contracts/lib", "node/profiles"):
        for source in (ROOT / folder).iterdir():
            assert f"vntrace/{folder}/{source.name}" in names, f"{folder}/{source.name} missing"
    # data folders are data, never packages
    assert not any(n.endswith(("templates/__init__.py", "static/__init__.py")) for n in names)


def test_server_dependencies_are_the_node_extra(wheel: Path) -> None:
    meta = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("/METADATA"))
    lines = zipfile.ZipFile(wheel).read(meta).decode().splitlines()
    requires = [x.removeprefix("Requires-Dist: ") for x in lines if x.startswith("Requires-Dist:")]
    base = {
        r.split("<")[0].split(">")[0].split("=")[0].split("[")[0]
        for r in requires
        if "extra ==" not in r
    }
    for server in (
        "py-evm",
        "eth-tester",
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "psycopg",
        "lmdb",
        "jinja2",
        "segno",
        "web3",
        "pydantic-settings",
    ):
        assert server not in base
        assert any(r.startswith(server) and 'extra == "node"' in r for r in requires), server
    assert {"httpx", "safe-pysha3", "eth-account", "rfc8785", "cryptography"} <= base
    assert 'vntrace[node]; extra == "dev"' in requires  # the README's commands get everything


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
