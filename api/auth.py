"""Who is calling: bearer tokens, and the administrator's first token.

Tokens are the store's API keys (``vnt_<key_id>_<secret>``, only a hash is stored) or
the administrator token from ``VNTRACE_ADMIN_TOKEN``. Without that setting, the first
start issues an admin API key and writes it to ``<data_dir>/admin-token`` (mode 0600):
a node never runs with a default credential, and the token never reaches a log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from vntrace.node.config import Settings
from vntrace.node.service import TraceNode
from vntrace.node.store.types import Principal, Role

log = logging.getLogger("vntrace.api")

ADMIN_TOKEN_FILE = "admin-token"
MIN_ADMIN_TOKEN_LENGTH = 32
SETTINGS_ADMIN = "settings-admin"
"""``key_id`` of the principal behind ``VNTRACE_ADMIN_TOKEN`` (it has no store row)."""


def check_admin_token_setting(settings: Settings) -> None:
    """Refuse to start with a guessable administrator token."""
    token = settings.admin_token
    if token is not None and len(token.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
        raise ValueError(
            f"VNTRACE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters "
            "(e.g. the output of `openssl rand -hex 32`)"
        )


def authenticate(node: TraceNode, token: str) -> Principal | None:
    """The principal behind ``token``, or ``None`` for an unknown or revoked token."""
    configured = node.settings.admin_token
    if configured is not None:
        want = hashlib.sha256(configured.get_secret_value().encode()).digest()
        got = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        if hmac.compare_digest(want, got):
            return Principal(key_id=SETTINGS_ADMIN, role=Role.ADMIN, producer=None)
    return node.store.authenticate(token)


def admin_token_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / ADMIN_TOKEN_FILE


def ensure_admin_token(node: TraceNode) -> Path | None:
    """Make sure an administrator can log in; returns the token file it relies on.

    With ``VNTRACE_ADMIN_TOKEN`` set, nothing is written (``None``). Otherwise the file
    ``<data_dir>/admin-token`` must hold a working admin token: if it is missing or its
    key was revoked, a new admin key is issued and the file (re)written, mode 0600.
    """
    settings = node.settings
    if settings.admin_token is not None:
        return None
    path = admin_token_path(settings)
    if path.exists():
        principal = node.store.authenticate(path.read_text().strip())
        if principal is not None and principal.role is Role.ADMIN:
            return path
    issued = node.store.create_api_key(Role.ADMIN, label="bootstrap admin")
    _write_secret(path, issued.token + "\n")
    log.info("issued admin API key %s; token written to %s", issued.key.key_id, path)
    return path


def _write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (replacing any old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
