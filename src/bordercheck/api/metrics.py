"""Prometheus metrics: requests and their latency per route, and the state of screening.

Each worker process keeps its own counters; scrape every worker (or run one per node).

Who may read them: a scraper with the deployment's metrics token, or an administrator.
Screenings are counted, never by result: whoever reads the metrics right after a screening
(their own, or one they watch at a border post) would otherwise learn whether it hit a
record, which only the querying officer and the record's owner are told.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bordercheck.api.access import log_request
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.errors import Forbidden, NotFound, Unauthorized
from bordercheck.settings import Settings

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
            "Documents screened (all results together).",
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


def route_template(scope: Scope, prefix: str) -> str | None:
    """The template of the route that answered (``/api/v1/records/{record_id}``), if one did."""
    template: str | None = getattr(scope.get("route"), "path", None)
    # Included routers keep their templates without the prefix they are mounted under.
    if (
        template is not None
        and scope["path"].startswith(prefix)
        and not template.startswith(prefix)
    ):
        return prefix + template
    return template


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not the raw path), and
    writes its access log line from the same measurement (``api.access``)."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, prefix: str = "", access_log: bool = True
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.prefix = prefix
        self.access_log = access_log
        # The series of each (route, method, status), looked up once: a label look-up takes
        # a lock and checks its labels, on every request otherwise.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

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
            # paths clients send.
            seconds = time.perf_counter() - started
            template = route_template(scope, self.prefix)
            name = template or "unmatched"
            method = scope["method"]
            series = self._series.get((name, method, status))
            if series is None:
                series = self._series[name, method, status] = (
                    self.metrics.requests.labels(name, method, str(status)),
                    self.metrics.latency.labels(name, method),
                )
            series[0].inc()
            series[1].observe(seconds)
            if self.access_log:
                log_request(scope, template, status, seconds)


def ensure_may_scrape(request: Request, settings: Settings) -> None:
    """Let through the metrics token (compared in constant time) or an administrator's token.

    With no metrics token configured, /metrics is off for everyone else: 404, as if absent.
    """
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    presented = presented.strip() if scheme.lower() == "bearer" else ""
    expected = settings.metrics_token
    if (
        presented
        and expected is not None
        and hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())
    ):
        return
    if presented:
        tokens: TokenAuthority = request.app.state.tokens
        try:
            principal = tokens.verify(presented).principal
        except Unauthorized:
            principal = None
        if principal is not None:
            if principal.role is Role.ADMIN:
                return
            raise Forbidden("the metrics are for administrators and the metrics scraper")
    if expected is None:
        raise NotFound("there is no /metrics here")
    raise Unauthorized("send the metrics token as 'Authorization: Bearer TOKEN'")
