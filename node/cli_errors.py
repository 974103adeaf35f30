"""One clear line for what a person at the command line can fix; never a traceback.

A bad setting names its ``VNTRACE_*`` variable and what was wrong with the value; a
missing key or an unreachable chain says which setting to look at. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

ENV_PREFIX = "VNTRACE_"


def _setting_errors(exc: Any) -> str:
    """pydantic's validation errors of :class:`Settings`, one clause per field."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if loc:
            name = ENV_PREFIX + loc[0].upper()
            value = err.get("input")
            shown = "" if isinstance(value, dict) or "KEY" in name else f" (got {value!r})"
            parts.append(f"{name}: {message}{shown}")
        else:
            parts.append(message)
    return "bad setting: " + "; ".join(parts)


def explain(exc: BaseException) -> str | None:
    """The line to print for ``exc``, or ``None`` when it is not the user's to fix."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return _setting_errors(exc)
    try:
        from vntrace.node.chain.errors import ChainError, ChainUnavailableError
        from vntrace.node.errors import NodeError
    except ImportError:  # the light install: no chain or node errors to explain
        return None
    if isinstance(exc, ChainUnavailableError):
        return f"the chain cannot be reached (check VNTRACE_RPC_URL): {exc}"
    if isinstance(exc, ChainError):
        return f"chain: {exc}"
    if isinstance(exc, NodeError):
        return exc.detail
    if isinstance(
        exc, PermissionError | FileNotFoundError | IsADirectoryError | NotADirectoryError
    ):
        return f"{exc.strerror}: {exc.filename} (check VNTRACE_DATA_DIR / --data-dir)"
    return None
