"""Fixtures of the page tests: an in-process gateway, a real server, a real browser.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``$VNTRACE_CHROMIUM``)
driven by Playwright with that executable: Playwright's own browser downloads are
never used. Without Chromium or Playwright the browser tests skip and say why;
``scripts/bootstrap.sh`` installs Chromium in CI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Gateway, open_gateway
from tests.support.serve import clean_env, free_port, spawn, stop, wait_ready

from .seed import Seeded, seed

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "pages"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(tmp_path_factory.mktemp("pages-gateway"))


@dataclass(frozen=True)
class Server:
    url: str
    seeded: Seeded

    def lot_url(self, state: str, query: str = "") -> str:
        return f"{self.url}/01/{self.seeded.gtin}/10/{self.seeded.lots[state]}{query}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``vntrace serve`` on a seeded data folder; anchoring every hour keeps one lot pending."""
    data_dir = tmp_path_factory.mktemp("pages-served")
    seeded = seed(data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn(data_dir, port, clean_env(VNTRACE_EPOCH_SECONDS="3600"))
    try:
        wait_ready(url, proc, data_dir)
        yield Server(url, seeded)
    finally:
        stop(proc)


def chromium_path() -> str | None:
    """Debian's Chromium, or None (with the reason printed) when it cannot be used."""
    path = os.environ.get("VNTRACE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() and os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -e '.[dev]')"
        print(f"\nSKIP browser tests: {reason}")
        pytest.skip(reason)
    if chromium_path() is None:
        reason = (
            "Chromium not found at /usr/bin/chromium ($VNTRACE_CHROMIUM): run "
            "scripts/bootstrap.sh as root or apt-get install chromium"
        )
        print(f"\nSKIP browser tests: {reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        yield p


Browse = Callable[..., Any]


@pytest.fixture
def browse(playwright: Any) -> Iterator[Browse]:
    """Open a fresh Chromium (its own user-data-dir) per call: ``browse(**context_options)``."""
    opened: list[tuple[Any, tempfile.TemporaryDirectory[str]]] = []

    def open_context(**options: Any) -> Any:
        profile = tempfile.TemporaryDirectory(prefix="vntrace-chromium-")
        options.setdefault("viewport", DESKTOP)
        context = playwright.chromium.launch_persistent_context(
            profile.name,
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            **options,
        )
        opened.append((context, profile))
        return context

    yield open_context
    for context, profile in opened:
        context.close()
        profile.cleanup()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
