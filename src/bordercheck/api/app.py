"""``create_app()``: the one way the API is built, by ``serve``, ``demo`` and the tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from bordercheck import __version__
from bordercheck.analysis import api as analysis_api
from bordercheck.api.docs_pages import mount_api_docs
from bordercheck.api.errors import install_error_handlers
from bordercheck.api.limits import BodySizeLimit, RateLimiter, SharedRateLimiter
from bordercheck.api.metrics import Metrics, MetricsMiddleware, ensure_may_scrape
from bordercheck.api.training import TrainingMark
from bordercheck.audit import api as audit_api
from bordercheck.audit.checkpointing import CheckpointWriter
from bordercheck.auth import api as auth_api
from bordercheck.auth.guessing import SignInGuard
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.db import Database
from bordercheck.db_checks import parse_database_url, place
from bordercheck.directory import api as directory_api
from bordercheck.edge import api as edge_api
from bordercheck.errors import ConfigurationError
from bordercheck.hits import api as hits_api
from bordercheck.hits import threads as hits_threads
from bordercheck.hits.delivery import Courier
from bordercheck.hits.service import CaseOpener
from bordercheck.hits.worker import Periodic, run_sweep
from bordercheck.installation import check_database
from bordercheck.logs import configure_logging
from bordercheck.manifests import api as manifests_api
from bordercheck.manifests.intake import ParsingSlots
from bordercheck.messaging import api as messaging_api
from bordercheck.operations import api as operations_api
from bordercheck.registry import api as registry_api
from bordercheck.screening import api as screening_api
from bordercheck.screening.fast_path import FastScreen
from bordercheck.screening.journal import QueryJournal, default_directory
from bordercheck.screening.live import LiveIndex, screening_key
from bordercheck.screening.querylog import QueryLogWriter
from bordercheck.settings import Settings, load_settings
from bordercheck.training import api as training_api
from bordercheck.web.app import mount_console

API_PREFIX = "/api/v1"
# One address may send this many times the sign-in rate of one person: officers share gateways.
SIGN_INS_PER_ADDRESS = 10
GIL_SWITCH_SECONDS = 0.0005


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    fast_screen: bool = True,
) -> FastAPI:
    """The API for ``settings`` (default: the environment's), on ``database`` if given.

    ``fast_screen=False`` leaves ``POST /api/v1/screen`` to its FastAPI route, as the tests
    do that compare the two ways of answering it (``screening.fast_path``)."""
    settings = settings or load_settings()
    if database is not None and database.secret_key != settings.secret_key:
        # Its sessions would chain the audit trail under another key than the app signs with.
        raise ConfigurationError("the database given to create_app has another secret key")
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        db = app.state.database = database or Database.from_settings(settings)
        try:
            # A sandbox's settings never serve another database, nor live ones a sandbox's.
            with db.engine.connect() as connection:
                where = place(parse_database_url(db.url))
                app.state.installation = check_database(
                    connection, settings.training_sandbox, where
                )
        except ConfigurationError:
            if owned:
                db.dispose()
            raise
        if not db.is_sqlite:
            # Every process and node on one PostgreSQL shares each caller's budget; SQLite
            # is one machine, and keeps its per-process buckets (docs/deployment.md).
            app.state.rate_limiter = SharedRateLimiter(
                settings.rate_limit_per_second,
                settings.rate_limit_burst,
                db,
                slice_size=settings.rate_limit_slice,
            )
        live = app.state.live_index = LiveIndex(
            db,
            key=screening_key(settings.secret_key),
            snapshot=settings.index_snapshot,
            poll_interval=settings.feed_poll_seconds,
        )
        journal = QueryJournal(
            settings.query_journal_dir or default_directory(db.url),
            sync_seconds=settings.query_journal_sync_seconds,
        )
        journal.start()
        query_log = app.state.query_log = QueryLogWriter(
            db,
            retry_seconds=settings.query_log_retry_seconds,
            on_hits=app.state.on_hits,
            journal=journal,
            replay_seconds=settings.query_journal_replay_seconds,
        )
        # Every answer waits for the query log thread's commit, and each time that thread's
        # driver call gives up the interpreter it waits for it back up to the switch interval
        # (5 ms by default) while the event loop is busy: a dozen such waits per commit, on
        # every request's latency. A shorter interval bounds each wait (docs/benchmarks.md).
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        # Made here, in the loop that serves: an asyncio semaphore belongs to one loop.
        app.state.manifest_parsing = ParsingSlots(settings.manifest_parse_concurrency)
        query_log.start()
        live.start()
        courier = Courier(db, settings)
        workers: tuple[Periodic, ...] = (
            Periodic("hit-sweep", settings.hit_sweep_seconds, lambda: run_sweep(db, settings)),
            Periodic("webhook-delivery", settings.webhook_delivery_seconds, courier.deliver_due),
        )
        if settings.audit_checkpoint_dir is not None:
            checkpoints = CheckpointWriter(db, settings)
            minutes = settings.audit_checkpoint_minutes
            workers += (Periodic("audit-checkpoint", minutes * 60, checkpoints.write_due),)
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            query_log.stop()  # first: commits every entry still waiting
            journal.close()  # deletes what is in the database, keeps the rest for a replay
            for worker in workers:
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
        docs_url=None,  # served from bordercheck's own files (api.docs_pages)
        redoc_url=None,
    )
    app.state.settings = settings
    # What screening finds opens hit cases, in the transaction that logs the queries (the
    # query log, passenger lists, kits' uploads): screening itself knows nothing of cases.
    app.state.on_hits = (CaseOpener.from_settings(settings),)
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
        "Query log entries not yet in the database (journalled, or waited for by their answers).",
        lambda: _query_log(app, lambda log: log.pending),
    )
    metrics.gauge(
        "bordercheck_query_log_failing",
        "1 while the query log cannot be written (screening answers 503), else 0.",
        lambda: _query_log(app, lambda log: log.unavailable_reason() is not None),
    )
    metrics.gauge(
        "bordercheck_query_log_refused_entries",
        "Queries answered 503 since start because their log entry could not be written.",
        lambda: _query_log(app, lambda log: log.refused + log.rejected),
    )
    if fast_screen:
        # Innermost: inside the metrics and access log, the body limit and the training
        # mark, in front of the routing that it spares single screens.
        app.add_middleware(FastScreen, fastapi=app)
    app.add_middleware(MetricsMiddleware, metrics=metrics, prefix=API_PREFIX)
    app.state.tokens = TokenAuthority(settings, RevocationList(settings.revocation_refresh_seconds))
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    # Guessing is slowed down in the database (every process sees the same failures); the
    # limiter per address, in memory, only bounds the argon2 work one address asks for.
    app.state.sign_in_guard = SignInGuard()
    app.state.sign_in_address_limiter = RateLimiter(
        settings.sign_in_per_second * SIGN_INS_PER_ADDRESS,
        settings.sign_in_burst * SIGN_INS_PER_ADDRESS,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.training_sandbox is not None:
        app.add_middleware(TrainingMark, sandbox=settings.training_sandbox)
    install_error_handlers(app)
    mount_api_docs(app)
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
    app.include_router(operations_api.router, prefix=API_PREFIX)
    app.include_router(messaging_api.router, prefix=API_PREFIX)
    app.include_router(hits_threads.router, prefix=API_PREFIX)
    app.include_router(hits_api.router, prefix=API_PREFIX)
    app.include_router(hits_api.notifications_router, prefix=API_PREFIX)
    app.include_router(analysis_api.router, prefix=API_PREFIX)
    app.include_router(training_api.router, prefix=API_PREFIX)
    mount_console(app)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        """Prometheus metrics of this worker process, for the scraper and administrators."""
        tokens: TokenAuthority = app.state.tokens
        if tokens.revocations.needs_refresh():
            await run_in_threadpool(tokens.revocations.refresh, app.state.database)
        ensure_may_scrape(request, settings)
        return Response(metrics.render(), media_type=metrics.content_type)

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
        query_log: QueryLogWriter = app.state.query_log
        if (failing := query_log.unavailable_reason()) is not None:
            reason = f"query log cannot be written: {failing}"
            return JSONResponse({"status": "unavailable", "reason": reason}, 503)
        live: LiveIndex = app.state.live_index
        if not live.ready:
            reason = live.error or "screening index loading"
            return JSONResponse({"status": "unavailable", "reason": reason}, 503)
        return JSONResponse({"status": "ready"})

    return app


def _index_size(app: FastAPI) -> float:
    live: LiveIndex | None = getattr(app.state, "live_index", None)
    return float(live.index.size) if live is not None and live.index is not None else 0.0


def _query_log(app: FastAPI, read: Callable[[QueryLogWriter], float]) -> float:
    log: QueryLogWriter | None = getattr(app.state, "query_log", None)
    return float(read(log)) if log is not None else 0.0
