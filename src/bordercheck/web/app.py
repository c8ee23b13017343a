"""``mount_console``: the console's pages and files, added to the app ``create_app`` builds."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from bordercheck.web import auth_pages, check, operations
from bordercheck.web.render import STATIC_PREFIX
from bordercheck.web.routing import error_page, wants_page

STATIC = Path(__file__).parent / "static"


def _error_page(request: Request, status_code: int, message: str) -> Response | None:
    return error_page(request, status_code, message) if wants_page(request) else None


def mount_console(app: FastAPI) -> None:
    app.include_router(auth_pages.router)
    app.include_router(check.router)
    app.include_router(operations.router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="console-static")
    app.state.error_page = _error_page
