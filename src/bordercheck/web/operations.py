"""Operations in the console: the list, an operation's page whose figures update themselves
(htmx polling a fragment, charts as SVG images drawn on the server), the form coordinators
create one with, and the final report's downloads. The same service and rules as
``/api/v1/operations``."""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from bordercheck.api.types import MAX_ID
from bordercheck.auth import service as auth_service
from bordercheck.auth.policy import open_to_partners
from bordercheck.errors import Forbidden, NotFound, ValidationFailed
from bordercheck.operations import charts, report, service, thread
from bordercheck.operations.api import COORDINATORS, READERS
from bordercheck.operations.service import NewOperation
from bordercheck.timestamps import utcnow
from bordercheck.web import i18n
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router
from bordercheck.web.sessions import Viewer

router = console_router()

FIELD_LABELS = {
    "name": N_("Name"),
    "purpose": N_("Purpose"),
    "starts_on": N_("First day"),
    "ends_on": N_("Last day"),
    "locations": N_("Border posts"),
    "bureaus": N_("Participating bureaus"),
    "clients": N_("API clients"),
    "kits": N_("Offline kits"),
}
OperationId = Annotated[int, Path(ge=1, le=MAX_ID)]
STATES = {"planned": N_("planned"), "running": N_("running"), "ended": N_("ended")}
OUTCOME_LABELS = report.LABELS  # answers and outcomes, as the report names them


def _coordinator(request: Request, viewer: Viewer) -> bool:
    return service.is_coordinator(viewer.principal, settings_of(request).secretariat_code)


@router.get("/operations")
@open_to_partners
def operations_page(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *READERS)
    secretariat = settings_of(request).secretariat_code
    with database_of(request).session() as session:
        found = service.visible(session, viewer.principal, secretariat)
    return render(
        request, "operations/list.html",
        {"viewer": viewer, "operations": found, "today": utcnow().date(), "states": STATES,
         "coordinator": _coordinator(request, viewer)},
        language=language_of(request, viewer),
    )  # fmt: skip


def _form_page(
    request: Request, viewer: Viewer, form: dict[str, str], errors: dict[str, str],
    status_code: int = 200,
) -> Response:  # fmt: skip
    return render(
        request, "operations/new.html",
        {"viewer": viewer, "form": form, "errors": errors, "labels": FIELD_LABELS},
        language=language_of(request, viewer), status_code=status_code,
    )  # fmt: skip


@router.get("/operations/new")
def new_operation_page(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *COORDINATORS)
    if not _coordinator(request, viewer):
        raise Forbidden("operations are created by administrators and the secretariat's analysts")
    return _form_page(request, viewer, {}, {})


def _names(text: str) -> list[str]:
    """Names one per line or separated by commas (a client's name may hold spaces)."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _codes(text: str) -> list[str]:
    """Codes (border posts, countries) separated by commas or lines, or, when there is no
    comma, by spaces (as other forms of the console take them). With commas, a space inside
    an entry stays, and the entry is refused for it: "CDG T2" is not read as two posts."""
    separators = r"[,\n]+" if "," in text else r"\s+"
    return [part.strip() for part in re.split(separators, text) if part.strip()]


@router.post("/operations")
def create_operation(
    request: Request,
    viewer: ViewerDep,
    name: Annotated[str, Form(max_length=200)] = "",
    purpose: Annotated[str, Form(max_length=2000)] = "",
    starts_on: Annotated[str, Form(max_length=20)] = "",
    ends_on: Annotated[str, Form(max_length=20)] = "",
    locations: Annotated[str, Form(max_length=2000)] = "",
    bureaus: Annotated[str, Form(max_length=2000)] = "",
    clients: Annotated[str, Form(max_length=4000)] = "",
    kits: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    allow(viewer, *COORDINATORS)
    language = language_of(request, viewer)
    form = {
        "name": name, "purpose": purpose, "starts_on": starts_on, "ends_on": ends_on,
        "locations": locations, "bureaus": bureaus, "clients": clients, "kits": kits,
    }  # fmt: skip
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for key, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        try:
            days[key] = date.fromisoformat(value.strip())
        except ValueError:
            errors[key] = translate(language, N_("Enter a date such as 2026-03-01."))
    if not name.strip():
        errors["name"] = translate(language, N_("Give the operation a name."))
    if errors:
        return _form_page(request, viewer, form, errors, status_code=422)
    new = NewOperation(
        name=name, purpose=purpose, starts_on=days["starts_on"], ends_on=days["ends_on"],
        locations=_codes(locations), bureaus=_codes(bureaus), clients=_names(clients),
        kits=_names(kits),
    )  # fmt: skip
    secretariat = settings_of(request).secretariat_code
    try:
        with database_of(request).session(write=True) as session:
            created = service.create(session, viewer.principal, secretariat, new)
            thread.ensure(session, settings_of(request), viewer.principal.actor(), created)
    except ValidationFailed as failed:
        for problem in failed.errors:
            errors.setdefault(problem.field, problem.reason)
        return _form_page(request, viewer, form, errors, status_code=422)
    return RedirectResponse(f"/operations/{created.id}", status_code=303)


def _figures_context(request: Request, viewer: Viewer, operation_id: int) -> dict[str, Any]:
    secretariat = settings_of(request).secretariat_code
    coordinator = _coordinator(request, viewer)
    with database_of(request).session() as session:
        operation = service.get(session, viewer.principal, operation_id, secretariat)
        figures = service.figures(session, operation)
        thread_id = thread.thread_id_of(session, operation.id)
        partners = auth_service.list_partners(session) if coordinator else []
        invitable = [(p.country_code, p.name) for p in partners]
    language = language_of(request, viewer).code
    images = {k: charts.data_uri(v) for k, v in report.chart_images(figures, language).items()}
    gettext = i18n.translations(language).gettext
    return {
        "viewer": viewer, "operation": operation, "figures": figures, "charts": images,
        "states": STATES, "outcome_labels": OUTCOME_LABELS,
        "answer_times": figures.answer_times(), "thread_id": thread_id,
        "duration": functools.partial(report.duration, gettext), "sources": report.SOURCES,
        "coordinator": coordinator,
        "invitable": [(c, n) for c, n in invitable if c not in operation.partners],
        "errors": {},
    }  # fmt: skip


@router.get("/operations/{operation_id}")
@open_to_partners
def operation_page(request: Request, viewer: ViewerDep, operation_id: OperationId) -> Response:
    allow(viewer, *READERS)
    context = _figures_context(request, viewer, operation_id)
    fragment = bool(request.headers.get("HX-Request"))
    return render(
        request, "operations/_figures.html" if fragment else "operations/page.html", context,
        language=language_of(request, viewer),
    )  # fmt: skip


@router.get("/operations/{operation_id}/report")
@open_to_partners
def operation_report(
    request: Request, viewer: ViewerDep, operation_id: OperationId, format: str = "html"
) -> Response:
    allow(viewer, *READERS)
    secretariat = settings_of(request).secretariat_code
    with database_of(request).session() as session:
        operation = service.get(session, viewer.principal, operation_id, secretariat)
        figures = service.figures(session, operation)
        # In the viewer's language: a coordinator sends it as it is.
        body = report.render(session, figures, format, language_of(request, viewer).code)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    name = f"operation-{operation.id}-report.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/operations/{operation_id}/partners")
def invite_partner(
    request: Request, viewer: ViewerDep, operation_id: OperationId,
    partner: Annotated[str, Form(max_length=16)] = "",
) -> Response:  # fmt: skip
    """Invite a partner organisation (coordinators): the same rules as the API's."""
    allow(viewer, *COORDINATORS)
    settings = settings_of(request)
    service.ensure_coordinator(viewer.principal, settings.secretariat_code)
    actor = viewer.principal.actor()
    try:
        with database_of(request).session(write=True) as session:
            operation = service.invite(session, actor, operation_id, partner)
            thread.ensure(session, settings, actor, operation)
    except NotFound as missing:
        if not partner.strip() or "partner" in missing.detail:
            context = _figures_context(request, viewer, operation_id)
            language = language_of(request, viewer)
            message = translate(language, N_("Choose a partner organisation."))
            context["errors"] = {"partner": message}
            return render(request, "operations/page.html", context, language=language,
                          status_code=422)  # fmt: skip
        raise
    return RedirectResponse(f"/operations/{operation_id}", status_code=303)


@router.post("/operations/{operation_id}/partners/{partner}/remove")
def uninvite_partner(
    request: Request, viewer: ViewerDep, operation_id: OperationId, partner: str
) -> Response:
    """Remove a partner organisation: its accounts lose the operation and its thread at once."""
    allow(viewer, *COORDINATORS)
    settings = settings_of(request)
    service.ensure_coordinator(viewer.principal, settings.secretariat_code)
    actor = viewer.principal.actor()
    with database_of(request).session(write=True) as session:
        operation = service.uninvite(session, actor, operation_id, partner[:16])
        thread.ensure(session, settings, actor, operation)
    return RedirectResponse(f"/operations/{operation_id}", status_code=303)
