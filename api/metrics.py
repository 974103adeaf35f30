"""Prometheus metrics in the text exposition format (0.0.4), written by hand.

Why no prometheus-client: the node needs a dozen series, the format is a few lines of
text, and one less dependency is one less thing to pin. Counters live in this process
(a restart resets them, as Prometheus expects); gauges are read from the node when
scraped. HTTP series are labelled by route template, never by raw path, so a scan of
random URLs cannot blow up the number of series.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vntrace.node.service import TraceNode

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class Metrics:
    """Thread-safe counters updated by the routes and the HTTP middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records_received = 0
        self.verifications: Counter[str] = Counter()
        self.http_requests: Counter[tuple[str, str, str]] = Counter()
        self._duration_buckets: Counter[tuple[str, float]] = Counter()
        self._duration_sum: Counter[str] = Counter()
        self._duration_count: Counter[str] = Counter()

    def add_records(self, count: int) -> None:
        with self._lock:
            self.records_received += count

    def add_verdicts(self, statuses: list[str]) -> None:
        with self._lock:
            self.verifications.update(statuses)

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.http_requests[(method, route, str(status))] += 1
            self._duration_sum[route] += seconds
            self._duration_count[route] += 1
            for bound in _BUCKETS:
                if seconds <= bound:
                    self._duration_buckets[(route, bound)] += 1

    def render(self, node: TraceNode) -> str:
        """The exposition text, reading the node's gauges now."""
        status = node.loop.status
        lines: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {_num(value)}" for labels, value in samples)

        pending = node.store.pending_count()
        with self._lock:
            metric(
                "vntrace_records_received_total",
                "counter",
                "Records acknowledged through this gateway (duplicates not counted).",
                [("", self.records_received)],
            )
            metric(
                "vntrace_records_anchored_total",
                "counter",
                "Records anchored by this process's anchoring loop.",
                [("", status.records_anchored)],
            )
            metric(
                "vntrace_records_pending", "gauge", "Records waiting for an epoch.", [("", pending)]
            )
            metric(
                "vntrace_epochs_anchored_total",
                "counter",
                "Epochs anchored by this process's anchoring loop.",
                [("", status.epochs_anchored)],
            )
            metric(
                "vntrace_epoch_latency_seconds",
                "gauge",
                "Time the last anchored epoch took from sealing to receipt.",
                [("", status.last_epoch_latency_s or 0.0)],
            )
            metric(
                "vntrace_anchoring_consecutive_failures",
                "gauge",
                "Anchoring steps failed in a row (0 when healthy).",
                [("", status.consecutive_failures)],
            )
            metric(
                "vntrace_anchoring_halted",
                "gauge",
                "1 when anchoring stopped for good and needs an operator.",
                [("", 1 if status.halted else 0)],
            )
            metric(
                "vntrace_anchoring_last_success_timestamp_seconds",
                "gauge",
                "Unix time of the anchoring loop's last successful step (0: never).",
                [("", status.last_success_at or 0.0)],
            )
            verdicts = ("verified", "pending", "recalled", "failed")
            metric(
                "vntrace_verifications_total",
                "counter",
                "Verification verdicts given, by verdict.",
                [(_labels(verdict=v), self.verifications[v]) for v in verdicts],
            )
            metric(
                "vntrace_http_requests_total",
                "counter",
                "HTTP requests by method, route template and status.",
                [
                    (_labels(method=m, route=r, status=s), n)
                    for (m, r, s), n in sorted(self.http_requests.items())
                ],
            )
            lines.append(
                "# HELP vntrace_http_request_duration_seconds Time to answer, by route template."
            )
            lines.append("# TYPE vntrace_http_request_duration_seconds histogram")
            for route in sorted(self._duration_count):
                for bound in _BUCKETS:
                    count = self._duration_buckets[(route, bound)]
                    labels = _labels(route=route, le=_num(bound))
                    lines.append(f"vntrace_http_request_duration_seconds_bucket{labels} {count}")
                total = self._duration_count[route]
                inf = _labels(route=route, le="+Inf")
                lines.append(f"vntrace_http_request_duration_seconds_bucket{inf} {total}")
                lines.append(
                    f"vntrace_http_request_duration_seconds_sum{_labels(route=route)} "
                    f"{_num(self._duration_sum[route])}"
                )
                lines.append(
                    f"vntrace_http_request_duration_seconds_count{_labels(route=route)} {total}"
                )
        return "\n".join(lines) + "\n"


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

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe_http(
                scope.get("method", ""), _route_of(scope), status, time.perf_counter() - began
            )


def _route_of(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"
