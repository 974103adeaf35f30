"""``vntrace serve``: run the node and its HTTP gateway until Ctrl-C.

Opens the node described by the settings (embedded chain by default), makes sure an
administrator can log in, starts anchoring and serves the gateway with uvicorn. It
prints where to reach it, where its data lives and where the admin token is (never the
token). SIGINT and SIGTERM stop it cleanly with exit code 0: uvicorn finishes the
requests in flight, the anchoring loop its current step, then the store and the chain
are closed.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from vntrace.node.config import Settings
from vntrace.node.service import TraceNode


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, minus re-raising the signal after a graceful stop.

        uvicorn re-delivers SIGINT/SIGTERM once shut down (so an embedding program dies
        of it); here the shutdown *is* the program's end, so it returns normally.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            signals = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def serve(
    data_dir: Path | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    out: Any = print,
) -> int:
    """Run the node and gateway in the foreground; returns the process exit code."""
    import uvicorn

    from vntrace.api import create_app
    from vntrace.api.auth import check_admin_token_setting

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if workers is not None:
        overrides["workers"] = workers
    settings = Settings(**overrides)
    try:
        check_admin_token_setting(settings)
    except ValueError as exc:
        out(f"vntrace serve: {exc}")
        return 2
    if settings.workers > 1:
        from vntrace.node.workers import serve_workers

        code = serve_workers(settings, overrides, banner=lambda node: _banner(node, settings, out))
        out("stopped: the workers finished their requests; closing the store and the chain")
        return code
    with TraceNode.open(settings) as node:
        _banner(node, settings, out)
        app = create_app(node=node, start_anchoring=True)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            log_config=None,
            lifespan="on",
            # Trust forwarded headers only from configured proxies (never by default).
            proxy_headers=settings.forwarded_allow_ips is not None,
            forwarded_allow_ips=settings.forwarded_allow_ips or "",
        )
        server = _server_class()(config)
        server.run()
        out("stopped: anchoring finished its last step; closing the store and the chain")
        if getattr(server, "started", True) is False:
            return 1
    return 0


def _banner(node: TraceNode, settings: Settings, out: Any) -> None:
    """Where to reach the node, where its data and admin token are (never the token)."""
    from vntrace.api.auth import ensure_admin_token

    token_path = ensure_admin_token(node)
    info = node.info()
    url = f"http://{_url_host(settings.host)}:{settings.port}"
    out(
        f"vntrace node: profile {info['profile']}, chain {info['chain']} "
        f"(id {info['chainId']}), registry {info['registry']}"
    )
    out(f"data folder:  {Path(settings.data_dir).resolve()}")
    if token_path is not None:
        out(f"admin token:  {token_path.resolve()} (keep it secret)")
    else:
        out("admin token:  from VNTRACE_ADMIN_TOKEN")
    out(f"anchoring:    every {settings.epoch_seconds:g}s or {settings.epoch_max_records} records")
    processes = f"   ({settings.workers} worker processes)" if settings.workers > 1 else ""
    out(f"serving:      {url}   API docs: {url}/docs   Ctrl-C to stop{processes}")


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
