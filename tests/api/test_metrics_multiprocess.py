"""``/metrics`` across worker processes: prometheus-client's multiprocess mode.

Every process here is a real OS process started with ``PROMETHEUS_MULTIPROC_DIR`` set
by :func:`prepare_multiprocess_dir` (as ``vntrace serve --workers`` does): two "workers"
serve real gateways over small nodes, a third answers ``/metrics``. The same file is
the workers' program (``python -m tests.api.test_metrics_multiprocess ROLE ...``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Receive, Scope, Send

from vntrace.api import metrics
from vntrace.api.metrics import Metrics, MetricsMiddleware

from .conftest import Gateway, open_gateway
from .helpers import new_lot

ROOT = Path(__file__).resolve().parents[2]
ROLE = (sys.executable, "-m", "tests.api.test_metrics_multiprocess")
HEALTHZ = 'vntrace_http_requests_total{method="GET",route="/healthz",status="200"}'
IN_PROGRESS = "vntrace_http_requests_in_progress"


# --- the child processes ------------------------------------------------------------


def _traffic(data_dir: Path, healthz: int) -> None:
    """A worker: two records through POST /v1/lots, ``healthz`` GET /healthz, one 404."""
    for gw in open_gateway(data_dir):
        gw.lot_with_events(gw.producer(), new_lot(), 2)
        for _ in range(healthz):
            assert gw.client.get("/healthz").status_code == 200
        assert gw.client.get("/no/such/path").status_code == 404
    print("done", flush=True)


def _hang() -> None:
    """A worker stuck in a request (through the real middleware) until it is killed."""

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        print("ready", flush=True)
        await asyncio.Event().wait()

    app = MetricsMiddleware(stuck, Metrics())
    scope: Scope = {"type": "http", "method": "GET", "path": "/stuck", "headers": []}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(_: object) -> None:
        return None

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]


def _scraper(data_dir: Path) -> None:
    """The worker answering scrapes: one ``/metrics`` per ``scrape`` line on stdin."""
    for gw in open_gateway(data_dir):
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() == "scrape":
                print("SCRAPE " + json.dumps(gw.client.get("/metrics").text), flush=True)


def _main(argv: list[str]) -> None:
    assert metrics.multiprocess_mode(), "PROMETHEUS_MULTIPROC_DIR was not inherited"
    role, *args = argv
    if role == "traffic":
        _traffic(Path(args[0]), int(args[1]))
    elif role == "hang":
        _hang()
    elif role == "scraper":
        _scraper(Path(args[0]))


# --- the test side ------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    return subprocess.Popen(
        [*ROLE, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _expect(stream: IO[str] | None, prefix: str, proc: subprocess.Popen[str]) -> str:
    """The first line of ``proc``'s output starting with ``prefix`` (others are noise)."""
    assert stream is not None
    for line in stream:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise AssertionError(f"{proc.args[3:]} exited ({proc.wait()}) without saying {prefix!r}")


class Scraper:
    """The third process, kept running: ``scrape()`` is one GET /metrics in it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        _expect(proc.stdout, "ready", proc)

    def scrape(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write("scrape\n")
        self.proc.stdin.flush()
        return json.loads(_expect(self.proc.stdout, "SCRAPE ", self.proc))


def _value(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture(scope="module")
def mp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The supervisor's side: an emptied folder, exported to the processes started here."""
    folder = tmp_path_factory.mktemp("metrics")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(metrics.MULTIPROC_ENV, raising=False)  # restored (unset) afterwards
        metrics.prepare_multiprocess_dir(folder)
        yield folder


@pytest.fixture(scope="module")
def scraper(mp_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraper]:
    proc = _spawn("scraper", str(tmp_path_factory.mktemp("scraper")))
    try:
        yield Scraper(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        metrics.worker_exited(proc.pid)


def test_counts_of_two_workers_are_summed(
    scraper: Scraper, tmp_path_factory: pytest.TempPathFactory
) -> None:
    first = scraper.scrape()
    assert _value(first, "vntrace_records_received_total") == 0
    assert _value(first, HEALTHZ) is None
    workers = [_spawn("traffic", str(tmp_path_factory.mktemp("worker")), str(n)) for n in (3, 5)]
    for proc in workers:
        assert _expect(proc.stdout, "done", proc) == ""
        assert proc.wait(timeout=60) == 0
        metrics.worker_exited(proc.pid)  # what the supervisor does; counts stay
    text = scraper.scrape()
    assert _value(text, "vntrace_records_received_total") == 4
    assert _value(text, HEALTHZ) == 8
    unmatched = 'vntrace_http_requests_total{method="GET",route="(unmatched)",status="404"}'
    assert _value(text, unmatched) == 2
    lots = 'vntrace_http_request_duration_seconds_count{route="/v1/lots"}'
    assert _value(text, lots) == 2
    # read from the scraping worker's node: its own store, reported once, never summed
    assert _value(text, "vntrace_records_pending") == 0


def test_a_dead_workers_gauges_go_once_it_is_marked_dead(scraper: Scraper) -> None:
    own = _value(scraper.scrape(), IN_PROGRESS)  # the scrape itself is in progress
    assert own == 1
    stuck = _spawn("hang")
    try:
        assert _expect(stuck.stdout, "ready", stuck) == ""
        assert _value(scraper.scrape(), IN_PROGRESS) == own + 1
        stuck.send_signal(signal.SIGKILL)
        stuck.wait(timeout=30)
        # killed mid-request: its gauge file still says 1 until the supervisor says so
        assert _value(scraper.scrape(), IN_PROGRESS) == own + 1
    finally:
        stuck.kill()
        stuck.wait()
    metrics.worker_exited(stuck.pid)
    assert _value(scraper.scrape(), IN_PROGRESS) == own


def test_exposition_parses_with_the_expected_series(scraper: Scraper) -> None:
    families = {f.name: f for f in text_string_to_metric_families(scraper.scrape())}
    kinds = {
        "vntrace_records_received": "counter",
        "vntrace_records_anchored": "counter",
        "vntrace_records_pending": "gauge",
        "vntrace_epochs_anchored": "counter",
        "vntrace_epoch_latency_seconds": "gauge",
        "vntrace_anchoring_consecutive_failures": "gauge",
        "vntrace_anchoring_halted": "gauge",
        "vntrace_anchoring_leader": "gauge",
        "vntrace_anchoring_last_success_timestamp_seconds": "gauge",
        "vntrace_verifications": "counter",
        "vntrace_http_requests": "counter",
        "vntrace_http_request_duration_seconds": "histogram",
        "vntrace_http_requests_in_progress": "gauge",
    }
    assert {name: f.type for name, f in families.items()} == kinds
    for name in ("vntrace_records_pending", "vntrace_anchoring_halted"):
        assert len(families[name].samples) == 1  # once, not once per worker
    verdicts = {s.labels["verdict"] for s in families["vntrace_verifications"].samples}
    assert verdicts == {"verified", "pending", "recalled", "failed"}
    for family in families.values():
        assert all("pid" not in s.labels for s in family.samples), family.name
    buckets = [
        s.labels["le"]
        for s in families["vntrace_http_request_duration_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["route"] == "/v1/info"
    ]
    assert buckets == [
        *("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"),
        "+Inf",
    ]


def test_prepare_empties_the_folder_and_exports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_12345.db").write_bytes(b"left by the last run")
    (folder / "README").write_text("not ours")
    metrics.prepare_multiprocess_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["README"]
    assert os.environ[metrics.MULTIPROC_ENV] == str(folder.resolve())
    assert not metrics.multiprocess_mode()  # this process imported prometheus_client first


def test_single_process_apps_count_apart(gw: Gateway) -> None:
    one, other = Metrics(), Metrics()  # no global registry: no duplicated timeseries
    one.add_records(3)
    one.add_verdicts(["verified", "not-a-verdict"])
    assert _value(one.render(gw.node), "vntrace_records_received_total") == 3
    assert _value(other.render(gw.node), "vntrace_records_received_total") == 0
    assert 'verdict="not-a-verdict"' not in one.render(gw.node)
    assert _value(one.render(gw.node), 'vntrace_verifications_total{verdict="verified"}') == 1


if __name__ == "__main__":
    _main(sys.argv[1:])
