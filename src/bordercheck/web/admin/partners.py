"""Partner organisations: listed and added by administrators. Their accounts are added on
the people page (role: partner organisation, bureau: the organisation's code)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from bordercheck.auth import service
from bordercheck.auth.api import ADMINS
from bordercheck.errors import BordercheckError
from bordercheck.web.access import ViewerDep, allow, database_of
from bordercheck.web.admin import form_errors, page
from bordercheck.web.i18n import N_
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

LABELS = {"code": N_("Code"), "name": N_("Name")}
Text = Annotated[str, Form(max_length=200)]


@router.get("/admin/partners")
def partners(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    return _partners_page(request, viewer, form={}, errors={})


def _partners_page(
    request: Request, viewer: Viewer, *, form: dict[str, str], errors: dict[str, str],
    status_code: int = 200,
) -> Response:  # fmt: skip
    with database_of(request).session() as session:
        rows = service.list_partners(session)
        context = {"partners": rows, "form": form, "errors": errors, "labels": LABELS}
        return page(request, viewer, "partners.html", context, status_code=status_code)


@router.post("/admin/partners")
def add_partner(request: Request, viewer: ViewerDep, code: Text = "", name: Text = "") -> Response:
    allow(viewer, *ADMINS)
    form = {"code": code, "name": name}
    try:
        with database_of(request).session(write=True) as session:
            service.add_partner(session, code, name, actor=viewer.name)
    except BordercheckError as exc:
        errors = form_errors(exc, ("code", "name"), default="code")
        return _partners_page(request, viewer, form=form, errors=errors, status_code=422)
    return redirect(request, "/admin/partners?done=added")
