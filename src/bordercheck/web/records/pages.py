"""The records pages: list and search, one record with its history, add, edit, withdraw,
withhold from countries."""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bordercheck.auth.policy import RECORD_WRITERS, ensure_may_read_record, readable_countries
from bordercheck.documents.countries import all_codes, country_name
from bordercheck.documents.types import DocumentType, Status
from bordercheck.errors import (
    DuplicateRecord,
    FieldError,
    Forbidden,
    StaleVersion,
    ValidationFailed,
)
from bordercheck.registry import service
from bordercheck.registry.api_models import RecordQuery, record_out
from bordercheck.registry.models import Record
from bordercheck.registry.schemas import RECORD_FIELDS
from bordercheck.screening import watches
from bordercheck.screening.api import WATCHERS
from bordercheck.screening.live import LiveIndex
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

PAGE_SIZE = 50
FIELD_LABELS = {
    "document_number": N_("Document number"),
    "issuing_country": N_("Issuing country"),
    "document_type": N_("Document type"),
    "status": N_("Status"),
    "blank": N_("Blank document (never issued)"),
    "serial_end": N_("Last number of the range"),
    "issue_date": N_("Date of issue"),
    "expiry_date": N_("Date of expiry"),
    "event_date": N_("Date stolen or lost"),
    "event_place": N_("Place stolen or lost"),
    "event_country": N_("Country where stolen or lost"),
    "circumstances": N_("Circumstances"),
    "holder_surname": N_("Holder's surname"),
    "holder_given_names": N_("Holder's given names"),
    "holder_birth_date": N_("Holder's date of birth"),
    "holder_nationality": N_("Holder's nationality"),
    "incident_ref": N_("Incident reference"),
    "reason": N_("Reason"),
    "countries": N_("Countries"),
    "number_prefix": N_("Number begins with"),
    "event_from": N_("Stolen or lost from"),
    "event_to": N_("Stolen or lost until"),
    "created_from": N_("Recorded from"),
    "created_to": N_("Recorded until"),
    "review_due_by": N_("Review due by"),
    "cursor": N_("Page"),
    "number": N_("Document number"),
}
FIELD_HINTS = {
    "document_number": N_("As printed on the document; spaces and dashes are ignored."),
    "issuing_country": N_("Three letters, such as FRA"),
    "serial_end": N_("Only for a range of blank documents: the last number of the range."),
    "event_country": N_("Three letters, such as FRA"),
    "holder_nationality": N_("Three letters, such as FRA"),
    "circumstances": N_("What happened, in a few words (at most 2,000 characters)."),
    "incident_ref": N_("Your police or incident report number, to find records of one case."),
}
FILTERS = (
    "document_number",
    "number_prefix",
    "issuing_country",
    "status",
    "document_type",
    "blank",
    "incident_ref",
    "event_from",
    "event_to",
    "created_from",
    "created_to",
    "review_due_by",
    "include_withdrawn",
    "oldest_first",
    "cursor",
)


@functools.cache
def countries() -> list[tuple[str, str]]:
    return sorted((code, country_name(code)) for code in all_codes())


def _page(
    request: Request,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        template,
        {
            "viewer": viewer,
            "labels": FIELD_LABELS,
            "hints": FIELD_HINTS,
            "countries": countries(),
            "document_types": [t.value for t in DocumentType],
            "statuses": [s.value for s in Status],
            "may_write": viewer.role in RECORD_WRITERS,
            **context,
        },
        language=language_of(request, viewer),
        status_code=status_code,
    )


def _errors(errors: list[FieldError]) -> dict[str, str]:
    """The service's errors by form field; one about the record as a whole (a blank document
    with a holder) goes to ``record``, the form itself."""
    found: dict[str, str] = {}
    for error in errors:
        name = error.field.removeprefix("query.").split(".")[0]
        found.setdefault(name if name in FIELD_LABELS else "record", error.reason)
    return found


def _screen_now(request: Request) -> None:
    """A change is screened by this process at once, as the API does after its writes."""
    live: LiveIndex = request.app.state.live_index
    if live.ready:
        live.catch_up()


def _readable(request: Request, session: Session, viewer: Viewer, record_id: int) -> Record:
    record = service.get_record(session, record_id)
    ensure_may_read_record(viewer.principal, record.issuing_country, _secretariat(request))
    return record


def _secretariat(request: Request) -> str:
    return settings_of(request).secretariat_code


# The list, and the search by number every records page carries.


@router.get("/records")
def list_records(request: Request, viewer: ViewerDep) -> Response:
    secretariat = _secretariat(request)
    readable_countries(viewer.principal, secretariat)  # 403 for those who only screen
    sent = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    form = {name: value for name, value in sent.items() if value}
    errors: dict[str, str] = {}
    records: list[Any] = []
    next_cursor = None
    try:
        params = RecordQuery.model_validate({**form, "limit": PAGE_SIZE})
    except ValidationError as exc:
        errors = {str(e["loc"][0]): e["msg"] for e in exc.errors() if e["loc"]}
    else:
        try:
            with database_of(request).session() as session:
                page = service.search(session, viewer.principal, secretariat, params)
                today = date.today()
                records = [record_out(record, today) for record in page.records]
                next_cursor = page.next_cursor
        except ValidationFailed as exc:
            errors = _errors(exc.errors)
    filters = {name: value for name, value in form.items() if name != "cursor"}
    return _page(
        request,
        viewer,
        "records/list.html",
        {
            "form": form,
            "errors": errors,
            "records": records,
            "next_cursor": next_cursor,
            "filters": filters,
            "first_page": "cursor" in form,
            "all_countries": readable_countries(viewer.principal, secretariat) is None,
        },
        status_code=422 if errors else 200,
    )


@router.get("/records/find")
def find_record(request: Request, viewer: ViewerDep, number: str = "") -> Response:
    """Search by number: straight to the record if one has it, else the list of those that do."""
    secretariat = _secretariat(request)
    readable_countries(viewer.principal, secretariat)
    number = number.strip()[:64]
    if not number:
        return redirect(request, "/records")
    params = RecordQuery(document_number=number, include_withdrawn=True, limit=2)
    try:
        with database_of(request).session() as session:
            found = service.search(session, viewer.principal, secretariat, params).records
    except ValidationFailed:
        found = []
    if len(found) == 1:
        return redirect(request, f"/records/{found[0].id}")
    query = urlencode({"document_number": number, "include_withdrawn": "true"})
    return redirect(request, f"/records?{query}")


# Adding and changing a record: one form.


def _form_of(record: Record) -> dict[str, str]:
    form = {}
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        form[name] = "" if value is None else str(value).lower() if name == "blank" else str(value)
    return form


def _fields_sent(form: dict[str, str]) -> dict[str, Any]:
    """What the form says, as the service takes it: an empty field is an absent one."""
    data: dict[str, Any] = {name: (form.get(name) or "").strip() or None for name in RECORD_FIELDS}
    data["blank"] = form.get("blank") == "true"
    return data


def _form_page(
    request: Request,
    viewer: Viewer,
    form: dict[str, str],
    *,
    record: Record | None = None,
    version: int | None = None,
    errors: dict[str, str] | None = None,
    stale: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        viewer,
        "records/form.html",
        {
            "form": form,
            "record": record,
            "version": version,
            "errors": errors or {},
            "stale": stale,
        },
        status_code=status_code,
    )


async def _sent_form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {
        name: value[:2000]
        for name in (*RECORD_FIELDS, "version")
        if isinstance(value := data.get(name, ""), str)
    }


@router.get("/records/new")
def new_record(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *RECORD_WRITERS)
    form = {"issuing_country": viewer.bureau_code, "status": "stolen", "document_type": "passport"}
    return _form_page(request, viewer, form)


@router.post("/records/new")
async def add_record(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *RECORD_WRITERS)
    form = await _sent_form(request)
    return await run_in_threadpool(_add, request, viewer, form)


def _add(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
    language = language_of(request, viewer)
    try:
        with database_of(request).session(write=True) as session:
            fields = service.parse_fields(_fields_sent(form))
            record = service.create_record(
                session,
                viewer.principal.actor(),
                fields,
                review_years=settings_of(request).review_years,
            )
            record_id = record.id
    except ValidationFailed as exc:
        return _form_page(request, viewer, form, errors=_errors(exc.errors), status_code=422)
    except DuplicateRecord as exc:
        message = translate(
            language,
            N_("This document is already recorded as record %(id)s: change that record."),
            id=exc.detail.get("record_id", "?"),
        )
        errors = {"document_number": message}
        return _form_page(request, viewer, form, errors=errors, status_code=409)
    except Forbidden as exc:
        return _form_page(
            request, viewer, form, errors={"issuing_country": exc.message}, status_code=403
        )
    _screen_now(request)
    return redirect(request, f"/records/{record_id}")


# One record.


def _changes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version with what it changed from the one before (newest first)."""
    shown = []
    before: dict[str, Any] = {}
    for entry in entries:
        data = entry["data"]
        changed = [
            (name, before.get(name), data.get(name))
            for name in (*RECORD_FIELDS, "withheld_from", "review_due", "withdrawal_reason")
            if before and before.get(name) != data.get(name)
        ]
        shown.append({**entry, "changed": changed})
        before = data
    return list(reversed(shown))


def _record_page(
    request: Request,
    viewer: Viewer,
    record: Record,
    history: list[dict[str, Any]],
    *,
    errors: dict[str, str] | None = None,
    withheld: str | None = None,
    status_code: int = 200,
) -> Response:
    shown = record_out(record)
    may_watch = viewer.role in WATCHERS and record.issuing_country == viewer.bureau_code
    with database_of(request).session() as session:
        watching = may_watch and watches.is_watching(session, record.id, viewer.bureau_code)
    return _page(
        request,
        viewer,
        "records/record.html",
        {
            "record": shown,
            "may_watch": may_watch,
            "watching": watching,
            "history": _changes(history),
            "errors": errors or {},
            "withheld": " ".join(shown.withheld_from) if withheld is None else withheld,
            "may_change": viewer.role in RECORD_WRITERS and shown.active,
        },
        status_code=status_code,
    )


@router.get("/records/{record_id}")
def record_page(request: Request, viewer: ViewerDep, record_id: int) -> Response:
    with database_of(request).session() as session:
        record = _readable(request, session, viewer, record_id)
        return _record_page(request, viewer, record, service.history(session, record_id))


@router.post("/records/{record_id}/withheld-from")
def withhold(
    request: Request,
    viewer: ViewerDep,
    record_id: int,
    version: Annotated[int, Form(ge=1)],
    countries: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    allow(viewer, *RECORD_WRITERS)
    codes = countries.replace(",", " ").split()
    try:
        with database_of(request).session(write=True) as session:
            service.withhold(session, viewer.principal.actor(), record_id, version, codes)
    except (ValidationFailed, StaleVersion) as exc:
        language = language_of(request, viewer)
        reason = (
            "; ".join(e.reason for e in exc.errors)
            if isinstance(exc, ValidationFailed)
            else translate(language, N_("Someone changed this record meanwhile: try again."))
        )
        with database_of(request).session() as session:
            record = _readable(request, session, viewer, record_id)
            return _record_page(
                request,
                viewer,
                record,
                service.history(session, record_id),
                errors={"countries": reason},
                withheld=countries,
                status_code=exc.status_code,
            )
    _screen_now(request)
    return redirect(request, f"/records/{record_id}")


@router.get("/records/{record_id}/edit")
def edit_record(request: Request, viewer: ViewerDep, record_id: int) -> Response:
    allow(viewer, *RECORD_WRITERS)
    with database_of(request).session() as session:
        record = _readable(request, session, viewer, record_id)
        viewer.principal.actor().ensure_may_write_records_of(record.issuing_country)
        return _form_page(request, viewer, _form_of(record), record=record, version=record.version)


@router.post("/records/{record_id}/edit")
async def change_record(request: Request, viewer: ViewerDep, record_id: int) -> Response:
    allow(viewer, *RECORD_WRITERS)
    form = await _sent_form(request)
    return await run_in_threadpool(_change, request, viewer, record_id, form)


def _change(request: Request, viewer: Viewer, record_id: int, form: dict[str, str]) -> Response:
    version_sent = form.get("version", "")
    version = int(version_sent) if version_sent.isdigit() and len(version_sent) < 10 else 0
    try:
        with database_of(request).session(write=True) as session:
            service.update_record(
                session, viewer.principal.actor(), record_id, version, _fields_sent(form)
            )
    except StaleVersion:
        # Someone changed the record since the form was opened: both versions side by side,
        # and the form again with this person's values on the current version.
        with database_of(request).session() as session:
            record = _readable(request, session, viewer, record_id)
            current = _form_of(record)
            form["blank"] = "true" if form.get("blank") == "true" else "false"
            compared = [
                (name, current.get(name, ""), form.get(name, ""))
                for name in RECORD_FIELDS
                if (current.get(name, "") or "") != (form.get(name, "") or "")
                or name in ("document_number", "issuing_country")
            ]
            stale = {"version": version, "current": current, "compared": compared}
            return _form_page(
                request,
                viewer,
                form,
                record=record,
                version=record.version,
                stale=stale,
                status_code=409,
            )
    except (ValidationFailed, DuplicateRecord, Forbidden) as exc:
        errors = (
            _errors(exc.errors)
            if isinstance(exc, ValidationFailed)
            else {
                "document_number"
                if isinstance(exc, DuplicateRecord)
                else "issuing_country": exc.message
            }
        )
        with database_of(request).session() as session:
            record = _readable(request, session, viewer, record_id)
            return _form_page(
                request,
                viewer,
                form,
                record=record,
                version=version,
                errors=errors,
                status_code=exc.status_code,
            )
    _screen_now(request)
    return redirect(request, f"/records/{record_id}")


# Withdrawing.


@router.get("/records/{record_id}/withdraw")
def withdraw_page(request: Request, viewer: ViewerDep, record_id: int) -> Response:
    allow(viewer, *RECORD_WRITERS)
    with database_of(request).session() as session:
        record = _readable(request, session, viewer, record_id)
        viewer.principal.actor().ensure_may_write_records_of(record.issuing_country)
        return _page(
            request,
            viewer,
            "records/withdraw.html",
            {"record": record_out(record), "reason": "", "errors": {}, "stale": False},
        )


@router.post("/records/{record_id}/withdraw")
def withdraw(
    request: Request,
    viewer: ViewerDep,
    record_id: int,
    version: Annotated[int, Form(ge=1)],
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    allow(viewer, *RECORD_WRITERS)
    language = language_of(request, viewer)
    errors: dict[str, str] = {}
    stale = False
    try:
        if not reason.strip():
            errors["reason"] = translate(language, N_("Say why the record is withdrawn."))
            raise ValidationFailed(errors=[])
        with database_of(request).session(write=True) as session:
            service.withdraw_record(session, viewer.principal.actor(), record_id, version, reason)
    except (ValidationFailed, StaleVersion) as exc:
        if isinstance(exc, ValidationFailed):
            errors |= _errors(exc.errors)
        stale = isinstance(exc, StaleVersion)
        with database_of(request).session() as session:
            record = _readable(request, session, viewer, record_id)
            return _page(
                request,
                viewer,
                "records/withdraw.html",
                {"record": record_out(record), "reason": reason, "errors": errors, "stale": stale},
                status_code=409 if stale else 422,
            )
    _screen_now(request)
    return redirect(request, f"/records/{record_id}")


# Confirming a record still stands, and following the searches that find it.


@router.post("/records/{record_id}/review")
def review(
    request: Request, viewer: ViewerDep, record_id: int, version: Annotated[int, Form(ge=1)]
) -> Response:
    """The record still stands: its review date moves on (a stale version is a 409 page)."""
    allow(viewer, *RECORD_WRITERS)
    with database_of(request).session(write=True) as session:
        service.mark_reviewed(
            session,
            viewer.principal.actor(),
            record_id,
            version,
            review_years=settings_of(request).review_years,
        )
    _screen_now(request)
    return redirect(request, f"/records/{record_id}")


@router.post("/records/{record_id}/watch")
def watch(request: Request, viewer: ViewerDep, record_id: int) -> Response:
    allow(viewer, *WATCHERS)
    with database_of(request).session(write=True) as session:
        watches.ensure_owner(session, viewer.bureau_code, record_id)
        watches.watch(session, record_id, viewer.bureau_code, viewer.name)
    return redirect(request, f"/records/{record_id}")


@router.post("/records/{record_id}/unwatch")
def unwatch(request: Request, viewer: ViewerDep, record_id: int) -> Response:
    allow(viewer, *WATCHERS)
    with database_of(request).session(write=True) as session:
        watches.ensure_owner(session, viewer.bureau_code, record_id)
        watches.unwatch(session, record_id, viewer.bureau_code, viewer.name)
    return redirect(request, f"/records/{record_id}")
