"""Every operation of the node's own OpenAPI document, fuzzed over HTTP to a real server.

The one home of the property "whatever a client sends, never a 5xx, and every 4xx is an
RFC 9457 problem" (``status`` equal to the HTTP status, a ``title``); the server's access
log must show no 5xx afterwards (checked by the session fixture). Two generators, each
request sent with no key, the administrator's key or a producer's key:

- **schemathesis** (schema-driven): the documented examples, boundary ("coverage") cases
  and fuzzed requests, valid and invalid alike (generation mode ``all``);
  ``VNTRACE_SCHEMATHESIS_EXAMPLES`` fuzzed examples per operation (default 15). Needs
  ``schemathesis>=4,<5`` (a dev dependency); skipped, saying so, without it.
- **hostile inputs** (hand-written, Hypothesis only), what a schema-driven tool does not
  send: hand-picked hostile path segments (dot segments, ``%``, NUL, an encoded ``/``,
  bidi overrides, integers past int64, over-long hex), the documented examples with one
  field replaced by an arbitrary JSON value, and query parameters the operation does not
  declare (paging, ``format``). ``VNTRACE_HOSTILE_EXAMPLES`` per operation (default 15).
"""

from __future__ import annotations

import os
import re
import zlib
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.serve import HttpProducer
from vntrace.api import create_app
from vntrace.node.config import Settings

from .conftest import Node

try:
    import schemathesis
    from schemathesis.config import SchemathesisConfig
except ImportError:  # a dev dependency
    schemathesis = None

EXAMPLES = int(os.environ.get("VNTRACE_SCHEMATHESIS_EXAMPLES", "15"))
HOSTILE_EXAMPLES = int(os.environ.get("VNTRACE_HOSTILE_EXAMPLES", "15"))
SEEN: Counter[str] = Counter()
_WHO: dict[str, HttpProducer] = {}

# The app's OpenAPI document, built without opening a node (the same app serves it).
SPEC: dict[str, Any] = create_app(Settings(data_dir="unused-schemathesis")).openapi()


def _producer(node: Node) -> dict[str, str]:
    if "producer" not in _WHO:
        _WHO["producer"] = node.producer("Fuzz")
    return _WHO["producer"].headers


def _key(node: Node, who: int) -> dict[str, str]:
    """0: no key, 1: the admin's, 2: a producer's."""
    if who == 0:
        return {}
    return node.admin if who == 1 else _producer(node)


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    return value[0] if isinstance(value, list) else str(value)


def _wants_html(query: dict[str, Any] | None, headers: dict[str, Any] | None) -> bool:
    """A browser's request (the Digital Link resolver answers it with an HTML page)."""
    query = query or {}
    accept = str((headers or {}).get("Accept", ""))
    return query.get("format") == "html" or (
        "text/html" in accept and query.get("format") != "json"
    )


def assert_no_5xx_and_4xx_is_a_problem(response: Any, html_ok: bool, where: Any) -> None:
    """The property both generators check, on a requests- or httpx-style response."""
    SEEN[str(response.status_code)] += 1
    assert response.status_code < 500, (where, response.status_code, response.text[:500])
    if not 400 <= response.status_code < 500:
        return
    if html_ok and _content_type(response).startswith("text/html"):
        return
    assert _content_type(response).startswith("application/problem+json"), (
        where,
        response.status_code,
        response.text[:300],
    )
    body = response.json()
    assert body.get("status") == response.status_code and body.get("title"), (where, body)


# ------------------------------------------------------------------ schemathesis

if schemathesis is not None:
    schema = schemathesis.openapi.from_dict(
        SPEC,
        config=SchemathesisConfig.from_dict(
            {
                "seed": 20260401,
                "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
                "cache": {"enabled": False},
            }
        ),
    )

    @schema.parametrize()
    def test_no_5xx_and_every_4xx_is_a_problem(node: Node, case: Any) -> None:
        # Key chosen from the case, so runs are repeatable.
        who = zlib.crc32(f"{case.method} {case.path} {case.body!r}".encode()) % 3
        response = case.call(base_url=node.url, headers=_key(node, who), timeout=60)
        assert_no_5xx_and_4xx_is_a_problem(
            response, _wants_html(case.query, case.headers), (case.method, case.path)
        )

else:

    def test_no_5xx_and_every_4xx_is_a_problem() -> None:
        reason = "schemathesis is not installed (a dev dependency: pip install -e '.[dev]')"
        print(reason)
        pytest.skip(reason)


# ------------------------------------------------------------------ hostile inputs

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
HOSTILE_SEGMENTS = [
    ".",
    "..",
    "%",
    "%00",
    "\x00",
    "a/b",
    "../../v1/info",
    " ",
    "\u202e\u2066",
    "\ufeff",
    "-1",
    str(2**63),
    "1" * 40,
    "1e400",
    "NaN",
    "0x" + "f" * 41,
    "0x" + "0" * 65,
    "0X" + "A" * 40,
    "\U0001f600" * 40,
]
segments = st.one_of(
    st.sampled_from(HOSTILE_SEGMENTS),
    st.text(min_size=1, max_size=25),
    st.from_regex(r"0x[0-9a-fA-F]{0,70}", fullmatch=True),
    st.from_regex(r"[0-9]{1,30}", fullmatch=True),
)
# Every operation (some read query parameters they do not declare, e.g. EPCIS paging),
# but /readyz: a health verdict, whose 503 on a loaded machine is by design.
HOSTILE_OPERATIONS = [
    (path, method) for path, ops in SPEC["paths"].items() for method in ops if path != "/readyz"
]
# Undeclared everywhere: paging and format names the node uses on some routes.
UNDECLARED_QUERY = ("limit", "after", "format", "perPage", "nextPageToken")


def _example(op: dict[str, Any]) -> Any:
    media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in media:
        return media["example"]
    ref = media.get("schema", {}).get("$ref", "")
    component = SPEC["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
    return (component.get("examples") or [None])[0]


def _mutate(example: Any, data: st.DataObject) -> Any:
    """The example with one field replaced by an arbitrary JSON value."""
    if not isinstance(example, dict) or not example:
        return data.draw(json_values)
    out = dict(example)
    out[data.draw(st.sampled_from(sorted(out)))] = data.draw(json_values)
    return out


@pytest.mark.parametrize(("path", "method"), HOSTILE_OPERATIONS)
@settings(
    max_examples=HOSTILE_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_inputs_never_5xx(node: Node, path: str, method: str, data: Any) -> None:
    op = SPEC["paths"][path][method]
    url = re.sub(r"\{[^}]+\}", lambda _: quote(data.draw(segments), safe=""), path)
    declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    names = st.sampled_from(sorted({*UNDECLARED_QUERY, *declared}))
    params = data.draw(st.dictionaries(names, segments, max_size=3))
    kwargs: dict[str, Any] = {"params": params, "headers": _key(node, data.draw(st.integers(0, 2)))}
    if "requestBody" in op:
        example = _example(op)
        kwargs["json"] = data.draw(
            st.one_of(st.just(example), st.builds(lambda: _mutate(example, data)), json_values)
        )
    response = node.http.request(method.upper(), url, timeout=60, **kwargs)
    assert_no_5xx_and_4xx_is_a_problem(response, _wants_html(params, None), (method, url))


def test_print_counts() -> None:
    """Say how many requests both generators sent, by status."""
    print(f"\nrequests by status: {dict(sorted(SEEN.items()))}, total {SEEN.total()}")
    assert SEEN.total() > 0 or not os.environ.get("CI")
