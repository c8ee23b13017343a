"""``mount_console``: the console's pages and files, added to the app ``create_app`` builds."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from bordercheck.web import (
    analysis,
    auth_pages,
    check,
    directory,
    hits,
    manifests,
    messages,
    operations,
    records,
    training,
)
from bordercheck.web.admin import audit, kits, partners, people
from bordercheck.web.render import STATIC_PREFIX
from bordercheck.web.routing import error_page, wants_page

STATIC = Path(__file__).parent / "static"


def _error_page(request: Request, status_code: int, message: str) -> Response | None:
    return error_page(request, status_code, message) if wants_page(request) else None


def mount_console(app: FastAPI) -> None:
    app.include_router(auth_pages.router)
    app.include_router(check.router)
    app.include_router(records.router)
    for router in hits.routers:
        app.include_router(router)
    app.include_router(messages.router)
    app.include_router(directory.router)
    app.include_router(manifests.router)
    app.include_router(people.router)
    app.include_router(partners.router)
    app.include_router(kits.router)
    app.include_router(audit.router)
    app.include_router(analysis.router)
    app.include_router(operations.router)
    app.include_router(training.router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="console-static")
    app.state.error_page = _error_page
