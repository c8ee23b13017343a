"""``create_app()``: the one way the API is built, by ``serve``, ``demo`` and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import text

from bordercheck import __version__
from bordercheck.api.errors import install_error_handlers
from bordercheck.api.limits import BodySizeLimit, RateLimiter
from bordercheck.auth import api as auth_api
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.db import Database
from bordercheck.logs import configure_logging
from bordercheck.registry import api as registry_api
from bordercheck.settings import Settings, load_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The API for ``settings`` (default: the environment's), on ``database`` if given."""
    settings = settings or load_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.database = database or Database.from_settings(settings)
        try:
            yield
        finally:
            if owned:
                app.state.database.dispose()

    app = FastAPI(
        title="bordercheck",
        version=__version__,
        summary="Stolen and lost travel documents: record them, screen against them.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tokens = TokenAuthority(settings, RevocationList(settings.revocation_refresh_seconds))
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(auth_api.router, prefix=API_PREFIX)
    app.include_router(auth_api.admin, prefix=API_PREFIX)
    app.include_router(registry_api.router, prefix=API_PREFIX)

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
        return JSONResponse({"status": "ready"})

    return app
