"""The embedded chain's data folder, ``<data_dir>/chain/`` (mode 0700), and its files.

One reader and one writer for everything in it, so the process holding the chain
(:mod:`.embedded`, :mod:`.host`) and its workers (:mod:`.hosted`) agree on names and
formats::

    LOCK           flock'ed while a process has the chain open (one writer only)
    db/            LMDB environment holding the whole py-evm database
    keys.json      0600: the dev admin (regulator) and operator keys, random, made once
    chain.json     chain id and genesis hash, checked on every start
    registry.json  the registry's address (and its deployment), found again on restart
    host-token     0600: the bearer token of the running chain host (``serve --workers``)
    head           0600: the latest block number, memory-mapped by the workers (:mod:`.head`)

Standard library only: the workers read it without py-evm.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "CHAIN_FILE",
    "FOLDER",
    "KEYS_FILE",
    "REGISTRY_FILE",
    "TOKEN_FILE",
    "chain_dir",
    "read_host_token",
    "read_json",
    "read_set_up",
    "token_path",
    "write_json",
    "write_token",
]

FOLDER = "chain"
KEYS_FILE = "keys.json"
CHAIN_FILE = "chain.json"
REGISTRY_FILE = "registry.json"
TOKEN_FILE = "host-token"
"""In the chain folder: the bearer token of the running host (0600, replaced per start)."""


def chain_dir(data_dir: str | os.PathLike[str]) -> Path:
    """The chain folder of the node in ``data_dir``."""
    return Path(data_dir) / FOLDER


def token_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the host's token is kept for the workers of the node in ``data_dir``."""
    return chain_dir(data_dir) / TOKEN_FILE


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _object(path: Path, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} is not a JSON object")
    return data


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, ``None`` if the file is not there yet (the holder
    then makes it); :class:`ConfigurationError` if it holds something else."""
    try:
        data = _load(path)
    except FileNotFoundError:
        return None
    return _object(path, data)


def read_set_up(path: Path) -> dict[str, Any]:
    """The JSON object the process holding the chain wrote in ``path``: a worker cannot
    make it, so a missing or unreadable file is a :class:`ConfigurationError`."""
    try:
        data = _load(path)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{path}: {type(exc).__name__}: the process holding the chain has not set it up"
        ) from None
    return _object(path, data)


def _replace(path: Path, data: bytes, mode: int, *, durable: bool) -> None:
    """Write ``path`` atomically (temp file, rename), durably (fsync of the file and
    the folder) unless ``durable`` is false."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_json(path: Path, data: Mapping[str, Any], *, mode: int = 0o644) -> None:
    """Write atomically and durably: temp file, fsync, rename, fsync the directory."""
    _replace(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode, durable=True)


def write_token(path: Path, token: str) -> None:
    """Write the host's token (0600, atomically; not fsync'ed: it is replaced at every
    start, so one lost in a crash is never needed again)."""
    _replace(path, token.encode(), 0o600, durable=False)


def read_host_token(data_dir: str | os.PathLike[str]) -> str:
    """The running host's token, :class:`ConfigurationError` if no host has written one."""
    path = token_path(data_dir)
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(
            f"VNTRACE_CHAIN_HOST is set but {path} is missing: "
            "is the process holding the chain running?"
        ) from None
