"""Prometheus metrics (text exposition format 0.0.4) over prometheus-client.

Two kinds of series. **Counted** ones (records received, verdicts, HTTP requests and
their durations, requests in progress) are prometheus-client metrics updated by the
routes and :class:`MetricsMiddleware`. **Read** ones (pending records, the anchoring
loop's status) come from the node when scraped, by :class:`_NodeCollector`. HTTP series
are labelled by route template, never by raw path, so a scan of random URLs cannot blow
up the number of series.

Each app owns a :class:`~prometheus_client.CollectorRegistry` (tests build many apps in
one process; the global default registry would refuse the second one's series).

**Several worker processes** (``vntrace serve --workers N``): prometheus-client's
multiprocess mode. The supervisor calls :func:`prepare_multiprocess_dir` before it
starts any worker (the workers inherit ``PROMETHEUS_MULTIPROC_DIR``, which must be set
before prometheus_client is imported there), and :func:`worker_exited` for each worker
that ends. Counted series are then written by every worker to memory-mapped files in
that folder and summed over them at scrape time; read series are still reported once,
by the worker answering the scrape (they are the same database, so summing them over
workers would be wrong). Whether a process is in multiprocess mode is prometheus-client's
own decision, taken at import from that variable, so the two can never disagree.
Anchored records and epochs are counted in the store (the node's, whichever worker
anchored); the loop's gauges are the answering worker's, with ``vntrace_anchoring_leader``
saying whether it is the anchorer (see docs/api.md).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vntrace.node.service import TraceNode

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The variable prometheus-client reads at import to choose multiprocess mode."""
VERDICTS = ("verified", "pending", "recalled", "failed")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_mode() -> bool:
    """True when prometheus-client in this process writes to the multiprocess folder."""
    return values.ValueClass is not values.MutexValue


def prepare_multiprocess_dir(path: Path) -> None:
    """Make ``path`` the workers' metrics folder: create it, empty it, export its name.

    The supervisor calls this once, before it spawns any worker: the workers (spawned,
    not forked, so they import prometheus_client afresh) inherit the variable and so
    start in multiprocess mode. Files left by an earlier run are deleted, or their
    counts would be added to this run's. The supervisor itself stays in single-process
    mode (it imported prometheus_client already) and serves no metrics.
    """
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(path.resolve())


def worker_exited(pid: int, path: Path | None = None) -> None:
    """Forget the live gauges of worker ``pid`` (call when it has exited, for any reason).

    Its counters stay in the sums (what it counted did happen); its in-progress gauge
    goes, so a worker killed mid-request does not leave requests in progress forever.
    ``path`` defaults to the folder :func:`prepare_multiprocess_dir` exported.
    """
    multiprocess.mark_process_dead(pid, str(path) if path is not None else None)


class Metrics:
    """The app's counted series, in its own registry, and the scrape of everything."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._multiprocess = multiprocess_mode()
        self.records_received = Counter(
            "vntrace_records_received",
            "Records acknowledged through this gateway (duplicates not counted).",
            registry=self.registry,
        )
        self.verifications = Counter(
            "vntrace_verifications",
            "Verification verdicts given, by verdict.",
            ["verdict"],
            registry=self.registry,
        )
        for verdict in VERDICTS:  # every verdict is reported, 0 until first given
            self.verifications.labels(verdict)
        self.http_requests = Counter(
            "vntrace_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "vntrace_http_request_duration_seconds",
            "Time to answer, by route template.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.http_in_progress = Gauge(
            "vntrace_http_requests_in_progress",
            "HTTP requests being answered now (summed over live workers).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def add_records(self, count: int) -> None:
        self.records_received.inc(count)

    def add_verdicts(self, statuses: list[str]) -> None:
        for status in statuses:
            if status in VERDICTS:  # a verdict outside the schema is no new series
                self.verifications.labels(status).inc()

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_duration.labels(route).observe(seconds)

    def render(self, node: TraceNode) -> str:
        """The exposition text: counted series (all workers' in multiprocess mode), then
        the node's series read now."""
        scrape = CollectorRegistry()
        counted: Collector = (
            multiprocess.MultiProcessCollector(None) if self._multiprocess else self.registry
        )
        scrape.register(counted)
        scrape.register(_NodeCollector(node))
        return exposition(scrape.collect())


def exposition(families: Iterable[Metric]) -> str:
    """Text format 0.0.4 of ``families``, byte for byte what the node always served.

    Not ``prometheus_client.generate_latest``: that one sorts label names
    (``{le=...,route=...}``) and writes ``le="1.0"`` and ``2.0``, where the node's
    series have always read ``{route=...,le="1"}`` and ``2``; dashboards and scrapers
    matching those strings keep working. It also leaves out ``_created`` samples, which
    the node never had (and multiprocess mode cannot produce).
    """
    lines: list[str] = []
    for family in families:
        name = family.name + "_total" if family.type == "counter" else family.name
        kind = "untyped" if family.type == "unknown" else family.type
        lines.append(f"# HELP {name} {_escape_help(family.documentation)}")
        lines.append(f"# TYPE {name} {kind}")
        for sample in family.samples:
            if sample.name == family.name + "_created":
                continue
            labels = ",".join(
                f'{k}="{_escape(_num_label(v) if k == "le" else v)}"'
                for k, v in sample.labels.items()
            )
            braces = "{" + labels + "}" if labels else ""
            lines.append(f"{sample.name}{braces} {_num(sample.value)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _num(value: float) -> str:
    """Integral values without a fraction (``2``), others as Python spells them."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _num_label(value: str) -> str:
    """A bucket bound as the node always wrote it (``1``, ``0.25``, ``+Inf``)."""
    try:
        return _num(float(value))
    except ValueError:
        return value


class _NodeCollector:
    """Series read from the node at scrape time: reported once, never summed."""

    def __init__(self, node: TraceNode) -> None:
        self.node = node

    def collect(self) -> Iterable[Metric]:
        status = self.node.loop.status
        epochs_anchored, records_anchored = self.node.store.anchored_totals()
        yield _counter(
            "vntrace_records_anchored_total",
            "Records anchored by the node (from the store: the same whichever worker answers).",
            records_anchored,
        )
        yield _gauge(
            "vntrace_records_pending",
            "Records waiting for an epoch.",
            self.node.store.pending_count(),
        )
        yield _counter(
            "vntrace_epochs_anchored_total",
            "Epochs anchored by the node (from the store).",
            epochs_anchored,
        )
        yield _gauge(
            "vntrace_anchoring_leader",
            "1 when the answering process is the node's anchorer; the anchoring gauges "
            "below describe the answering process's loop.",
            1 if status.is_leader else 0,
        )
        yield _gauge(
            "vntrace_epoch_latency_seconds",
            "Time the last anchored epoch took from sealing to receipt.",
            status.last_epoch_latency_s or 0.0,
        )
        yield _gauge(
            "vntrace_anchoring_consecutive_failures",
            "Anchoring steps failed in a row (0 when healthy).",
            status.consecutive_failures,
        )
        yield _gauge(
            "vntrace_anchoring_halted",
            "1 when anchoring stopped for good and needs an operator.",
            1 if status.halted else 0,
        )
        yield _gauge(
            "vntrace_anchoring_last_success_timestamp_seconds",
            "Unix time of the anchoring loop's last successful step (0: never).",
            status.last_success_at or 0.0,
        )


def _counter(name: str, help_: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, help_, value=value)


def _gauge(name: str, help_: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_, value=value)


class MetricsMiddleware:
    """Counts every HTTP request by method, route template and final status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.http_in_progress.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.http_in_progress.dec()
            self.metrics.observe_http(
                scope.get("method", ""), _route_of(scope), status, time.perf_counter() - began
            )


def _route_of(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"


__all__ = [
    "CONTENT_TYPE",
    "Metrics",
    "MetricsMiddleware",
    "exposition",
    "multiprocess_mode",
    "prepare_multiprocess_dir",
    "worker_exited",
]
