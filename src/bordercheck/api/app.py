"""``create_app()``: the one way the API is built, by ``serve``, ``demo`` and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from bordercheck import __version__
from bordercheck.api.errors import install_error_handlers
from bordercheck.api.limits import BodySizeLimit, RateLimiter
from bordercheck.api.metrics import Metrics, MetricsMiddleware, ensure_may_scrape
from bordercheck.audit import api as audit_api
from bordercheck.auth import api as auth_api
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.db import Database
from bordercheck.directory import api as directory_api
from bordercheck.edge import api as edge_api
from bordercheck.hits import api as hits_api
from bordercheck.hits.delivery import Courier
from bordercheck.hits.service import Deadlines
from bordercheck.hits.worker import Periodic, run_sweep
from bordercheck.logs import configure_logging
from bordercheck.manifests import api as manifests_api
from bordercheck.manifests.intake import ParsingSlots
from bordercheck.messaging import api as messaging_api
from bordercheck.registry import api as registry_api
from bordercheck.screening import api as screening_api
from bordercheck.screening.live import LiveIndex, screening_key
from bordercheck.screening.querylog import QueryLogWriter
from bordercheck.settings import Settings, load_settings

API_PREFIX = "/api/v1"
# One address may sign in this many times as often as one account: officers share gateways.
SIGN_INS_PER_ADDRESS = 10


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The API for ``settings`` (default: the environment's), on ``database`` if given."""
    settings = settings or load_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        db = app.state.database = database or Database.from_settings(settings)
        live = app.state.live_index = LiveIndex(
            db,
            key=screening_key(settings.secret_key),
            snapshot=settings.index_snapshot,
            poll_interval=settings.feed_poll_seconds,
        )
        query_log = app.state.query_log = QueryLogWriter(
            db,
            flush_interval=settings.query_log_flush_seconds,
            deadlines=Deadlines.from_settings(settings),
        )
        # Made here, in the loop that serves: an asyncio semaphore belongs to one loop.
        app.state.manifest_parsing = ParsingSlots(settings.manifest_parse_concurrency)
        query_log.start()
        live.start()
        courier = Courier(db, settings)
        hit_workers = (
            Periodic("hit-sweep", settings.hit_sweep_seconds, lambda: run_sweep(db, settings)),
            Periodic("webhook-delivery", settings.webhook_delivery_seconds, courier.deliver_due),
        )
        for worker in hit_workers:
            worker.start()
        try:
            yield
        finally:
            query_log.stop()  # first: writes every entry still pending
            for worker in hit_workers:
                worker.stop()
            courier.close()
            live.stop()
            if owned:
                db.dispose()

    app = FastAPI(
        title="bordercheck",
        version=__version__,
        summary="Stolen and lost travel documents: record them, screen against them.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    metrics = app.state.metrics = Metrics()
    metrics.gauge(
        "bordercheck_index_records",
        "Active records in the screening index.",
        lambda: _index_size(app),
    )
    metrics.gauge(
        "bordercheck_feed_lag_entries",
        "Feed entries not yet applied to the index.",
        lambda: app.state.live_index.feed_lag if hasattr(app.state, "live_index") else 0,
    )
    metrics.gauge(
        "bordercheck_query_log_pending",
        "Query log entries waiting to be written.",
        lambda: app.state.query_log.pending if hasattr(app.state, "query_log") else 0,
    )
    metrics.gauge(
        "bordercheck_query_log_dropped",
        "Query log entries dropped (memory full).",
        lambda: app.state.query_log.dropped if hasattr(app.state, "query_log") else 0,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, prefix=API_PREFIX)
    app.state.tokens = TokenAuthority(settings, RevocationList(settings.revocation_refresh_seconds))
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.sign_in_limiter = RateLimiter(settings.sign_in_per_second, settings.sign_in_burst)
    app.state.sign_in_address_limiter = RateLimiter(
        settings.sign_in_per_second * SIGN_INS_PER_ADDRESS,
        settings.sign_in_burst * SIGN_INS_PER_ADDRESS,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    # Routes are matched in the order they were added: the screening paths, which carry
    # nearly all the traffic, first.
    app.include_router(screening_api.router, prefix=API_PREFIX)
    app.include_router(auth_api.router, prefix=API_PREFIX)
    app.include_router(auth_api.admin, prefix=API_PREFIX)
    app.include_router(registry_api.router, prefix=API_PREFIX)
    app.include_router(audit_api.router, prefix=API_PREFIX)
    app.include_router(directory_api.router, prefix=API_PREFIX)
    app.include_router(edge_api.router, prefix=API_PREFIX)
    app.include_router(edge_api.admin, prefix=API_PREFIX)
    app.include_router(screening_api.records_router, prefix=API_PREFIX)
    app.include_router(manifests_api.router, prefix=API_PREFIX)
    app.include_router(messaging_api.router, prefix=API_PREFIX)
    app.include_router(hits_api.router, prefix=API_PREFIX)
    app.include_router(hits_api.notifications_router, prefix=API_PREFIX)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        """Prometheus metrics of this worker process, for the scraper and administrators."""
        tokens: TokenAuthority = app.state.tokens
        if tokens.revocations.needs_refresh():
            await run_in_threadpool(tokens.revocations.refresh, app.state.database)
        ensure_may_scrape(request, settings)
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        """Until the console is served, the address people open leads to the API's pages."""
        return RedirectResponse("/docs")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"], response_model=None)
    def readyz() -> JSONResponse:
        """Ready to serve: the database answers and its schema is current."""
        from bordercheck.migrations import head_revision

        db: Database = app.state.database
        try:
            with db.engine.connect() as connection:
                current = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
        except Exception as exc:  # any failure to reach the database means not ready
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        if current != head_revision():
            return JSONResponse({"status": "unavailable", "reason": "schema not upgraded"}, 503)
        live: LiveIndex = app.state.live_index
        if not live.ready:
            reason = live.error or "screening index loading"
            return JSONResponse({"status": "unavailable", "reason": reason}, 503)
        return JSONResponse({"status": "ready"})

    return app


def _index_size(app: FastAPI) -> float:
    live: LiveIndex | None = getattr(app.state, "live_index", None)
    return float(live.index.size) if live is not None and live.index is not None else 0.0
