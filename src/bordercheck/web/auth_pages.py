"""Signing in and out, the second factor, the language, and one's own account."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from bordercheck.audit.service import record_event
from bordercheck.auth import second_factor, service
from bordercheck.auth.api import user_principal
from bordercheck.auth.guessing import Attempt
from bordercheck.auth.policy import open_to_partners
from bordercheck.auth.revocation import subject_of
from bordercheck.auth.signin import (
    address,
    hold_off_guessing,
    limit_flood,
    record_sign_in,
    sign_in_guard,
)
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.errors import BordercheckError, TooManyRequests
from bordercheck.settings import Settings
from bordercheck.web import i18n, sessions
from bordercheck.web.access import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    ChangingPasswordViewerDep,
    EnrollingViewerDep,
    PendingViewerDep,
    ViewerDep,
    check_csrf,
    cookie_name,
    database_of,
    language_of,
    session_viewer,
    settings_of,
)
from bordercheck.web.i18n import N_
from bordercheck.web.navigation import pages_for
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router
from bordercheck.web.sessions import Viewer

router = console_router()
HOME = "/home"
# A browser keeps its language choice for a year.
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return HOME


def _cookie(response: Response, settings: Settings, name: str, value: str, **extra: Any) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=settings.env == "production",
        path="/",
        **extra,
    )


def _sign_in_page(
    request: Request,
    *,
    error: str | None = None,
    username: str = "",
    next_page: str = "",
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    settings = settings_of(request)
    response = render(
        request,
        "sign_in.html",
        {
            "viewer": None,
            "error": error,
            "username": username,
            "next_page": next_page,
            "sign_in_token": token,
            "second_factor_required": settings.env == "production"
            or settings.console_require_second_factor,
        },
        language=language_of(request),
        status_code=status_code,
    )
    _cookie(response, settings, cookie_name(settings, SIGN_IN_COOKIE), token, max_age=3600)
    return response


@router.get("/")
@open_to_partners
async def start(request: Request, next: str = "") -> Response:
    """The address people open: the sign-in form, or their home page once signed in."""
    viewer = await session_viewer(request)
    if viewer is not None and viewer.verified:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_page(request, next_page=next)


@router.post("/sign-in")
@open_to_partners
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    sign_in_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the password; then the second factor, or straight in where none is needed."""
    language = language_of(request)
    cookie = request.cookies.get(cookie_name(settings_of(request), SIGN_IN_COOKIE), "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sign_in_token.encode()):
        return _sign_in_page(
            request,
            error=translate(language, N_("The sign-in form expired. Please sign in again.")),
            username=username,
            next_page=next,
            status_code=403,
        )
    username = username.strip().lower()
    if not username or not password:
        return _sign_in_page(
            request,
            error=translate(language, N_("Enter your username and your password.")),
            username=username,
            next_page=next,
            status_code=422,
        )
    database, settings = database_of(request), settings_of(request)
    try:
        limit_flood(request)
        with database.session() as session:
            hold_off_guessing(request, session, username)
            user = service.authenticate(session, username, password)
            principal = user_principal(user) if user is not None else None
    except TooManyRequests as exc:
        wait = exc.detail.get("retry_after", 60)
        message = N_("Too many failed sign-ins. Wait %(seconds)s s, then try again.")
        return _sign_in_page(
            request,
            error=translate(language, message, seconds=wait),
            username=username,
            next_page=next,
            status_code=429,
        )
    if user is None or principal is None:
        record_sign_in(database, request, username, "console", None)
        return _sign_in_page(
            request,
            error=translate(language, N_("The username or the password is not right.")),
            username=username,
            next_page=next,
            status_code=401,
        )
    pending = second_factor.enabled(user)
    record_sign_in(
        database,
        request,
        user.username,
        "console",
        principal,
        action="auth.password_accepted" if pending else None,
    )
    with database.session(write=True) as session:
        fresh = service.get_user(session, user.username)
        token = sessions.open_session(
            session,
            fresh,
            address=address(request),
            verified=not pending,
            lifetime=timedelta(hours=settings.console_session_hours),
        )
    target = "/sign-in/second-factor" if pending else safe_next(next)
    if pending and next:
        target += "?next=" + safe_next(next)
    response = RedirectResponse(target, status_code=303)
    _cookie(response, settings, cookie_name(settings, SESSION_COOKIE), token)
    response.delete_cookie(cookie_name(settings, SIGN_IN_COOKIE), path="/")
    return response


@router.get("/sign-in/second-factor")
@open_to_partners
def second_factor_page(request: Request, viewer: PendingViewerDep, next: str = "") -> Response:
    if viewer.verified:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "second_factor.html",
        {"viewer": None, "pending": viewer, "error": None, "next_page": next},
        language=language_of(request, viewer),
    )


@router.post("/sign-in/second-factor")
@open_to_partners
def check_second_factor(
    request: Request,
    viewer: PendingViewerDep,
    code: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A code from the authenticator app, or one of the recovery codes."""
    database, settings = database_of(request), settings_of(request)
    language = language_of(request, viewer)
    attempt = Attempt(viewer.name, address(request))
    guard = sign_in_guard(request)
    with database.session() as session:
        wait = guard.retry_after(session, attempt)
    if wait is not None:
        message = N_("Too many failed sign-ins. Wait %(seconds)s s, then try again.")
        return _second_factor_again(
            request, viewer, translate(language, message, seconds=wait), next, 429
        )
    with database.session(write=True) as session:
        user = service.get_user(session, viewer.name)
        good = second_factor.verify(session, user, code, secret_key=settings.secret_key)
        if good:
            guard.record_success(session, attempt)
            sessions.mark_verified(session, viewer.session_id)
    if not good:
        record_sign_in(database, request, viewer.name, "console_second_factor", None)
        message = N_("This code is not right. Enter the code your app shows now.")
        return _second_factor_again(request, viewer, translate(language, message), next, 401)
    record_sign_in(database, request, viewer.name, "console_second_factor", viewer.principal)
    return RedirectResponse(safe_next(next), status_code=303)


def _second_factor_again(
    request: Request, viewer: Viewer, error: str, next_page: str, status_code: int
) -> Response:
    return render(
        request,
        "second_factor.html",
        {"viewer": None, "pending": viewer, "error": error, "next_page": next_page},
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.post("/sign-out")
@open_to_partners
def sign_out(request: Request, viewer: PendingViewerDep) -> Response:
    """Ends the session at once, on every node (it is gone from the database)."""
    with database_of(request).session(write=True) as session:
        sessions.end(session, viewer.session_id)
        record_event(
            session,
            actor=viewer.name,
            bureau_code=viewer.bureau_code,
            action="auth.signed_out",
            subject=f"user:{viewer.name}",
            details={"address": address(request), "via": "console"},
        )
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(cookie_name(settings_of(request), SESSION_COOKIE), path="/")
    if viewer.language in i18n.LANGUAGES:
        # The sign-in page that follows speaks the language the person was working in.
        _cookie(response, settings_of(request), LANGUAGE_COOKIE, viewer.language,
                max_age=LANGUAGE_COOKIE_SECONDS)  # fmt: skip
    return response


@router.post("/language")
@open_to_partners
async def choose_language(request: Request) -> Response:
    """Switch the console's language: remembered for the person, and by this browser."""
    form = await request.form()
    code = str(form.get("language", ""))
    back = safe_next(str(form.get("next", "")) or None)
    viewer = await session_viewer(request)
    if code not in i18n.LANGUAGES:
        return RedirectResponse(back, status_code=303)
    if viewer is not None:
        await check_csrf(request, viewer.csrf_token)
        with database_of(request).session(write=True) as session:
            service.get_user(session, viewer.name).language = code
    response = RedirectResponse(back, status_code=303)
    _cookie(response, settings_of(request), LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_SECONDS)
    return response


@router.get("/home")
@open_to_partners
def home(request: Request, viewer: ViewerDep) -> Response:
    return render(
        request,
        "home.html",
        {"viewer": viewer, "pages": pages_for(viewer.role, settings_of(request).training_sandbox)},
        language=language_of(request, viewer),
    )


def _account_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    with database_of(request).session() as session:
        user = service.get_user(session, viewer.name)
        left = second_factor.recovery_codes_left(session, user)
        enabled = second_factor.enabled(user)
    return {"viewer": viewer, "second_factor_enabled": enabled, "recovery_codes_left": left}


@router.get("/account")
@open_to_partners
def account(request: Request, viewer: ViewerDep) -> Response:
    return render(
        request,
        "account.html",
        _account_context(request, viewer),
        language=language_of(request, viewer),
    )


def _password_page(
    request: Request, viewer: Viewer, errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "password.html",
        {"viewer": viewer, "errors": errors},
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.get("/account/password")
@open_to_partners
def password_page(request: Request, viewer: ChangingPasswordViewerDep) -> Response:
    return _password_page(request, viewer, {})


@router.post("/account/password")
@open_to_partners
def change_password(
    request: Request,
    viewer: ChangingPasswordViewerDep,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    confirm_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new password: every token and every other session of the person ends."""
    language = language_of(request, viewer)
    errors: dict[str, str] = {}
    if not current_password:
        errors["current_password"] = translate(language, N_("Enter your current password."))
    if not new_password:
        errors["new_password"] = translate(language, N_("Enter a new password."))
    elif new_password != confirm_password:
        errors["confirm_password"] = translate(language, N_("The two new passwords differ."))
    if errors:
        return _password_page(request, viewer, errors, 422)
    database, settings = database_of(request), settings_of(request)
    try:
        limit_flood(request)
        with database.session() as session:
            hold_off_guessing(request, session, viewer.name)
            user = service.authenticate(session, viewer.name, current_password)
    except TooManyRequests as exc:
        message = N_("Too many failed sign-ins. Wait %(seconds)s s, then try again.")
        errors["current_password"] = translate(
            language, message, seconds=exc.detail.get("retry_after", 60)
        )
        return _password_page(request, viewer, errors, 429)
    if user is None:
        record_sign_in(database, request, viewer.name, "password_change", None)
        errors["current_password"] = translate(language, N_("This is not your current password."))
        return _password_page(request, viewer, errors, 401)
    try:
        with database.session(write=True) as session:
            changing = service.get_user(session, viewer.name)
            sign_in_guard(request).record_success(session, Attempt(viewer.name, address(request)))
            revoked_at = service.change_password(session, changing, new_password)
            sessions.end_all_of(session, changing.id)
            token = sessions.open_session(
                session,
                changing,
                address=address(request),
                verified=True,
                lifetime=timedelta(hours=settings.console_session_hours),
            )
    except BordercheckError as exc:
        errors["new_password"] = exc.message
        return _password_page(request, viewer, errors, 422)
    authority: TokenAuthority = request.app.state.tokens
    authority.revocations.add_subject(subject_of("user", viewer.principal.id), revoked_at)
    response = RedirectResponse("/account?changed=password", status_code=303)
    _cookie(response, settings, cookie_name(settings, SESSION_COOKIE), token)
    return response


@router.get("/account/second-factor")
@open_to_partners
def enrol_page(request: Request, viewer: EnrollingViewerDep) -> Response:
    """Enrol an authenticator app: scan the code (or type the key), confirm with a code."""
    if viewer.second_factor:
        return RedirectResponse("/account", status_code=303)
    return _enrol(request, viewer, second_factor.new_enrolment(), None)


def _enrol(
    request: Request,
    viewer: Viewer,
    enrolment: second_factor.Enrolment,
    error: str | None,
    status_code: int = 200,
) -> Response:
    uri = second_factor.enrolment_uri(enrolment, viewer.name)
    return render(
        request,
        "enrol.html",
        {
            "viewer": viewer,
            "secret": enrolment.secret,
            "grouped_secret": enrolment.grouped(),
            "qr": second_factor.qr_svg_data_uri(uri),
            "error": error,
        },
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.post("/account/second-factor")
@open_to_partners
def enrol(
    request: Request,
    viewer: EnrollingViewerDep,
    secret: Annotated[str, Form(min_length=16, max_length=64, pattern=r"^[A-Z2-7]+$")],
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    language = language_of(request, viewer)
    enrolment = second_factor.Enrolment(secret)
    settings = settings_of(request)
    with database_of(request).session(write=True) as session:
        user = service.get_user(session, viewer.name)
        codes = second_factor.confirm_enrolment(
            session, user, enrolment, code, secret_key=settings.secret_key
        )
    if codes is None:
        message = N_("This code is not right. Enter the code your app shows now.")
        return _enrol(request, viewer, enrolment, translate(language, message), 422)
    return render(
        request,
        "recovery_codes.html",
        {"viewer": viewer, "codes": codes},
        language=language,
    )
