"""Opening the parts a node is made of from its settings (chain, vault)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from eth_account import Account

from vntrace.node.chain import ChainBackend, open_backend
from vntrace.node.chain.keys import load_account
from vntrace.node.config import Settings
from vntrace.node.errors import InvalidInputError
from vntrace.node.eudr.geometry import GeometryRules, load_boundaries
from vntrace.node.vault import Vault


def secret(value: Any) -> str | None:
    """A pydantic ``SecretStr`` setting's value, or ``None``."""
    return None if value is None else value.get_secret_value()


def open_vault(settings: Settings) -> Vault:
    """The keyring from settings, or a key file created once in the data folder (0600)."""
    spec = secret(settings.vault_keys)
    if spec:
        return Vault.from_spec(spec)
    path = Path(settings.data_dir) / "vault-keys"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"k1:{secrets.token_hex(32)}\n")
    return Vault.from_spec(path.read_text().strip())


def _account(setting: str, key: Any) -> Any:
    """An account from a secret hex key setting; a bad key names its variable, not its value."""
    try:
        return Account.from_key(key.get_secret_value())
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise InvalidInputError(f"{setting} is not a valid hex private key") from exc


def open_chain(settings: Settings) -> ChainBackend:
    """The chain backend the settings name: embedded (default) or a JSON-RPC node."""
    admin = _account("VNTRACE_ADMIN_KEY", settings.admin_key) if settings.admin_key else None
    if settings.chain == "embedded" and settings.chain_host:
        from vntrace.node.chain.hosted import HostedChain

        return HostedChain(settings.data_dir, settings.chain_host, admin=admin)
    if settings.chain == "embedded":
        return open_backend("embedded", data_dir=settings.data_dir, admin=admin)
    if settings.operator_key is not None:
        account = _account("VNTRACE_OPERATOR_KEY", settings.operator_key)
    elif settings.keystore_path is not None:
        account = load_account(
            keystore_path=settings.keystore_path,
            password=secret(settings.keystore_password),
            environ={},
        )
    else:
        raise InvalidInputError("the rpc chain needs VNTRACE_OPERATOR_KEY or VNTRACE_KEYSTORE_PATH")
    return open_backend(
        "rpc",
        url=settings.rpc_url,
        account=account,
        admin=admin,
        registry_address=settings.registry_address,
        confirmations=max(1, settings.confirmations),
    )


def eudr_rules(settings: Settings) -> GeometryRules:
    """The EUDR geometry rules, with the country boundaries the settings name."""
    path = settings.eudr_boundaries
    if path is None:
        return GeometryRules()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        boundaries = load_boundaries(data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidInputError(
            f"VNTRACE_EUDR_BOUNDARIES: {path} is not a readable GeoJSON FeatureCollection "
            f"({type(exc).__name__})"
        ) from None
    if not boundaries:
        raise InvalidInputError(
            f"VNTRACE_EUDR_BOUNDARIES: {path} has no feature with properties.iso2 or ISO_A2"
        )
    return GeometryRules(boundaries=boundaries)
