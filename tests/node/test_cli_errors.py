"""A person at the command line never sees a traceback for what they can fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CASES = [
    ({"VNTRACE_EPOCH_SECONDS": "abc"}, ["serve"], "VNTRACE_EPOCH_SECONDS"),
    ({"VNTRACE_CHAIN": "rpc"}, ["serve"], "VNTRACE_RPC_URL"),
    (
        {"VNTRACE_CHAIN": "rpc", "VNTRACE_RPC_URL": "http://127.0.0.1:9"},
        ["serve"],
        "VNTRACE_OPERATOR_KEY",
    ),
    (
        {
            "VNTRACE_CHAIN": "rpc",
            "VNTRACE_RPC_URL": "http://127.0.0.1:9",
            "VNTRACE_OPERATOR_KEY": "not-hex",
        },
        ["demo"],
        "VNTRACE_OPERATOR_KEY is not a valid hex private key",
    ),
    ({"VNTRACE_ADMIN_KEY": "0x12"}, ["serve"], "VNTRACE_ADMIN_KEY"),
    ({"VNTRACE_CONFIRMATIONS": "-3"}, ["serve"], "VNTRACE_CONFIRMATIONS"),
    ({"VNTRACE_EUDR_BOUNDARIES": "/nonexistent/vn.geojson"}, ["serve"], "VNTRACE_EUDR_BOUNDARIES"),
    ({"VNTRACE_LOG_WITNESSES": '["not a witness"]'}, ["serve"], "witness"),
]


def _run(env: dict[str, str], args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    return subprocess.run(
        [sys.executable, "-m", "vntrace.node.cli", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("env", "args", "named"), CASES)
def test_bad_settings_print_one_line_naming_the_setting(
    env: dict[str, str], args: list[str], named: str, tmp_path: Path
) -> None:
    done = _run(env, [*args, "--data-dir", str(tmp_path / "data")], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("vntrace ")]
    assert len(lines) == 1 and named in lines[0], done.stderr


def test_a_data_dir_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = _run({}, ["serve", "--data-dir", str(blocker / "sub")], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--data-dir" in done.stderr and str(blocker / "sub") in done.stderr


def test_the_secret_value_of_a_bad_key_is_never_printed(tmp_path: Path) -> None:
    secret = "0x" + "ab" * 31  # one byte short: invalid, and must not be echoed
    env = {"VNTRACE_CHAIN": "rpc", "VNTRACE_RPC_URL": "http://127.0.0.1:9"}
    done = _run({**env, "VNTRACE_OPERATOR_KEY": secret}, ["serve"], tmp_path)
    assert done.returncode == 2 and secret not in done.stderr + done.stdout
