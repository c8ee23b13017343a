"""Who is looking at a page: the session behind the cookie, checked on every request.

Pages declare what they need with the ``ViewerDep`` alias (a signed-in, verified person) and
call ``allow`` with the same role lists the API's routers use, so the console and the API
keep one set of rules. Every form and htmx request that changes anything carries the
session's CSRF token, checked here.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from bordercheck.api.access import record_caller
from bordercheck.auth.models import Role
from bordercheck.auth.policy import ensure_open_to
from bordercheck.db import Database
from bordercheck.errors import Forbidden
from bordercheck.settings import Settings
from bordercheck.web import i18n, sessions
from bordercheck.web.sessions import Viewer

SESSION_COOKIE = "bordercheck_session"
LANGUAGE_COOKIE = "bordercheck_language"
SIGN_IN_COOKIE = "bordercheck_sign_in"


def cookie_name(settings: Settings, name: str) -> str:
    """A sandbox's own name for a cookie: browsers share cookies between ports of one host, so
    a sandbox beside the live console (or beside another sandbox) must neither overwrite nor
    be sent another's session. A sandbox's name is of letters, digits and hyphens: a cookie's
    name may hold them."""
    if settings.training_sandbox is None:
        return name
    return f"{name}_training_{settings.training_sandbox}"


CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
POLL_HEADER = "X-Console-Poll"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Redirect(Exception):
    """Send the browser elsewhere first (to sign in, to give the second factor…)."""

    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


class CsrfRefused(Forbidden):
    code = "csrf"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def second_factor_required(settings: Settings) -> bool:
    return settings.env == "production" or settings.console_require_second_factor


def language_of(request: Request, viewer: Viewer | None = None) -> i18n.Language:
    chosen = viewer.language if viewer is not None else None
    return i18n.choose(
        chosen,
        request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language", ""),
    )


def _lookup(database: Database, token: str, idle: timedelta) -> Viewer | None:
    with database.session() as session:
        return sessions.find(session, token, idle=idle)


def _touch(database: Database, session_id: int) -> None:
    with database.session(write=True) as session:
        sessions.touch(session, session_id)


async def session_viewer(request: Request) -> Viewer | None:
    """The session behind the cookie, whatever its stage, or None."""
    settings = settings_of(request)
    token = request.cookies.get(cookie_name(settings, SESSION_COOKIE), "")
    if not token:
        return None
    idle = timedelta(minutes=settings.console_idle_minutes)
    return await run_in_threadpool(_lookup, database_of(request), token, idle)


async def check_csrf(request: Request, expected: str) -> None:
    """A change carries the token of its page: a form field, or the header htmx sends."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # kept by the request: the page reads it again for free
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused(
            "this form has expired or did not come from this site; reload the page and try again"
        )


def _signed_in(
    *, pending: bool = False, enrolling: bool = False, changing_password: bool = False
) -> Callable[[Request], Awaitable[Viewer]]:
    async def viewer(request: Request) -> Viewer:
        found = await session_viewer(request)
        if found is None:
            target = request.url.path
            raise Redirect("/?next=" + quote(target, safe="/") if target != "/" else "/")
        if not found.verified and not pending:
            raise Redirect("/sign-in/second-factor")
        if found.verified:
            settings = settings_of(request)
            if second_factor_required(settings) and not found.second_factor and not enrolling:
                raise Redirect("/account/second-factor")
            if found.must_change_password and not changing_password:
                raise Redirect("/account/password")
        ensure_open_to(found.role, request.scope.get("endpoint"))
        if request.method not in SAFE_METHODS:
            await check_csrf(request, found.csrf_token)
        # A page polling for changes is not the person at work: it does not hold the session
        # open past its idle limit (console.js marks such requests).
        if sessions.needs_touch(found) and not request.headers.get(POLL_HEADER):
            await run_in_threadpool(_touch, database_of(request), found.session_id)
        request.state.viewer = found
        record_caller(request.state, found.name)
        return found

    return viewer


ViewerDep = Annotated[Viewer, Depends(_signed_in())]
# Between the password and the second factor: only the second factor's page takes it.
PendingViewerDep = Annotated[Viewer, Depends(_signed_in(pending=True))]
# Signed in without the second factor that production requires: only its enrolment page.
EnrollingViewerDep = Annotated[Viewer, Depends(_signed_in(enrolling=True))]
# Signed in with a password an administrator reset: only the page that changes it.
ChangingPasswordViewerDep = Annotated[
    Viewer, Depends(_signed_in(enrolling=True, changing_password=True))
]


def allow(viewer: Viewer, *roles: Role) -> None:
    """403 unless the viewer has one of ``roles`` (the roles the matching API route allows)."""
    if viewer.role not in roles:
        raise Forbidden(
            f"{viewer.name} ({viewer.role.value}) may not open this page",
            required=[role.value for role in roles],
        )
