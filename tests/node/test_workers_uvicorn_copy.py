"""Drift guard for the uvicorn code ``node/workers.py`` copies.

``Supervisor`` (``vntrace.node.workers._supervisor_class``) re-implements three methods
of uvicorn's ``Multiprocess`` so that worker ``i`` and its replacements keep listening
socket ``i`` (SO_REUSEPORT). A uvicorn upgrade that changes those methods (a fix, a new
failure path, a log line) would silently not reach the copy; these tests fail instead,
until someone has re-read upstream, carried what applies into the copy and recorded
the new fingerprints here.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from vntrace.node.workers import _supervisor_class

COPIED_FROM = "0.55.0"
"""The uvicorn release the copies follow."""
COPIED = {
    "init_processes": "b4b6558037e390047e66da1331576d7121286f2191e2c3d0fd1d3e98f8f81d2e",
    "keep_subprocess_alive": "45fe161ba923fe13a04d07499d619a1691be05b5ea0e65dffb4ce81944fb2be6",
    "restart_all": "0ed339a48a988711d3eb3f973af30305b3131d755b9f09cba9f8b66acc4beaed",
}
"""sha256 of each upstream method's dedented source (``inspect.getsource``) in that release."""
EXTENDED = {"__init__", "join_all"}
"""Overrides that call uvicorn's own method (``super()``) rather than copying it."""


def fingerprint(name: str) -> str:
    """sha256 of ``Multiprocess.<name>``'s source, dedented (indentation is not drift)."""
    source = textwrap.dedent(inspect.getsource(getattr(Multiprocess, name)))
    return hashlib.sha256(source.encode()).hexdigest()


def test_the_copied_uvicorn_methods_are_unchanged_upstream() -> None:
    changed = sorted(name for name, known in COPIED.items() if fingerprint(name) != known)
    assert not changed, (
        f"uvicorn {uvicorn.__version__} changed Multiprocess.{', Multiprocess.'.join(changed)} "
        f"since the copy in node/workers.py (Supervisor, copied from uvicorn {COPIED_FROM}) "
        "was made: re-check the copy against the new upstream source, carry over what "
        "applies (keeping socket i for worker i), then record the new fingerprints and "
        "version in tests/node/test_workers_uvicorn_copy.py"
    )


def test_every_override_is_either_a_recorded_copy_or_an_extension() -> None:
    """A method newly copied from uvicorn must get a fingerprint too."""
    supervisor = _supervisor_class()
    overrides = {
        name
        for name, value in vars(supervisor).items()
        if callable(value) and hasattr(Multiprocess, name)
    }
    assert overrides == set(COPIED) | EXTENDED, (
        "Supervisor's overrides of uvicorn's Multiprocess changed: fingerprint a copied "
        "method in COPIED, or list one that calls super() in EXTENDED"
    )
    for name in EXTENDED:
        assert "super()" in inspect.getsource(getattr(supervisor, name)), name
