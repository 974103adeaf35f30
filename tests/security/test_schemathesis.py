"""Schemathesis against the node's own OpenAPI document, over HTTP to a real server.

Every operation of ``/openapi.json`` gets the documented examples, schemathesis's
boundary ("coverage") cases and fuzzed requests, valid and invalid alike (generation
mode ``all``), sent with no key, the administrator's key or a producer's key. Every
answer must be below 500, every 4xx must be an RFC 9457 problem (``status`` equal to the
HTTP status), and the server's access log must show no 5xx afterwards (checked by the
session fixture). Bounded: ``VNTRACE_SCHEMATHESIS_EXAMPLES`` fuzzed examples per
operation (default 15).

Needs ``schemathesis>=4,<5`` (a dev dependency); skipped without it.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter
from typing import Any

import pytest

from tests.reliability.serve import HttpProducer

from .conftest import Node

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.config import SchemathesisConfig  # noqa: E402

EXAMPLES = int(os.environ.get("VNTRACE_SCHEMATHESIS_EXAMPLES", "15"))
SEEN: Counter[str] = Counter()
_WHO: dict[str, HttpProducer] = {}


def _load_schema() -> Any:
    """The app's OpenAPI document, built without opening a node (the same app serves it)."""
    from vntrace.api import create_app
    from vntrace.node.config import Settings

    config = SchemathesisConfig.from_dict(
        {
            "seed": 20260401,
            "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
            "cache": {"enabled": False},
        }
    )
    raw = create_app(Settings(data_dir="unused-schemathesis")).openapi()
    return schemathesis.openapi.from_dict(raw, config=config)


schema = _load_schema()


def _headers(node: Node, case: Any) -> dict[str, str]:
    """No key, the admin's or a producer's, chosen from the case so runs are repeatable."""
    who = zlib.crc32(f"{case.method} {case.path} {case.body!r}".encode()) % 3
    if who == 0:
        return {}
    if who == 1:
        return node.admin
    if "producer" not in _WHO:
        _WHO["producer"] = node.producer("Schemathesis")
    return _WHO["producer"].headers


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    return value[0] if isinstance(value, list) else str(value)


def _wants_html(case: Any) -> bool:
    """A browser's request (the Digital Link resolver answers it with an HTML page)."""
    query = case.query or {}
    accept = str((case.headers or {}).get("Accept", ""))
    return query.get("format") == "html" or (
        "text/html" in accept and query.get("format") != "json"
    )


@schema.parametrize()
def test_no_5xx_and_every_4xx_is_a_problem(node: Node, case: Any) -> None:
    response = case.call(base_url=node.url, headers=_headers(node, case), timeout=60)
    SEEN[str(response.status_code)] += 1
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if 400 <= response.status_code < 500 and not (
        _wants_html(case) and _content_type(response).startswith("text/html")
    ):
        assert _content_type(response).startswith("application/problem+json"), (
            case.method,
            case.path,
            response.status_code,
            response.text[:300],
        )
        body = response.json()
        assert body.get("status") == response.status_code and body.get("title"), body


def test_print_counts() -> None:
    """Say how many requests schemathesis sent, by status."""
    print(f"\nschemathesis requests by status: {dict(sorted(SEEN.items()))}, total {SEEN.total()}")
    assert SEEN.total() > 0 or not os.environ.get("CI")
