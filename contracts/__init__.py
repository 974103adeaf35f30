"""vntrace.contracts: the registry's Solidity sources and its committed compiled artifact.

The node must run without Node.js, so the registry is compiled ahead of time by
``scripts/build_contracts.mjs`` (solcjs + OpenZeppelin from node_modules) and the result is
committed as ``contracts/artifacts/VntraceRegistry.json``. This module loads that artifact.

It also recomputes the hash of the Solidity sources that ship with the package, exactly as the
build does, so a plain Python test can tell that someone edited a ``.sol`` file without
rebuilding the artifact (the OpenZeppelin sources are not shipped: their hashes come from the
artifact, and ``node scripts/build_contracts.mjs --check`` covers them where node_modules exists).

Hashing: ``sources`` maps each source path (``contracts/...`` for ours,
``@openzeppelin/contracts/...`` for OpenZeppelin's) to the sha256 of its raw bytes, and
``sourcesHash`` is the sha256 of the lines ``"<hex>  <path>\\n"`` (``sha256sum`` format) sorted
by path. sha256 rather than keccak so that Node's and Python's standard libraries agree on it.

Only ``json`` and ``hashlib`` are used: importing this module must stay cheap (no web3).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Any

__all__ = [
    "ArtifactError",
    "RegistryArtifact",
    "REGISTRY",
    "load_artifact",
    "project_source_hashes",
    "sources_hash",
]

#: Name of the registry contract (and of its artifact file).
REGISTRY = "VntraceRegistry"

#: Prefix of the project's own source paths in the artifact's ``sources``.
_PROJECT_PREFIX = "contracts/"


class ArtifactError(RuntimeError):
    """The artifact is missing or malformed."""


@dataclass(frozen=True, slots=True)
class RegistryArtifact:
    """A compiled contract as committed under ``contracts/artifacts/``.

    Instances are cached and shared: treat ``abi``, ``settings`` and ``sources`` as read-only.
    """

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    """Creation code (constructor arguments not included)."""
    deployed_bytecode: bytes
    """Runtime code, as found at the contract's address after deployment."""
    compiler_version: str
    """Full solc version string, e.g. ``0.8.37+commit.f401782d.Emscripten.clang``."""
    settings: dict[str, Any]
    """The exact standard-JSON ``settings`` the build used (evmVersion, optimizer, ...)."""
    sources: dict[str, str]
    """Source path -> sha256 hex of its content, OpenZeppelin files included."""
    sources_hash: str
    """sha256 over all ``sources`` (see the module docstring)."""
    openzeppelin_version: str

    @property
    def evm_version(self) -> str:
        """The EVM version the code was compiled for (``"prague"``)."""
        return str(self.settings.get("evmVersion", ""))

    def error_selectors(self) -> dict[bytes, str]:
        """Map each custom error's 4-byte selector to its signature, e.g. ``VntraceZeroRoot()``.

        Lets callers name a revert without an ABI decoder. Keccak comes from safe-pysha3 (a
        dependency), imported lazily so loading an artifact needs nothing but the stdlib.
        """
        import sha3

        out: dict[bytes, str] = {}
        for item in self.abi:
            if item.get("type") == "error":
                sig = f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"
                out[sha3.keccak_256(sig.encode()).digest()[:4]] = sig
        return out


def _abi_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def _package_root() -> Traversable:
    return resources.files(__name__)


def _hex_to_bytes(value: str, field: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ArtifactError(f"artifact field {field!r} is not 0x-prefixed hex")
    return bytes.fromhex(value[2:])


def load_artifact(name: str = REGISTRY) -> RegistryArtifact:
    """Load (once per process) the committed artifact ``contracts/artifacts/<name>.json``.

    Raises :class:`ArtifactError` if it is missing or lacks a field.
    """
    return _load(name)


@functools.cache
def _load(name: str) -> RegistryArtifact:
    path = _package_root() / "artifacts" / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"no artifact {name}.json: run 'node scripts/build_contracts.mjs'"
        ) from exc
    try:
        compiler = raw["compiler"]
        return RegistryArtifact(
            name=raw["contractName"],
            abi=tuple(raw["abi"]),
            bytecode=_hex_to_bytes(raw["bytecode"], "bytecode"),
            deployed_bytecode=_hex_to_bytes(raw["deployedBytecode"], "deployedBytecode"),
            compiler_version=compiler["version"],
            settings=compiler["settings"],
            sources=dict(raw["sources"]),
            sources_hash=raw["sourcesHash"],
            openzeppelin_version=raw["openzeppelinVersion"],
        )
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"artifact {name}.json is malformed: {exc!r}") from exc


def project_source_hashes() -> dict[str, str]:
    """Return ``{"contracts/<relative path>": sha256 hex}`` for every ``.sol`` file shipped here.

    Hashes the raw bytes, as the build does; paths use ``/`` on every platform.
    """
    out: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                if child.name not in ("artifacts", "__pycache__"):
                    walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".sol"):
                out[f"{prefix}{child.name}"] = hashlib.sha256(child.read_bytes()).hexdigest()

    walk(_package_root(), _PROJECT_PREFIX)
    return dict(sorted(out.items()))


def _combine(hashes: Mapping[str, str]) -> str:
    lines = "".join(f"{hashes[path]}  {path}\n" for path in sorted(hashes))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def sources_hash(name: str = REGISTRY) -> str:
    """Recompute the artifact's ``sourcesHash`` from the ``.sol`` files shipped in this package.

    Project sources are hashed from disk; OpenZeppelin sources (not shipped) keep the hashes
    recorded in the artifact. Equal to ``load_artifact(name).sources_hash`` iff the project
    sources are the ones the artifact was built from.
    """
    recorded = load_artifact(name).sources
    hashes = {p: h for p, h in recorded.items() if not p.startswith(_PROJECT_PREFIX)}
    hashes.update(project_source_hashes())
    return _combine(hashes)
