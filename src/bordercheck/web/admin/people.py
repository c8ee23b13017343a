"""Bureaus, people and API clients: listed, added, and for people and clients, stopped.

A new client's secret and a reset password are shown once, on the page that answers the
form, as the API answers them once; neither is kept anywhere but as a hash.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from bordercheck.auth import second_factor, service
from bordercheck.auth.api import ADMINS, revoke_in_process
from bordercheck.auth.models import Role, User
from bordercheck.auth.passwords import MIN_PASSWORD_LENGTH
from bordercheck.auth.revocation import subject_of
from bordercheck.errors import BordercheckError
from bordercheck.timestamps import utcnow
from bordercheck.web import sessions
from bordercheck.web.access import ViewerDep, allow, database_of, language_of
from bordercheck.web.admin import form_errors, page
from bordercheck.web.i18n import N_
from bordercheck.web.render import translate
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

LABELS = {
    "country": N_("Country code"),
    "name": N_("Name"),
    "username": N_("Username"),
    "bureau": N_("Bureau"),
    "role": N_("Role"),
    "password": N_("Password"),
}
ROLES = [role.value for role in Role]
CHOOSE_ROLE = N_("Choose a role.")
Text = Annotated[str, Form(max_length=200)]


@router.get("/admin")
def overview(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    return page(request, viewer, "overview.html", {})


@router.get("/admin/bureaus")
def bureaus(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    return _bureaus_page(request, viewer, form={}, errors={})


def _bureaus_page(
    request: Request,
    viewer: Viewer,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    with database_of(request).session() as session:
        rows = service.list_bureaus(session)
        context = {"bureaus": rows, "form": form, "errors": errors, "labels": LABELS}
        return page(request, viewer, "bureaus.html", context, status_code=status_code)


@router.post("/admin/bureaus")
def add_bureau(
    request: Request, viewer: ViewerDep, country: Text = "", name: Text = ""
) -> Response:
    allow(viewer, *ADMINS)
    form = {"country": country, "name": name}
    try:
        with database_of(request).session(write=True) as session:
            service.add_bureau(session, country, name, actor=viewer.name)
    except BordercheckError as exc:
        errors = form_errors(exc, ("country", "name"), default="country", country="country")
        return _bureaus_page(request, viewer, form=form, errors=errors, status_code=422)
    return redirect(request, "/admin/bureaus?done=added")


@router.get("/admin/users")
def users(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    with database_of(request).session() as session:
        rows = service.list_users(session)
        return page(request, viewer, "users.html", {"users": rows})


@router.get("/admin/users/new")
def new_user(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    return _new_user_page(request, viewer, form={}, errors={})


def _new_user_page(
    request: Request,
    viewer: Viewer,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    with database_of(request).session() as session:
        codes = [bureau.country_code for bureau in service.list_bureaus(session)]
    context = {"form": form, "errors": errors, "labels": LABELS, "roles": ROLES, "bureaus": codes,
               "min_password": MIN_PASSWORD_LENGTH}  # fmt: skip
    return page(request, viewer, "new_user.html", context, status_code=status_code)


@router.post("/admin/users")
def add_user(
    request: Request,
    viewer: ViewerDep,
    username: Text = "",
    bureau: Text = "",
    role: Text = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    allow(viewer, *ADMINS)
    form = {"username": username, "bureau": bureau, "role": role}
    fields = ("username", "bureau", "role", "password")
    if role not in ROLES:
        errors = {"role": translate(language_of(request, viewer), CHOOSE_ROLE)}
        return _new_user_page(request, viewer, form=form, errors=errors, status_code=422)
    try:
        with database_of(request).session(write=True) as session:
            user = service.add_user(
                session, username, bureau=bureau, role=Role(role), password=password,
                actor=viewer.name,
            )  # fmt: skip
            made = user.username
    except BordercheckError as exc:
        errors = form_errors(exc, fields, default="username")
        return _new_user_page(request, viewer, form=form, errors=errors, status_code=422)
    return redirect(request, f"/admin/users/{made}?done=added")


def _user_page(
    request: Request, viewer: Viewer, user: User, *, temporary: str | None = None
) -> Response:
    context = {
        "user": user,
        "second_factor_on": second_factor.enabled(user),
        "temporary_password": temporary,
        "is_self": user.username == viewer.name,
    }
    return page(request, viewer, "user.html", context)


@router.get("/admin/users/{username}")
def user(request: Request, viewer: ViewerDep, username: str) -> Response:
    allow(viewer, *ADMINS)
    with database_of(request).session() as session:
        return _user_page(request, viewer, service.get_user(session, username))


@router.post("/admin/users/{username}/deactivate")
def deactivate_user(request: Request, viewer: ViewerDep, username: str) -> Response:
    """Their console sessions end with it (a session needs an active person)."""
    allow(viewer, *ADMINS)
    with database_of(request).session(write=True) as session:
        found = service.deactivate_user_by(session, username, viewer.principal)
        name, subject = found.username, subject_of("user", found.id)
    revoke_in_process(request, subject, utcnow())
    return redirect(request, f"/admin/users/{name}?done=deactivated")


@router.post("/admin/users/{username}/reactivate")
def reactivate_user(request: Request, viewer: ViewerDep, username: str) -> Response:
    allow(viewer, *ADMINS)
    with database_of(request).session(write=True) as session:
        name = service.reactivate_user(session, username, actor=viewer.name).username
    return redirect(request, f"/admin/users/{name}?done=reactivated")


@router.post("/admin/users/{username}/password")
def reset_password(request: Request, viewer: ViewerDep, username: str) -> Response:
    """A temporary password, shown on this answer only; the person's sessions end (their
    password changed) and they choose a new one at their next sign-in."""
    allow(viewer, *ADMINS)
    with database_of(request).session(write=True) as session:
        found, temporary, revoked_at = service.reset_password(session, username, actor=viewer.name)
        revoke_in_process(request, subject_of("user", found.id), revoked_at)
        return _user_page(request, viewer, found, temporary=temporary)


@router.post("/admin/users/{username}/second-factor")
def reset_second_factor(request: Request, viewer: ViewerDep, username: str) -> Response:
    """A lost phone: the person's second factor is forgotten and their console sessions end;
    they set up a new one at their next sign-in."""
    allow(viewer, *ADMINS)
    with database_of(request).session(write=True) as session:
        found = service.get_user(session, username)
        second_factor.reset(session, found, actor=viewer.name)
        sessions.end_all_of(session, found.id)
        name = found.username
    return redirect(request, f"/admin/users/{name}?done=second_factor")


@router.get("/admin/clients")
def clients(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    return _clients_page(request, viewer, form={}, errors={})


def _clients_page(
    request: Request,
    viewer: Viewer,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    secret: tuple[str, str] | None = None,
) -> Response:
    with database_of(request).session() as session:
        context = {
            "clients": service.list_clients(session),
            "bureaus": [bureau.country_code for bureau in service.list_bureaus(session)],
            "roles": ROLES,
            "form": form,
            "errors": errors,
            "labels": LABELS,
            "secret": secret,
        }
        return page(request, viewer, "clients.html", context, status_code=status_code)


@router.post("/admin/clients")
def add_client(
    request: Request, viewer: ViewerDep, name: Text = "", bureau: Text = "", role: Text = ""
) -> Response:
    """The new client's secret is on this answer only."""
    allow(viewer, *ADMINS)
    form = {"name": name, "bureau": bureau, "role": role}
    if role not in ROLES:
        errors = {"role": translate(language_of(request, viewer), CHOOSE_ROLE)}
        return _clients_page(request, viewer, form=form, errors=errors, status_code=422)
    try:
        with database_of(request).session(write=True) as session:
            client, secret = service.add_client(
                session, name, bureau=bureau, role=Role(role), actor=viewer.name
            )
            made = (client.client_id, secret)
    except BordercheckError as exc:
        errors = form_errors(exc, ("name", "bureau", "role"), default="name")
        return _clients_page(request, viewer, form=form, errors=errors, status_code=422)
    return _clients_page(request, viewer, form={}, errors={}, secret=made)


@router.post("/admin/clients/{client_id}/deactivate")
def deactivate_client(request: Request, viewer: ViewerDep, client_id: str) -> Response:
    allow(viewer, *ADMINS)
    with database_of(request).session(write=True) as session:
        client = service.deactivate_client(session, client_id, actor=viewer.name)
        subject = subject_of("client", client.client_id)
    revoke_in_process(request, subject, utcnow())
    return redirect(request, "/admin/clients?done=deactivated")
