"""``vntrace serve --workers N``: one node served by N gateway processes.

One process per core, because the node's hot paths (signature recovery, validation,
canonical JSON, proofs) are Python under one GIL each. The processes are one node:
one data folder (store, identity, vault), one registry, one anchorer.

- **The supervisor** (the process ``vntrace serve`` started) opens the node once, so
  migrations, the identity and the admin token exist before any worker starts, binds
  the listening socket, and runs uvicorn's process manager, which restarts a worker that
  dies. On the embedded chain it also holds the chain and serves it to the workers
  (:class:`~vntrace.node.chain.host.ChainHost`); py-evm's folder can have one owner only.
- **Each worker** opens the node from the same settings (``VNTRACE_*`` in its
  environment: the supervisor's command-line options are passed on that way), with
  ``VNTRACE_CHAIN_HOST`` pointing at the supervisor on the embedded chain, and serves
  HTTP. All of them take intake and verification; the anchoring loop runs in whichever
  holds the leader lock (``node/anchoring/leader.py``: ``flock`` next to the SQLite
  database, an advisory lock on PostgreSQL), the webhook outbox is leased, so nothing is
  anchored or delivered twice. A worker asks the kernel for SIGKILL when the supervisor
  dies (``PR_SET_PDEATHSIG``), so a kill -9 of the supervisor leaves no worker serving
  (see :func:`_die_with_parent` for why not SIGTERM).
- **Metrics** are summed over the workers by prometheus-client's multiprocess mode
  (``api/metrics.py``), in a folder of the data folder emptied at each start.

Acknowledged means committed, whatever process took the request: crash safety is the
store's, as with one process.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vntrace.node.config import Settings

log = logging.getLogger("vntrace.workers")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """SIGKILL this worker when the supervisor dies (Linux); exit now if it already has.

    A supervisor that dies without stopping its workers has crashed (kill -9, OOM), so
    its workers crash with it. Not SIGTERM: uvicorn takes a SIGTERM that arrives during
    startup as "stop once started", so a worker starting up (a replacement, or one still
    opening the node against a chain host that died with the supervisor) goes on for
    seconds holding its listening socket, which the kernel keeps filling with new
    connections (the next start's sockets join the same ``SO_REUSEPORT`` group); they
    are reset when it exits (CI saw ``/metrics`` reset right after a restart). A leader
    in a graceful stop also keeps the anchorer lock. Nothing acknowledged is lost:
    acknowledged means committed, and a step cut anywhere is resumed by the next leader
    (the kill -9 suite).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl
            log.warning("cannot ask to be stopped with the supervisor")
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid != os.getppid():
        log.error("the supervisor (pid %s) is gone; this worker stops", parent.pid)
        raise SystemExit(1)


def app() -> Any:
    """The ASGI app of one worker (uvicorn factory: ``vntrace.node.workers:app``).

    The death signal is asked for before the API is imported (seconds on a loaded
    machine): a replacement worker holds its listening socket from its first moment, and
    one left starting up after the supervisor died would hold the socket's queued
    connections until it exits.
    """
    _die_with_parent()
    from vntrace.api import create_app

    return create_app(Settings())


def setting_variable(name: str) -> str:
    """The environment variable of the setting ``name`` (``fault_points``:
    ``VNTRACE_FAULT_POINTS``)."""
    return f"{Settings.model_config['env_prefix']}{name.upper()}"


def worker_environment(settings: Settings, overrides: Mapping[str, Any]) -> dict[str, str]:
    """``VNTRACE_*`` variables that give a worker the supervisor's settings."""
    env = {setting_variable(name): str(value) for name, value in overrides.items()}
    env["VNTRACE_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    return env


def serve_workers(
    settings: Settings,
    overrides: Mapping[str, Any],
    *,
    banner: Callable[[Any], None],
) -> int:
    """Supervise ``settings.workers`` gateway processes until SIGINT/SIGTERM."""
    import uvicorn

    from vntrace.api import metrics
    from vntrace.node.service import TraceNode

    with TraceNode.open(settings) as node:
        banner(node)
        env = worker_environment(settings, overrides)
        host = None
        if node.chain.kind == "embedded":
            from vntrace.node.chain.host import ChainHost

            host = ChainHost(node.chain, settings.data_dir).start()  # type: ignore[arg-type]
            env["VNTRACE_CHAIN_HOST"] = host.url
        else:  # the registry the supervisor found or deployed: workers must not deploy one
            env["VNTRACE_REGISTRY_ADDRESS"] = node.chain.registry_address
        metrics_dir = Path(settings.data_dir).resolve() / "metrics"
        metrics.prepare_multiprocess_dir(metrics_dir)
        os.environ.update(env)  # spawned workers inherit it
        config = uvicorn.Config(
            "vntrace.node.workers:app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="info",
            log_config=None,
            lifespan="on",
            proxy_headers=settings.forwarded_allow_ips is not None,
            forwarded_allow_ips=settings.forwarded_allow_ips or "",
        )
        try:
            sockets = bind_sockets(settings.host, settings.port, settings.workers)
        except OSError as exc:
            log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
            if host is not None:
                host.stop()
            return 1
        log.info("listening on %s:%d with %d workers", settings.host, settings.port, len(sockets))
        try:
            _supervisor_class()(config, sockets).run()
        finally:
            for sock in sockets:
                sock.close()
            if host is not None:
                host.stop()
    return 0


def _mark_dead(pid: int | None) -> None:
    if pid is not None:
        from vntrace.api import metrics

        metrics.worker_exited(pid)


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets on one address with ``SO_REUSEPORT``: one per worker.

    With one shared listening socket, whichever worker wakes first accepts every
    connection waiting (asyncio accepts in a loop), so a burst of keep-alive clients all
    lands on one process while the other idles: measured with 32 clients, one worker at
    75 % of a core, the other at 1 %. With a socket each, the kernel spreads connections
    over the listening sockets by their addresses. Linux lets only the same user bind a
    port this way. Raises :class:`OSError` if the address is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _supervisor_class() -> type:
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    class Supervisor(Multiprocess):
        """uvicorn's process manager, with a listening socket per worker (see
        :func:`bind_sockets`) and the metrics told when a worker is gone.

        ``init_processes``, ``keep_subprocess_alive`` and ``restart_all`` follow
        uvicorn 0.55's, giving worker ``i`` (and its replacement) socket ``i``. Copies
        drift: tests/node/test_workers_uvicorn_copy.py records a fingerprint of each
        upstream method and fails when a uvicorn upgrade changes one; re-check the copy
        against the new source then, and record the new fingerprints there.
        """

        def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
            super().__init__(config, sockets=sockets)
            self.processes_num = len(sockets)

        def _spawn(self, index: int) -> Any:
            process = Process(self.config, [self.sockets[index]])
            process.start()
            return process

        def init_processes(self) -> None:
            self.processes = [self._spawn(i) for i in range(self.processes_num)]
            # A crash point is for the workers of this start (node/faults.py): a
            # replacement that inherited it would die at the same point again, in a loop.
            os.environ.pop(setting_variable("fault_points"), None)

        def keep_subprocess_alive(self) -> None:
            if self.should_exit.is_set():
                return
            for index, process in enumerate(self.processes):
                if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    continue
                process.kill()  # hung or dead
                process.join()
                _mark_dead(process.pid)
                if process.exitcode == STARTUP_FAILURE:
                    log.error("worker %s failed to start; stopping", process.pid)
                    self.should_exit.set()
                    return
                if self.should_exit.is_set():
                    return
                log.info("worker %s died; starting another", process.pid)
                self.processes[index] = self._spawn(index)

        def restart_all(self) -> None:  # SIGHUP
            for index, old in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                new = self._spawn(index)
                if not new.wait_until_ready(
                    self.config.timeout_worker_healthcheck, self.should_exit
                ):
                    new.kill()
                    new.join()
                    return
                old.terminate()
                old.join()
                _mark_dead(old.pid)
                self.processes[index] = new

        def join_all(self) -> None:
            super().join_all()
            for process in self.processes:
                _mark_dead(process.pid)

    return Supervisor
