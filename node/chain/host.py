"""The embedded chain served to the node's own worker processes (``serve --workers``).

py-evm keeps the chain in one process: its LMDB folder takes a lock, and two writers
would fork the history. So with several gateway processes one process holds the chain
(the supervisor, which also spawns the workers) and answers the full JSON-RPC of it,
writes included, on ``127.0.0.1`` only, to callers presenting a per-start bearer token
that sits in ``chain/host-token`` (mode 0600, in the 0700 chain folder: :mod:`.folder`):
other users of the machine can neither read the token nor reach the chain. Workers
reach it through :class:`~.hosted.HostedChain`. Two paths:

- ``POST /internal``: one JSON-RPC request, answered by the chain itself
  (``EmbeddedChain._request``): what a backend needs to read, sign and send.
- ``POST /public``: what the gateway's public ``/rpc`` answers (``handle_jsonrpc``:
  read-only, writes refused), so every worker serves the same ``/rpc``.

Transactions are signed by the workers (each holds the operator key, as every gateway
of a multi-process node does); the chain serialises them under its own lock, and a
nonce two workers took at once is refused as stale and retried by the sender
(``ChainBackend._sign_and_send``). Only one worker anchors (the leader lock).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .errors import ChainError, RpcError
from .folder import TOKEN_FILE, token_path, write_token

if TYPE_CHECKING:  # the workers import this module for token_path, without py-evm
    from .embedded import EmbeddedChain

log = logging.getLogger("vntrace.chain.host")

__all__ = ["MAX_BODY", "TOKEN_FILE", "ChainHost", "token_path"]

MAX_BODY = 16 * 1024 * 1024
"""Largest request accepted (an anchor transaction with its calldata is far smaller)."""


def _error(ident: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": ident, "error": error}


class ChainHost:
    """Serve ``chain`` to the node's workers until :meth:`stop` (a daemon thread)."""

    def __init__(self, chain: EmbeddedChain, data_dir: str | os.PathLike[str]) -> None:
        self.chain = chain
        self.token = secrets.token_urlsafe(32)
        self._token_path = token_path(data_dir)
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ChainHost:
        """Write the token (0600, atomically) and start answering."""
        write_token(self._token_path, self.token)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="vntrace-chain-host", daemon=True
        )
        self._thread.start()
        log.info("embedded chain served to the workers at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop answering and remove the token (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._token_path.unlink(missing_ok=True)

    def __enter__(self) -> ChainHost:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def authorised(self, header: str | None) -> bool:
        expected = f"Bearer {self.token}"
        return header is not None and hmac.compare_digest(header.encode(), expected.encode())

    def internal(self, payload: Any) -> dict[str, Any]:
        """One JSON-RPC request answered by the chain itself (writes included)."""
        if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
            return _error(None, -32600, "invalid request")
        ident, params = payload.get("id"), payload.get("params", [])
        if not isinstance(params, list):
            return _error(ident, -32602, "params must be an array")
        try:
            result = self.chain._request(payload["method"], params)
        except RpcError as exc:
            return _error(ident, exc.code, exc.message, exc.data)
        except ChainError as exc:
            return _error(ident, -32603, str(exc))
        return {"jsonrpc": "2.0", "id": ident, "result": result}


def _handler_for(host: ChainHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection per worker thread
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

        def do_POST(self) -> None:
            if not host.authorised(self.headers.get("Authorization")):
                self._send(401, {"error": "unauthorised"})
                return
            try:
                length = int(self.headers.get("Content-Length") or "0")
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY:
                self._send(413 if length > MAX_BODY else 400, {"error": "bad length"})
                return
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                self._send(200, _error(None, -32700, "parse error"))
                return
            if self.path == "/internal":
                self._send(200, host.internal(payload))
            elif self.path == "/public":
                self._send(200, host.chain.handle_jsonrpc(payload))
            else:
                self._send(404, {"error": "not found"})

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # one line per chain call would drown the node's log

    return Handler
