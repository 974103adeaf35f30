"""A worker's view of the embedded chain another process holds (``serve --workers``).

The chain host (:mod:`.host`) answers the embedded chain's JSON-RPC; this backend is
:class:`~.rpc.RpcChain` over it, with what makes it the *embedded* chain of this data
folder: the operator and admin keys and the registry address are read from the chain
folder (``keys.json``, ``registry.json``, written by the holder; read through
:mod:`.folder`), the chain id is checked against ``chain.json``, and the public
``/rpc`` is answered by the holder (:meth:`handle_jsonrpc`), so a worker serves
exactly what a single-process node serves.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount

from .folder import CHAIN_FILE, KEYS_FILE, REGISTRY_FILE, chain_dir, read_host_token, read_set_up
from .head import HEAD_FILE, HeadPage
from .rpc import RpcChain


class HostedChain(RpcChain):
    """The embedded chain of ``data_dir``, reached through its host at ``url``."""

    kind = "embedded"

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        url: str,
        *,
        admin: LocalAccount | None = None,
    ) -> None:
        folder = chain_dir(data_dir)
        keys = read_set_up(folder / KEYS_FILE)
        registry = read_set_up(folder / REGISTRY_FILE)["address"]
        chain_id = int(read_set_up(folder / CHAIN_FILE)["chain_id"])
        token = read_host_token(data_dir)
        super().__init__(
            url.rstrip("/") + "/internal",
            Account.from_key(keys["operator"]),
            registry,
            admin=admin or Account.from_key(keys["admin"]),
            confirmations=1,
            expected_chain_id=chain_id,
            receipt_timeout=30.0,
            poll_interval=0.01,  # the holder mines every transaction at once
            headers={"Authorization": f"Bearer {token}"},
        )
        self.public_url = url.rstrip("/") + "/public"
        self._head = HeadPage.open(folder / HEAD_FILE)

    def block_number(self) -> int:
        """The head from the holder's shared page (:mod:`.head`), else from the host."""
        number = self._head.read() if self._head is not None else None
        return super().block_number() if number is None else number

    def close(self) -> None:
        if self._head is not None:
            self._head.close()
            self._head = None
        super().close()

    def handle_jsonrpc(self, payload: Any) -> Any:
        """The public ``/rpc`` answer, from the process holding the chain."""
        if self._session is None:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": "closed"}}
        try:
            response = self._session.post(self.public_url, json=payload, timeout=30)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            return {
                "jsonrpc": "2.0",
                "id": payload.get("id") if isinstance(payload, dict) else None,
                "error": {"code": -32603, "message": f"chain host: {type(exc).__name__}"},
            }

    def __repr__(self) -> str:
        return f"HostedChain({self.url!r}, operator={self.operator_address})"
