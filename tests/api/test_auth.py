"""Bearer tokens, the administrator's first token, and who may write where."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vntrace.api import create_app
from vntrace.node.config import Settings

from .conftest import Gateway, open_gateway
from .helpers import Producer, assert_problem, new_lot


def test_no_key_bad_key_and_revoked_key(gw: Gateway, producer: Producer) -> None:
    body = {"gtin": gw.gtin, "lot": new_lot()}
    r = gw.client.post("/v1/lots", json=body)
    problem = assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in problem["detail"]
    bad = {"Authorization": "Bearer vnt_0123456789abcdef_" + "A" * 43}
    assert_problem(gw.client.post("/v1/lots", json=body, headers=bad), 401)
    assert_problem(gw.client.post("/v1/lots", json=body, headers={"Authorization": "x"}), 401)
    gw.client.delete(f"/v1/producers/{producer.address}/keys/{producer.key_id}", headers=gw.admin)
    assert_problem(gw.client.post("/v1/lots", json=body, headers=producer.headers), 401)


def test_admin_cannot_write_events(gw: Gateway) -> None:
    r = gw.client.post("/v1/lots", json={"gtin": gw.gtin, "lot": new_lot()}, headers=gw.admin)
    assert "producer" in assert_problem(r, 403, "forbidden")["detail"]


def test_admin_token_file_is_private_and_works(gw: Gateway) -> None:
    path = Path(gw.node.settings.data_dir) / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    me = gw.client.get("/v1/me", headers=gw.admin).json()
    assert me["role"] == "admin" and me["producer"] is None


def test_admin_token_reissued_when_revoked(tmp_path: Path) -> None:
    for gateway in open_gateway(tmp_path):
        first = (tmp_path / "admin-token").read_text().strip()
        gateway.node.store.revoke_api_key(first.split("_")[1])
    for gateway in open_gateway(tmp_path):
        second = (tmp_path / "admin-token").read_text().strip()
        assert second != first
        headers = {"Authorization": f"Bearer {second}"}
        assert gateway.client.get("/v1/me", headers=headers).json()["role"] == "admin"


def test_admin_token_from_settings(tmp_path: Path) -> None:
    token = "s3cret-" + "x" * 40
    app = create_app(
        Settings(data_dir=tmp_path, admin_token=token, rate_limit_per_second=0),
        start_anchoring=False,
    )
    with TestClient(app) as client:
        assert not (tmp_path / "admin-token").exists()
        r = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.json()["role"] == "admin"
        assert_problem(client.get("/v1/me", headers={"Authorization": "Bearer nope"}), 401)


def test_short_admin_token_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        create_app(Settings(data_dir=tmp_path, admin_token="short"))
