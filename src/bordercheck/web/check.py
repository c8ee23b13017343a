"""Check a document: by number and country, or by its MRZ (typed, pasted or read by a
keyboard-wedge reader), answered at once as HIT, POSSIBLE HIT or NO HIT.

The check goes through the same path as ``POST /api/v1/screen``: the same roles, rate limit,
index, query log and hit cases; the answer is shown once its log entry and any hit case it
opened are safe.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import Form, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from bordercheck.api.limits import spend
from bordercheck.documents.countries import all_codes, country_name
from bordercheck.documents.types import DocumentType
from bordercheck.errors import ValidationFailed
from bordercheck.hits import service as hits_service
from bordercheck.screening.api import SCREENERS, run_screening, wait_until_logged
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.web.access import ViewerDep, allow, database_of, language_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router
from bordercheck.web.sessions import Viewer

router = console_router()

FIELD_LABELS = {
    "document_number": N_("Document number"),
    "issuing_country": N_("Issuing country"),
    "document_type": N_("Document type"),
    "mrz": N_("Machine-readable zone (MRZ)"),
    "location": N_("Border post code"),
}


@functools.cache
def countries() -> list[tuple[str, str]]:
    return sorted((code, country_name(code)) for code in all_codes())


def _page(
    request: Request,
    viewer: Viewer,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    outcome: dict[str, Any] | None,
    status_code: int = 200,
) -> Response:
    fragment = bool(request.headers.get("HX-Request")) and request.method == "POST"
    return render(
        request,
        "check/_answer.html" if fragment else "check/page.html",
        {
            "viewer": viewer,
            "form": form,
            "errors": errors,
            "outcome": outcome,
            "labels": FIELD_LABELS,
            "countries": countries(),
            "document_types": [t.value for t in DocumentType],
        },
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.get("/check")
def check_page(request: Request, viewer: ViewerDep, mode: str = "number") -> Response:
    allow(viewer, *SCREENERS)
    form = {"mode": "mrz" if mode == "mrz" else "number"}
    return _page(request, viewer, form=form, errors={}, outcome=None)


@router.post("/check")
async def check(
    request: Request,
    viewer: ViewerDep,
    mode: Annotated[str, Form(max_length=10)] = "number",
    document_number: Annotated[str, Form(max_length=100)] = "",
    issuing_country: Annotated[str, Form(max_length=100)] = "",
    document_type: Annotated[str, Form(max_length=100)] = "",
    mrz: Annotated[str, Form(max_length=400)] = "",
    location: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    allow(viewer, *SCREENERS)
    language = language_of(request, viewer)
    form = {
        "mode": "mrz" if mode == "mrz" else "number",
        "document_number": document_number,
        "issuing_country": issuing_country,
        "document_type": document_type,
        "mrz": mrz,
        "location": location,
    }
    errors: dict[str, str] = {}
    if form["mode"] == "mrz":
        if not mrz.strip():
            errors["mrz"] = translate(language, N_("Enter the MRZ: two or three lines."))
    else:
        if not document_number.strip():
            errors["document_number"] = translate(language, N_("Enter the document number."))
        if not issuing_country.strip():
            errors["issuing_country"] = translate(
                language, N_("Enter the issuing country's three-letter code, such as FRA.")
            )
    fields: dict[str, Any] = {"location": location.strip() or None}
    if form["mode"] == "mrz":
        fields["mrz"] = "\n".join(line.strip() for line in mrz.strip().splitlines() if line.strip())
    else:
        fields |= {
            "document_number": document_number.strip(),
            "issuing_country": issuing_country.strip().upper(),
            "document_type": document_type.strip() or None,
        }
    if errors:
        return _page(request, viewer, form=form, errors=errors, outcome=None, status_code=422)
    try:
        query = ScreenRequest.model_validate(fields)
    except ValidationError as exc:
        for item in exc.errors():
            name = str(item["loc"][0]) if item["loc"] else form["mode"]
            errors[name if name in FIELD_LABELS else "mrz"] = str(item["msg"])
        return _page(request, viewer, form=form, errors=errors, outcome=None, status_code=422)
    await spend(request, viewer.principal.subject)
    source = "mrz" if query.mrz else "number"
    try:
        answered, committed = run_screening(request, viewer.principal, [query], source)
    except ValidationFailed as exc:
        for error in exc.errors:
            errors[error.field if error.field in FIELD_LABELS else "mrz"] = error.reason
        return _page(request, viewer, form=form, errors=errors, outcome=None, status_code=422)
    await wait_until_logged(committed)
    answer = answered[0].answer
    cases = []
    if answer["result"] != "no_hit":
        cases = await run_in_threadpool(_cases, request, answer["query_id"])
    logged = answered[0].logged
    # What the screening read from the MRZ (after its repairs), as the officer should find it
    # on the data page: taken from the query's log entry, not from a second reading.
    read = (
        {"number": logged.document_number, "country": logged.issuing_country or ""}
        if query.mrz
        else None
    )
    outcome = {"answer": answer, "cases": cases, "read": read}
    return _page(request, viewer, form=form, errors={}, outcome=outcome)


def _cases(request: Request, query_id: str) -> list[int]:
    with database_of(request).session() as session:
        return [hit.id for hit in hits_service.hits_for_query(session, query_id)]
