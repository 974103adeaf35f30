"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vntrace.api.routes import health

from .conftest import Gateway, open_gateway
from .helpers import Producer, new_lot


def test_healthz(gw: Gateway) -> None:
    assert gw.client.get("/healthz").json() == {"status": "ok"}


def test_ready(gw: Gateway) -> None:
    gw.node.anchor_now()
    r = gw.client.get("/readyz")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert checks["store"]["ok"] and checks["chain"]["blockNumber"] >= 0
    assert checks["anchoring"]["ok"] and not checks["anchoring"]["stalled"]


def test_not_ready_when_anchoring_stalls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "MIN_STALL_SECONDS", 0.2)
    for gateway in open_gateway(tmp_path, epoch_seconds=0.01):
        producer = gateway.producer()
        assert gateway.client.get("/readyz").status_code == 200
        gateway.lot_with_events(producer, new_lot(), 1)
        time.sleep(0.3)  # no anchoring loop runs in this gateway: the record waits
        r = gateway.client.get("/readyz")
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["type"].endswith("/not-ready") and "anchoring" in body["detail"]
        assert body["checks"]["anchoring"]["stalled"] is True
        gateway.node.anchor_now()
        assert gateway.client.get("/readyz").status_code == 200


def test_not_ready_when_halted(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gw.node.loop.status, "halted", True)
    assert gw.client.get("/readyz").json()["checks"]["anchoring"]["halted"] is True
    assert gw.client.get("/readyz").status_code == 503


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_metrics(gw: Gateway, producer: Producer) -> None:
    before = gw.client.get("/metrics").text
    lot = new_lot()
    ids = gw.lot_with_events(producer, lot, 2)["recordIds"]
    gw.client.post("/v1/verify", json={"recordIds": ids})
    r = gw.client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    received = _sample(text, "vntrace_records_received_total")
    assert received - _sample(before, "vntrace_records_received_total") == 2
    assert _sample(text, "vntrace_records_pending") >= 2
    pending_verdicts = _sample(text, 'vntrace_verifications_total{verdict="pending"}')
    assert pending_verdicts >= 2
    assert 'route="/v1/lots",status="201"' in text
    assert 'vntrace_http_request_duration_seconds_bucket{route="/v1/verify",le="+Inf"}' in text
    assert "# TYPE vntrace_epoch_latency_seconds gauge" in text
    gw.client.get("/no/such/path")
    assert 'route="(unmatched)",status="404"' in gw.client.get("/metrics").text
