"""The chain folder's one reader and writer (node/chain/folder.py), which the embedded
chain, its host and the workers' hosted view all use."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vntrace.node.chain import ConfigurationError
from vntrace.node.chain.folder import (
    chain_dir,
    read_host_token,
    read_json,
    read_set_up,
    token_path,
    write_json,
    write_token,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_paths_are_those_of_the_data_folder(tmp_path: Path) -> None:
    assert chain_dir(tmp_path) == tmp_path / "chain"
    assert token_path(str(tmp_path)) == tmp_path / "chain" / "host-token"


def test_write_json_is_atomic_sorted_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_json(path, {"operator": "0x02", "admin": "0x01"}, mode=0o600)
    assert path.read_text() == '{\n  "admin": "0x01",\n  "operator": "0x02"\n}\n'
    assert _mode(path) == 0o600
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
    write_json(path, {"admin": "0x03"}, mode=0o600)  # replaced whole
    assert read_json(path) == {"admin": "0x03"}
    assert read_set_up(path) == {"admin": "0x03"}
    write_json(tmp_path / "chain.json", {"chain_id": 1})
    assert _mode(tmp_path / "chain.json") == 0o644


def test_read_json_is_none_until_the_holder_writes_the_file(tmp_path: Path) -> None:
    assert read_json(tmp_path / "registry.json") is None


def test_a_file_holding_something_else_than_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text("[1, 2]")
    for read in (read_json, read_set_up):
        with pytest.raises(ConfigurationError, match=r"chain\.json is not a JSON object$"):
            read(path)


def test_read_json_leaves_a_broken_file_to_its_caller(tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text("{")
    with pytest.raises(json.JSONDecodeError):
        read_json(path)


@pytest.mark.parametrize(
    ("content", "error"), [(None, "FileNotFoundError"), ("{", "JSONDecodeError")]
)
def test_a_worker_reading_before_the_holder_wrote_is_told_so(
    tmp_path: Path, content: str | None, error: str
) -> None:
    path = tmp_path / "keys.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        read_set_up(path)
    assert str(caught.value) == (
        f"{path}: {error}: the process holding the chain has not set it up"
    )


def test_the_host_token_is_private_and_read_back_stripped(tmp_path: Path) -> None:
    chain_dir(tmp_path).mkdir()
    with pytest.raises(ConfigurationError) as caught:
        read_host_token(tmp_path)
    assert str(caught.value) == (
        f"VNTRACE_CHAIN_HOST is set but {token_path(tmp_path)} is missing: "
        "is the process holding the chain running?"
    )
    write_token(token_path(tmp_path), "first")
    write_token(token_path(tmp_path), "tok-en_2\n")
    assert _mode(token_path(tmp_path)) == 0o600
    assert read_host_token(tmp_path) == "tok-en_2"
    assert sorted(p.name for p in chain_dir(tmp_path).iterdir()) == ["host-token"]


def test_the_folder_module_needs_no_py_evm() -> None:
    """The workers read the folder without py-evm, eth-tester or web3 loaded."""
    code = (
        "import sys, vntrace.node.chain.folder, vntrace.node.chain.host\n"
        "print(sorted(m for m in ('eth', 'eth_tester', 'web3', 'lmdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
