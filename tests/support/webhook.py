"""A real webhook receiver for the subscription tests: an http.server thread on
127.0.0.1 that records every POST and can answer 500 to the first ``fail`` of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    url: str
    fail: int = 0
    """Answer 500 to this many more requests (then 200)."""
    got: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> list[Delivery]:
        with self.lock:
            return [d for d in self.got if d.status == 200]

    def wait(self, accepted: int, timeout: float = 20.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.accepted) >= accepted:
                return self.accepted
            time.sleep(0.05)
        raise AssertionError(f"{len(self.accepted)} deliveries accepted, wanted {accepted}")


@contextmanager
def receiver(fail: int = 0) -> Iterator[Receiver]:
    state = Receiver(url="", fail=fail)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                status = 500 if state.fail > 0 else 200
                state.fail = max(0, state.fail - 1)
                state.got.append(Delivery(self.path, dict(self.headers), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
