"""The OpenAPI document: served at /docs, every request body with an example."""

from __future__ import annotations

from typing import Any

from .conftest import Gateway


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        return spec["components"]["schemas"][name]
    options = schema.get("anyOf") or []
    for option in options:
        if "$ref" in option:
            return _resolve(option, spec)
    return schema


def test_docs_page(gw: Gateway) -> None:
    r = gw.client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()


def test_every_request_body_has_an_example(gw: Gateway) -> None:
    spec = gw.client.get("/openapi.json").json()
    bodies = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {})
            for media in content.values():
                bodies += 1
                schema = _resolve(media.get("schema", {}), spec)
                assert media.get("example") or media.get("examples") or schema.get("examples"), (
                    f"{method.upper()} {path} has no request example"
                )
    assert bodies >= 7


def test_writes_declare_bearer_auth(gw: Gateway) -> None:
    spec = gw.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/lots"]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in spec["paths"]["/v1/verify"]["post"]
