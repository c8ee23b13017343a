"""The contact directory: every bureau's focal points, searched and saved as vCards; each
bureau adds, edits, confirms and removes its own (administrators: any bureau's).

The pages call the directory service as ``/api/v1/directory`` does, with the same roles and
the same checks of each field; changing an entry does not confirm it, as in the API.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Path, Query, Request, Response
from pydantic import ValidationError

from bordercheck.directory import export, service
from bordercheck.directory.models import DirectoryEntry, Topic
from bordercheck.directory.schemas import EntryChanges, EntryFields
from bordercheck.directory.service import KEEPERS, READERS
from bordercheck.errors import FieldError, Forbidden, ValidationFailed
from bordercheck.timestamps import utcnow
from bordercheck.web.access import ViewerDep, allow, database_of, language_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

PAGE_SIZE = 100
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Page = Annotated[int, Query(ge=1, le=10_000)]
Text = Annotated[str, Form(max_length=300)]
FIELDS = ("name", "function", "unit", "phone", "email", "hours", "time_zone")
FIELD_LABELS = {
    "country": N_("Country"),
    "topic": N_("Topic"),
    "language": N_("Language spoken"),
    "name": N_("Name"),
    "function": N_("Function"),
    "unit": N_("Unit"),
    "topics": N_("Topics"),
    "languages": N_("Languages spoken"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "hours": N_("Hours"),
    "time_zone": N_("Time zone"),
}
TOPICS = {
    "migrant_smuggling": N_("Migrant smuggling"),
    "illegal_migration": N_("Illegal migration"),
    "document_fraud": N_("Document fraud"),
    "human_trafficking": N_("Human trafficking"),
    "identity_fraud": N_("Identity fraud"),
    "stolen_documents": N_("Stolen documents"),
}
_SEPARATORS = re.compile(r"[\s,;]+")


def _may_change(viewer: Viewer, bureau_code: str) -> bool:
    try:
        service.ensure_may_change(viewer.principal.actor(), bureau_code)
    except Forbidden:
        return False
    return True


def _view(entry: DirectoryEntry, today: date) -> dict[str, Any]:
    return {
        "id": entry.id,
        "bureau": entry.bureau_code,
        **{name: getattr(entry, name) for name in FIELDS},
        "topics": service.topics_of(entry),
        "languages": service.languages_of(entry),
        "last_confirmed": entry.last_confirmed,
        "stale": service.is_stale(entry, today),
        "updated_at": entry.updated_at,
        "updated_by": entry.updated_by,
    }


def _page(
    request: Request, viewer: Viewer, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    return render(
        request,
        template,
        {"viewer": viewer, "labels": FIELD_LABELS, "topic_names": TOPICS} | context,
        language=language_of(request, viewer),
        status_code=status,
    )


# --- search and export ------------------------------------------------------------------


def _search(
    country: str, topic: str, language: str, stale: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The search's filters as the service takes them, or what is wrong with them."""
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {"topic": None, "stale": {"yes": True, "no": False}.get(stale)}
    if topic:
        if topic in TOPICS:
            filters["topic"] = Topic(topic)
        else:
            errors["topic"] = f"{topic!r} is not a topic"
    try:
        filters["country"], filters["language"] = service.check_filters(
            country.strip() or None, language.strip() or None
        )
    except ValidationFailed as exc:
        errors |= {error.field: error.reason for error in exc.errors}
    return filters, errors


@router.get("/directory")
def search_page(
    request: Request,
    viewer: ViewerDep,
    country: Annotated[str, Query(max_length=100)] = "",
    topic: Annotated[str, Query(max_length=40)] = "",
    language: Annotated[str, Query(max_length=20)] = "",
    stale: Annotated[str, Query(max_length=3)] = "",
    page: Page = 1,
) -> Response:
    allow(viewer, *READERS)
    form = {"country": country, "topic": topic, "language": language, "stale": stale}
    filters, errors = _search(country, topic, language, stale)
    if errors:
        context = {"form": form, "errors": errors, "entries": [], "page": 1, "more": False}
        return _page(request, viewer, "directory/search.html", context, 422)
    today = utcnow().date()
    with database_of(request).session() as session:
        found = service.search_entries(
            session, today=today, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, **filters
        )
        entries = [_view(entry, today) for entry in found[:PAGE_SIZE]]
    query = urlencode({k: v for k, v in form.items() if v})
    context = {
        "form": form,
        "errors": {},
        "entries": entries,
        "page": page,
        "more": len(found) > PAGE_SIZE,
        "query": query,
        "may_add": viewer.role in KEEPERS,
    }
    return _page(request, viewer, "directory/search.html", context)


def _vcards(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/vcard; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/directory.vcf")
def export_vcards(
    request: Request,
    viewer: ViewerDep,
    country: Annotated[str, Query(max_length=100)] = "",
    topic: Annotated[str, Query(max_length=40)] = "",
    language: Annotated[str, Query(max_length=20)] = "",
    stale: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    """The search's entries (all of them, not one page) as vCards, as the API exports them."""
    allow(viewer, *READERS)
    filters, errors = _search(country, topic, language, stale)
    if errors:
        raise ValidationFailed(errors=[FieldError(k, v) for k, v in errors.items()])
    today = utcnow().date()
    with database_of(request).session() as session:
        entries = service.search_entries(session, today=today, limit=10_000, **filters)
        body = export.vcards(entries, service.bureau_names(session), today)
    return _vcards(body, "directory.vcf")


@router.get("/directory/new")
def new_entry_page(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *KEEPERS)
    return _editor(request, viewer, form=_form_of(None), errors={})


# --- one entry --------------------------------------------------------------------------


@router.get("/directory/{entry_id}")
def entry_page(request: Request, viewer: ViewerDep, entry_id: EntryId) -> Response:
    allow(viewer, *READERS)
    today = utcnow().date()
    with database_of(request).session() as session:
        entry = service.get_entry(session, entry_id)
        bureau = service.bureau_names(session).get(entry.bureau_code, entry.bureau_code)
        context = {
            "entry": _view(entry, today),
            "bureau_name": bureau,
            "may_change": _may_change(viewer, entry.bureau_code),
        }
    return _page(request, viewer, "directory/entry.html", context)


@router.get("/directory/{entry_id}/vcard")
def entry_vcard(request: Request, viewer: ViewerDep, entry_id: EntryId) -> Response:
    allow(viewer, *READERS)
    today = utcnow().date()
    with database_of(request).session() as session:
        entry = service.get_entry(session, entry_id)
        bureau = service.bureau_names(session).get(entry.bureau_code, entry.bureau_code)
        body = export.vcard(entry, bureau, today)
    return _vcards(body, f"directory-{entry_id}.vcf")


# --- a bureau's own entries -------------------------------------------------------------


def _fields(
    form: dict[str, Any], model: type[EntryFields] | type[EntryChanges]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values checked as the API checks them: ``(values, errors by field)``."""
    values = {name: form[name] for name in FIELDS} | {
        "topics": form["topics"],
        "languages": [code for code in _SEPARATORS.split(form["languages"]) if code],
    }
    try:
        checked = model.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for item in exc.errors():
            name = str(item["loc"][0]) if item["loc"] else "name"
            errors.setdefault(name, str(item["msg"]).removeprefix("Value error, "))
        return {}, errors
    return checked.model_dump(exclude_unset=True), {}


def _changed(form: dict[str, Any], loaded: str) -> set[str] | None:
    """The fields that differ from the values the form was opened with (None: unknown)."""
    try:
        before = json.loads(loaded)
    except ValueError:
        return None
    if not isinstance(before, dict):
        return None
    return {name for name, value in form.items() if before.get(name) != value}


def _form_of(entry: DirectoryEntry | None) -> dict[str, Any]:
    if entry is None:
        return dict.fromkeys(FIELDS, "") | {"topics": [], "languages": ""}
    return {name: getattr(entry, name) for name in FIELDS} | {
        "topics": service.topics_of(entry),
        "languages": " ".join(service.languages_of(entry)),
    }


def _editor(
    request: Request,
    viewer: Viewer,
    *,
    form: dict[str, Any],
    errors: dict[str, str],
    entry_id: int | None = None,
    bureau: str = "",
    loaded: str = "",
    status: int = 200,
) -> Response:
    context = {
        "form": form,
        "loaded": loaded or json.dumps(form),
        "errors": errors,
        "entry_id": entry_id,
        "bureau": bureau or viewer.bureau_code,
        "topics": list(TOPICS),
    }
    return _page(request, viewer, "directory/edit.html", context, status)


class EntryForm:
    """An entry's form as posted (checked afterwards, as the API checks a body)."""

    def __init__(
        self,
        name: Text = "",
        function: Text = "",
        unit: Text = "",
        topics: Annotated[list[str], Form(max_length=len(Topic))] = [],  # noqa: B006
        languages: Text = "",
        phone: Text = "",
        email: Text = "",
        hours: Text = "",
        time_zone: Text = "",
    ) -> None:
        self.values: dict[str, Any] = {
            "name": name,
            "function": function,
            "unit": unit,
            "topics": topics,
            "languages": languages,
            "phone": phone,
            "email": email,
            "hours": hours,
            "time_zone": time_zone,
        }


EntryFormDep = Annotated[EntryForm, Depends()]


@router.post("/directory")
def add_entry(
    request: Request,
    viewer: ViewerDep,
    posted: EntryFormDep,
) -> Response:
    allow(viewer, *KEEPERS)
    form = posted.values
    values, errors = _fields(form, EntryFields)
    if errors:
        return _editor(request, viewer, form=form, errors=errors, status=422)
    with database_of(request).session(write=True) as session:
        entry = service.add_entry(session, viewer.principal.actor(), EntryFields(**values))
        entry_id = entry.id
    return redirect(request, f"/directory/{entry_id}")


@router.get("/directory/{entry_id}/edit")
def edit_entry_page(request: Request, viewer: ViewerDep, entry_id: EntryId) -> Response:
    allow(viewer, *KEEPERS)
    with database_of(request).session() as session:
        entry = service.get_entry(session, entry_id)
        service.ensure_may_change(viewer.principal.actor(), entry.bureau_code)
        form, bureau = _form_of(entry), entry.bureau_code
    return _editor(request, viewer, form=form, errors={}, entry_id=entry_id, bureau=bureau)


@router.post("/directory/{entry_id}/edit")
def edit_entry(
    request: Request,
    viewer: ViewerDep,
    entry_id: EntryId,
    posted: EntryFormDep,
    loaded: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    allow(viewer, *KEEPERS)
    form = posted.values
    with database_of(request).session(write=True) as session:
        entry = service.get_entry(session, entry_id)
        service.ensure_may_change(viewer.principal.actor(), entry.bureau_code)
        bureau = entry.bureau_code
        values, errors = _fields(form, EntryChanges)
        if not errors:
            # As PATCH /directory/{id}: only the fields this person changed are sent, so an
            # edit made meanwhile by someone else to other fields stays; it does not confirm.
            changed = _changed(form, loaded)
            values = {k: v for k, v in values.items() if changed is None or k in changed}
            service.update_entry(session, viewer.principal.actor(), entry_id, values)
    if errors:
        return _editor(
            request,
            viewer,
            form=form,
            errors=errors,
            entry_id=entry_id,
            bureau=bureau,
            loaded=loaded,
            status=422,
        )
    return redirect(request, f"/directory/{entry_id}")


@router.post("/directory/{entry_id}/confirm")
def confirm_entry(request: Request, viewer: ViewerDep, entry_id: EntryId) -> Response:
    allow(viewer, *KEEPERS)
    with database_of(request).session(write=True) as session:
        service.confirm_entry(session, viewer.principal.actor(), entry_id)
    return redirect(request, f"/directory/{entry_id}")


@router.get("/directory/{entry_id}/remove")
def remove_entry_page(request: Request, viewer: ViewerDep, entry_id: EntryId) -> Response:
    allow(viewer, *KEEPERS)
    today = utcnow().date()
    with database_of(request).session() as session:
        entry = service.get_entry(session, entry_id)
        service.ensure_may_change(viewer.principal.actor(), entry.bureau_code)
        context = {"entry": _view(entry, today)}
    return _page(request, viewer, "directory/remove.html", context)


@router.post("/directory/{entry_id}/remove")
def remove_entry(request: Request, viewer: ViewerDep, entry_id: EntryId) -> Response:
    allow(viewer, *KEEPERS)
    with database_of(request).session(write=True) as session:
        service.delete_entry(session, viewer.principal.actor(), entry_id)
    return redirect(request, "/directory")
