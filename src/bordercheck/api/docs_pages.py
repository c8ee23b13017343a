"""The API's own pages (Swagger UI and ReDoc) from files served here, never from a CDN: border
posts and bureaus often run on closed networks, where a page that loads its scripts from the
internet is blank."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/api"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# What the pages may load: their own files only. The inline start-up script of each page and
# Swagger UI's inline styles are allowed; ReDoc runs its search in a worker made from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def _local(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _local(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="bordercheck API",
            swagger_js_url=f"{STATIC_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )
    )


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    return _local(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _local(
        get_redoc_html(
            openapi_url="/openapi.json",
            title="bordercheck API",
            redoc_js_url=f"{STATIC_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
    )


def mount_api_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, ReDoc at /redoc, and the files they load."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="api-static")
    app.include_router(router)
