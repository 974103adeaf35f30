"""The installed vntrace version (shown in OpenAPI and ``/v1/info``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("vntrace")
    except PackageNotFoundError:  # pragma: no cover - a bare source tree
        return "0+unknown"
