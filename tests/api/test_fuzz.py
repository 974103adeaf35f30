"""Every operation of the app's own OpenAPI document, fed arbitrary input: never a 5xx.

A bounded, dependency-free stand-in for a schemathesis run: for each path and method
it draws path parameters (arbitrary text, percent-encoded), query strings and JSON
bodies (arbitrary JSON values, and mutations of the documented examples) and sends them
with no key, the administrator's key or a producer's key. Every answer must be below
500, and every 4xx must be problem+json.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vntrace.api import create_app
from vntrace.node.config import Settings

from .conftest import Gateway

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
segments = st.one_of(
    st.text(min_size=1, max_size=25),
    st.from_regex(r"0x[0-9a-fA-F]{0,70}", fullmatch=True),
    st.from_regex(r"[0-9]{1,16}", fullmatch=True),
)

OPERATIONS = [
    (path, method)
    for path, ops in create_app(Settings(data_dir="unused")).openapi()["paths"].items()
    for method in ops
]


def _example(op: dict[str, Any], spec: dict[str, Any]) -> Any:
    media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in media:
        return media["example"]
    ref = media.get("schema", {}).get("$ref", "")
    schema = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
    examples = schema.get("examples") or [None]
    return examples[0]


def _mutate(example: Any, data: st.DataObject) -> Any:
    if not isinstance(example, dict) or not example:
        return data.draw(json_values)
    out = dict(example)
    key = data.draw(st.sampled_from(sorted(out)))
    out[key] = data.draw(json_values)
    return out


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_server_errors(gw: Gateway, path: str, method: str, data: st.DataObject) -> None:
    spec = _SPEC.setdefault("spec", gw.client.get("/openapi.json").json())
    op = spec["paths"][path][method]
    url = re.sub(r"\{[^}]+\}", lambda _: quote(data.draw(segments), safe=""), path)
    params = data.draw(st.dictionaries(st.sampled_from(["limit", "after", "format"]), segments))
    who = data.draw(st.sampled_from(["anonymous", "admin", "producer"]))
    headers = {}
    if who == "admin":
        headers = dict(gw.admin)
    elif who == "producer":
        headers = dict(_producer(gw).headers)
    kwargs: dict[str, Any] = {"params": params, "headers": headers}
    if "requestBody" in op:
        example = _example(op, spec)
        kwargs["json"] = data.draw(
            st.one_of(st.just(example), st.builds(lambda: _mutate(example, data)), json_values)
        )
    client: TestClient = gw.client
    r = client.request(method.upper(), url, **kwargs)
    # /readyz answers 503 by design when the node is not ready (e.g. a loaded machine
    # delays anchoring): that is a health verdict, not a server error.
    legit_503 = url == "/readyz" and r.status_code == 503
    assert r.status_code < 500 or legit_503, (method, url, r.status_code, r.text[:500])
    if 400 <= r.status_code < 500:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text[:200]


_SPEC: dict[str, Any] = {}
_PRODUCERS: dict[int, Any] = {}


def _producer(gw: Gateway) -> Any:
    if id(gw) not in _PRODUCERS:
        _PRODUCERS[id(gw)] = gw.producer("Fuzz")
    return _PRODUCERS[id(gw)]
