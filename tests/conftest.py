"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vntrace.node.merkle import accel

ENGINES = ["c-accelerated", "pure-python"] if accel.available() else ["pure-python"]
if not accel.available():
    print("NOTE: the Merkle C accelerator is not built here; testing the pure-Python engine only")


@pytest.fixture(scope="module", params=ENGINES)
def merkle_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a module's tests once per Merkle engine (C accelerator, pure Python)."""
    previous = accel.set_enabled(request.param == "c-accelerated")
    try:
        yield request.param
    finally:
        accel.set_enabled(previous)
