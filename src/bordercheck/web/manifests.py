"""Passenger lists: upload a PAXLST file and read the flight, hits first; the bureau's lists.

An upload takes the API's own path (``manifests.intake.receive``): the same size limit, rate
charge, parsing slots, screening and storage, hit cases included. The pages read lists as
``GET /manifests`` does, under the same rule of who may read whose.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from bordercheck.api.limits import spend
from bordercheck.errors import BordercheckError, ValidationFailed
from bordercheck.hits import service as hits_service
from bordercheck.manifests import intake, service
from bordercheck.manifests.api import READERS, SUBMITTERS
from bordercheck.manifests.models import ManifestTraveller
from bordercheck.manifests.schemas import stored_out, traveller_out
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

LIST_PAGE = 50
TRAVELLERS_PAGE = 100
FLAGGED = ("hit", "possible_hit")
LABELS = {"file": N_("PAXLST file"), "location": N_("Border post code")}
NO_FILE = N_("Choose the PAXLST file to upload.")
# The names people read for the codes a stored list carries.
NAMES = {
    "hit": N_("Hit"),
    "possible_hit": N_("Possible hit"),
    "no_hit": N_("No hit"),
    "not_screened": N_("Not screened"),
    "passenger": N_("Passenger"),
    "crew": N_("Crew"),
    "transit_passenger": N_("Passenger in transit"),
    "transit_crew": N_("Crew member in transit"),
    "passengers": N_("Passengers"),
}
MaxId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _lists_page(
    request: Request,
    viewer: Viewer,
    *,
    before: int | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = settings_of(request)
    scope = service.listable_bureau(viewer.principal, None, settings.secretariat_code)
    with database_of(request).session() as session:
        rows = service.list_manifests(
            session, bureau_code=scope, limit=LIST_PAGE + 1, before_id=before
        )
    more = len(rows) > LIST_PAGE
    rows = rows[:LIST_PAGE]
    context = {
        "viewer": viewer,
        "manifests": [stored_out(row) for row in rows],
        "next_before": rows[-1].id if more and rows else None,
        "may_upload": viewer.role in SUBMITTERS,
        "all_bureaus": scope is None,
        "form": form or {},
        "errors": errors or {},
        "labels": LABELS,
        "max_bytes": settings.manifest_max_bytes,
    }
    language = language_of(request, viewer)
    return render(request, "manifests/lists.html", context, language=language,
                  status_code=status_code)  # fmt: skip


@router.get("/manifests")
def lists(request: Request, viewer: ViewerDep, before: MaxId = None) -> Response:
    allow(viewer, *READERS)
    return _lists_page(request, viewer, before=before)


@router.post("/manifests")
async def upload(request: Request, viewer: ViewerDep) -> Response:
    """Screen the uploaded list, then show its flight; an unreadable file says why."""
    allow(viewer, *SUBMITTERS)
    form = await request.form()  # already read for its CSRF token
    location = str(form.get("location") or "").strip()
    shown = {"location": location}
    if not isinstance(form.get("file"), UploadFile):
        errors = {"file": translate(language_of(request, viewer), NO_FILE)}
        return _lists_page(request, viewer, form=shown, errors=errors, status_code=422)
    await spend(request, viewer.principal.subject)
    try:
        received = await intake.receive(
            request, viewer.principal, location=location or None, operation_id=None,
            charged=1, source="console",
        )  # fmt: skip
    except ValidationFailed as exc:  # the border post code
        errors = {"location": "; ".join(error.reason for error in exc.errors)}
        return _lists_page(request, viewer, form=shown, errors=errors, status_code=422)
    except BordercheckError as exc:
        if exc.status_code not in (413, 422):
            raise
        errors = {"file": exc.message}
        return _lists_page(request, viewer, form=shown, errors=errors,
                           status_code=exc.status_code)  # fmt: skip
    stored = [one.stored_id for one in received.screened]
    if len(stored) == 1:
        return redirect(request, f"/manifests/{stored[0]}")
    return redirect(request, f"/manifests?received={len(stored)}")


@router.get("/manifests/{manifest_id}")
def flight(
    request: Request,
    viewer: ViewerDep,
    manifest_id: int,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Travellers with a hit or a possible hit first, with their cases; then the rest, paged."""
    allow(viewer, *READERS)
    settings = settings_of(request)
    with database_of(request).session() as session:
        row = service.get_manifest(session, manifest_id)
        service.ensure_may_read(viewer.principal, row, settings.secretariat_code)
        travellers = service.travellers_of(session, row.id)
        flagged = sorted(
            (t for t in travellers if t.result in FLAGGED), key=lambda t: FLAGGED.index(t.result)
        )
        cases = {t.position: _cases(session, t) for t in flagged}
        others = [t for t in travellers if t.result not in FLAGGED]
        pages = max(1, -(-len(others) // TRAVELLERS_PAGE))
        page = min(page, pages)
        shown = others[(page - 1) * TRAVELLERS_PAGE : page * TRAVELLERS_PAGE]
        context: dict[str, Any] = {
            "viewer": viewer,
            "manifest": stored_out(row),
            "flagged": [traveller_out(t) for t in flagged],
            "cases": cases,
            "others": [traveller_out(t) for t in shown],
            "others_total": len(others),
            "page": page,
            "pages": pages,
            "names": NAMES,
            "page_size": TRAVELLERS_PAGE,
        }
    return render(request, "manifests/flight.html", context, language=language_of(request, viewer))


def _cases(session: Session, traveller: ManifestTraveller) -> list[int]:
    if traveller.query_id is None:
        return []
    return [hit.id for hit in hits_service.hits_for_query(session, traveller.query_id)]
