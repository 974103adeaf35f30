"""The optional C accelerator (``_accel``), and a switch to turn it off.

The accelerator computes exactly what the pure-Python path computes (tests compare
them on the same inputs); it only removes Python's per-hash overhead and releases the
GIL so big trees are hashed on several cores by plain threads. Where it was not built
(no C compiler at install time) everything falls back to safe-pysha3.
"""

from __future__ import annotations

from types import ModuleType

try:
    from . import _accel as _module
except ImportError:  # pragma: no cover - depends on the install
    _module = None

_enabled = _module is not None


def available() -> bool:
    """True when the C accelerator was built for this install."""
    return _module is not None


def enabled() -> bool:
    """True when the engine currently uses the C accelerator."""
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Turn the accelerator on or off (benchmarks, tests); returns the previous state."""
    global _enabled
    if flag and _module is None:
        raise RuntimeError("the C accelerator is not built in this install")
    previous, _enabled = _enabled, flag
    return previous


def get() -> ModuleType | None:
    """The accelerator module when enabled, else ``None``."""
    return _module if _enabled else None
