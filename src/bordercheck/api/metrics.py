"""Prometheus metrics: requests and their latency per route, and the state of screening.

Each worker process keeps its own counters; scrape every worker (or run one per node).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "bordercheck_http_requests_total",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bordercheck_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.screenings = Counter(
            "bordercheck_screenings_total",
            "Documents screened, by result.",
            ["result"],
            registry=self.registry,
        )
        self._gauges: list[tuple[Gauge, Callable[[], float]]] = []

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge read when scraped (index size, feed lag…)."""
        gauge = Gauge(name, documentation, registry=self.registry)
        self._gauges.append((gauge, read))

    def render(self) -> bytes:
        for gauge, read in self._gauges:
            gauge.set(read())
        return generate_latest(self.registry)

    content_type = CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, prefix: str = "") -> None:
        self.app = app
        self.metrics = metrics
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # Label by route template, so that the number of series stays bounded whatever
            # paths clients send. Included routers keep their templates without the prefix
            # they are mounted under.
            template = getattr(scope.get("route"), "path", None)
            if template is None:
                name = "unmatched"
            elif scope["path"].startswith(self.prefix) and not template.startswith(self.prefix):
                name = self.prefix + template
            else:
                name = template
            method = scope["method"]
            self.metrics.requests.labels(name, method, str(status)).inc()
            self.metrics.latency.labels(name, method).observe(time.perf_counter() - started)
