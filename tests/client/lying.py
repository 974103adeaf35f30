"""A gateway that lies: forwards to the real node and rewrites its JSON answers.

Runs as a thread HTTP server on a free port. ``lie`` is a function of (path, JSON
document) returning the document to serve; the chain is never touched, so whatever
the proxy invents, the registry (read through the real node's ``/rpc``) still says
the truth.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Lie = Callable[[str, Any], Any]

_HOP = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}


def _handler(upstream: str, state: dict[str, Lie | None]) -> type[BaseHTTPRequestHandler]:
    http = httpx.Client(base_url=upstream, timeout=30)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            reply = http.request(self.command, self.path, content=body, headers=headers)
            content = reply.content
            lie = state["lie"]
            kind = reply.headers.get("content-type", "")
            if lie is not None and "json" in kind and reply.status_code < 400:
                content = json.dumps(lie(self.path.split("?")[0], reply.json())).encode()
            self.send_response(reply.status_code)
            self.send_header("Content-Type", kind or "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_DELETE = _forward

    return Handler


class LyingGateway:
    """The proxy; set :attr:`lie` per test (``None`` forwards honestly)."""

    def __init__(self, upstream: str) -> None:
        self._state: dict[str, Lie | None] = {"lie": None}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, self._state))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def lie(self) -> Lie | None:
        return self._state["lie"]

    @lie.setter
    def lie(self, value: Lie | None) -> None:
        self._state["lie"] = value

    def start(self) -> LyingGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def lying_gateway(upstream: str) -> Iterator[LyingGateway]:
    gw = LyingGateway(upstream).start()
    try:
        yield gw
    finally:
        gw.stop()
