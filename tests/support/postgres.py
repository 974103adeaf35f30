"""A throwaway PostgreSQL server for tests, or the one named by VNTRACE_TEST_POSTGRES_URL.

Tests must not depend on a database someone left running, so by default a private
cluster is made in a fresh temporary folder (``initdb``), started on a free loopback
port with ``fsync=on`` (the same durability the store promises in production) and
stopped, folder removed, at the end of the session. PostgreSQL refuses to run as root:
as root the cluster is owned by, and the server runs as, the ``postgres`` OS user.

``VNTRACE_TEST_POSTGRES_URL`` (a superuser URL, e.g.
``postgresql+psycopg://postgres:pw@db:5432/postgres``) uses an existing server instead;
each test still gets its own fresh database, dropped afterwards.

Only missing server binaries skip (with the reason printed); a server that is installed
but fails to start is a test error, never a silent skip. The private cluster listens on
127.0.0.1 only, with a random password, and is stopped at the end of the session, at
exit, or by the kernel when the test process dies (its folder ``/tmp/vntrace-pg-*`` is
then left behind).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from tests.support.anvil import free_port

ENV_URL: Final = "VNTRACE_TEST_POSTGRES_URL"
SUPERUSER: Final = "vntrace"
SERVER_USER: Final = "postgres"  # the OS account the server runs as when we are root


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``postgres`` (newest Debian version first)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    for folder in candidates:
        if os.access(f"{folder}/initdb", os.X_OK) and os.access(f"{folder}/postgres", os.X_OK):
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).resolve().parent
    return None


def _stop_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel to SIGINT the server (a fast shutdown) when
    the process that started it dies, even by SIGKILL or ``timeout``, so no test run
    leaves a server behind. Linux only; ``None`` elsewhere."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGINT)

    return preexec


def _run_as() -> tuple[int, int] | None:
    """``(uid, gid)`` to run the server as, or ``None`` to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(SERVER_USER)
    except KeyError as e:
        raise RuntimeError(
            f"running as root and no {SERVER_USER!r} user to run PostgreSQL as "
            "(the server refuses root); install the postgresql package or run as a normal user"
        ) from e
    return pw.pw_uid, pw.pw_gid


class PostgresServer:
    """One PostgreSQL server: a private cluster we start and stop, or an external one."""

    def __init__(
        self,
        admin_url: str | URL,
        *,
        proc: subprocess.Popen[bytes] | None = None,
        folder: Path | None = None,
        log: Path | None = None,
    ) -> None:
        self.admin_url = make_url(admin_url)
        self._proc = proc
        self._folder = folder
        self.log = log
        self._lock = threading.RLock()
        self._created: list[str] = []
        self._schema_db: str | None = None
        self._admin = create_engine(
            self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (a private cluster; ``None`` for an external server)."""
        return self._proc.pid if self._proc is not None else None

    # -- life cycle ----------------------------------------------------------------------

    @classmethod
    def start_private(cls, binaries: Path, timeout: float = 30.0) -> PostgresServer:
        """initdb a cluster in a new temporary folder and start it on 127.0.0.1."""
        owner = _run_as()
        # As root the server user must reach the folder: /tmp is world-traversable,
        # a private TMPDIR (e.g. /root/tmp) would not be.
        parent = "/tmp" if owner is not None and os.path.isdir("/tmp") else None
        folder = Path(tempfile.mkdtemp(prefix="vntrace-pg-", dir=parent))
        data, sockets, log = folder / "data", folder / "run", folder / "server.log"
        pwfile = folder / "pw"
        sockets.mkdir()
        log.touch()
        # A random password (scram), not "trust": other users of a shared machine can
        # reach a loopback port too.
        password = secrets.token_urlsafe(18)
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if owner is not None:
            for p in (folder, sockets, log, pwfile):
                os.chown(p, *owner)
        user_kw: dict[str, int] = {} if owner is None else {"user": owner[0], "group": owner[1]}
        try:
            subprocess.run(
                [str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
                 "-A", "scram-sha-256", f"--pwfile={pwfile}",
                 "-E", "UTF8", "--locale=C", "--no-instructions"],
                check=True, capture_output=True, timeout=120, **user_kw,
            )  # fmt: skip
        except subprocess.CalledProcessError as e:
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"initdb failed: {e.stderr.decode(errors='replace')}") from e
        finally:
            pwfile.unlink(missing_ok=True)
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(data), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={sockets}",
                 "-c", "fsync=on", "-c", "synchronous_commit=on",
                 "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_stop_with_parent(), **user_kw,
            )  # fmt: skip
        url = URL.create(
            "postgresql+psycopg", username=SUPERUSER, password=password, host="127.0.0.1",
            port=port, database="postgres",
        )  # fmt: skip
        server = cls(url, proc=proc, folder=folder, log=log)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                server.stop()
                raise RuntimeError(f"postgres exited at start:\n{log.read_text()[-3000:]}")
            try:
                with server._admin.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return server
            except Exception:
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"postgres did not answer on port {port}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Drop the databases we made (external server) or stop and delete our cluster."""
        self._admin.dispose()
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)  # "fast" shutdown: roll back, checkpoint
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        elif self._created:
            for name in list(self._created):
                self.drop_database(name)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- databases -----------------------------------------------------------------------

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its ``postgresql+psycopg://`` URL as a string."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        with self._lock:
            self._created.append(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any session still connected to it (a killed test's)."""
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        with self._lock, contextlib.suppress(ValueError):
            self._created.remove(name)

    def url_for(self, database: str, schema: str | None = None) -> str:
        url = self.admin_url.set(database=database)
        if schema is not None:
            url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    # -- schemas (cheap isolation: ~1 ms instead of ~250 ms for a database) ---------------

    def create_schema(self, prefix: str = "s") -> str:
        """A new empty schema in the session's shared test database, as a URL whose
        connections use it as their ``search_path`` (so the store sees only it)."""
        with self._lock:
            if self._schema_db is None:
                self._schema_db = self.create_database("schemas")
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        engine = create_engine(self._schema_db, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
        finally:
            engine.dispose()
        return self.url_for(make_url(self._schema_db).database or "", name)

    def drop_schema(self, url: str) -> None:
        """Drop the schema of a URL made by :meth:`create_schema`, with all its tables."""
        options = make_url(url).query.get("options", "")
        name = str(options).partition("search_path=")[2]
        if self._schema_db is None or not name:
            return
        engine = create_engine(self._schema_db, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SET lock_timeout = '10s'"))
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        finally:
            engine.dispose()


_shared: PostgresServer | None = None
_shared_lock = threading.Lock()


def shared_server(external_url: str | None) -> PostgresServer | None:
    """The session's server (started on first use), or ``None`` if none can exist here.

    ``external_url`` is the value of :data:`ENV_URL` (read once by the caller).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            if external_url:
                _shared = PostgresServer(external_url)
            else:
                binaries = server_binaries()
                if binaries is None:
                    return None
                _shared = PostgresServer.start_private(binaries)
                atexit.register(stop_shared)  # also when the session ends abnormally
        return _shared


def stop_shared() -> None:
    global _shared
    with _shared_lock:
        server, _shared = _shared, None
    if server is not None:
        server.stop()


SKIP_REASON: Final = (
    "PostgreSQL server binaries not found (apt-get install postgresql, which "
    "scripts/bootstrap.sh does in CI), and VNTRACE_TEST_POSTGRES_URL is not set"
)


def require_server() -> PostgresServer:
    """The shared server, or skip the calling test with the reason printed."""
    import pytest

    server = shared_server(os.environ.get(ENV_URL))
    if server is None:
        print(f"SKIP: {SKIP_REASON}")
        pytest.skip(SKIP_REASON)
    return server


@contextlib.contextmanager
def fresh_database(server: PostgresServer, prefix: str = "t") -> Iterator[str]:
    """A new database for the duration of the block, dropped afterwards."""
    url = server.create_database(prefix)
    try:
        yield url
    finally:
        server.drop_database(make_url(url).database or "")
