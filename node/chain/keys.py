"""Loading the operator's signing key: from the environment or an encrypted keystore.

Keys are never logged, printed or put in exception messages. The keystore is the
standard Web3 Secret Storage JSON (eth-account ``Account.encrypt``), so geth,
Besu and Foundry tools can read and write it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import ConfigurationError

__all__ = ["load_account", "save_keystore"]


def load_account(
    *,
    env_var: str | None = None,
    keystore_path: str | os.PathLike[str] | None = None,
    password_env: str | None = None,
    password: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> LocalAccount:
    """Return the account whose key is in ``environ[env_var]`` (hex), else in the
    keystore at ``keystore_path``, decrypted with ``password`` or ``environ[password_env]``.

    ``environ`` defaults to ``os.environ``; pass a mapping to keep configuration
    explicit (tests, the node's settings object).
    """
    env = os.environ if environ is None else environ
    if env_var is not None and env.get(env_var):
        try:
            return Account.from_key(env[env_var].strip())
        except (ValueError, TypeError):
            # Do not chain the original error: its message may quote the key.
            raise ConfigurationError(f"${env_var} does not hold a valid private key") from None
    if keystore_path is None:
        where = f"${env_var}" if env_var else "no environment variable"
        raise ConfigurationError(f"no signing key: {where} is empty and no keystore was given")
    path = Path(keystore_path)
    if password is None and password_env is not None:
        password = env.get(password_env)
    if password is None:
        raise ConfigurationError(f"no password for keystore {path}")
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read keystore {path}: {exc}") from None
    try:
        key = Account.decrypt(keyfile, password)
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(f"cannot decrypt keystore {path} (wrong password?)") from None
    return Account.from_key(key)


def save_keystore(
    account: LocalAccount,
    path: str | os.PathLike[str],
    password: str,
    *,
    iterations: int | None = None,
) -> Path:
    """Encrypt ``account`` into a keystore file created with mode 0600 (never overwritten)."""
    target = Path(path)
    keyfile = Account.encrypt(account.key, password, iterations=iterations)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(keyfile, fh)
    return target
