"""The audit trail: searched with the API's filters, and its chain verified as
``bordercheck audit verify`` verifies it, through the checkpoints the server signs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query, Request, Response

from bordercheck.audit import service
from bordercheck.audit.api import MAX_PAGE
from bordercheck.audit.chain import ChainReport
from bordercheck.audit.checkpointing import trusted_checkpoints
from bordercheck.audit.checkpoints import Checkpoint, CheckpointError, Refusal
from bordercheck.auth.api import ADMINS
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.admin import page
from bordercheck.web.i18n import N_
from bordercheck.web.render import translate
from bordercheck.web.routing import console_router

router = console_router()
PAGE_SIZE = min(50, MAX_PAGE)
LABELS = {
    "action": N_("Action"),
    "actor": N_("Who"),
    "subject": N_("Subject"),
    "bureau": N_("Bureau"),
    "since": N_("From"),
    "until": N_("To"),
}
NOT_A_DAY = N_("Enter a date such as 2026-12-06.")


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@router.get("/admin/audit")
def search(
    request: Request,
    viewer: ViewerDep,
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=100)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
    bureau: Annotated[str, Query(max_length=3)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Newest first, a page at a time; ``until`` includes its whole day."""
    allow(viewer, *ADMINS)
    form = {"action": action, "actor": actor, "subject": subject, "bureau": bureau,
            "since": since, "until": until}  # fmt: skip
    days: dict[str, date | None] = {}
    errors: dict[str, str] = {}
    for name in ("since", "until"):
        try:
            days[name] = _day(form[name])
        except ValueError:
            errors[name] = translate(language_of(request, viewer), NOT_A_DAY)
    if not errors and days["since"] and days["until"] and days["since"] > days["until"]:
        errors["until"] = translate(
            language_of(request, viewer), N_("The To day comes before the From day.")
        )
    context: dict[str, Any] = {"form": form, "errors": errors, "labels": LABELS}
    if errors:
        return page(request, viewer, "audit.html", context | {"entries": None}, status_code=422)
    start, end = days["since"], days["until"]
    criteria = service.AuditFilter(
        bureau_code=service.searchable_bureau(viewer.principal, bureau.strip() or None),
        action=action.strip() or None,
        actor=actor.strip() or None,
        subject=subject.strip() or None,
        since=datetime.combine(start, time(), UTC) if start else None,
        until=datetime.combine(end + timedelta(days=1), time(), UTC) if end else None,
    )
    with database_of(request).session() as session:
        found = service.search(session, criteria, limit=PAGE_SIZE, before=before)
        entries = [
            {"entry": entry, "details": json.loads(entry.details)} for entry in found.entries
        ]
        query = {key: value for key, value in form.items() if value}
        context |= {"entries": entries, "next_cursor": found.next_cursor, "query": query}
        return page(request, viewer, "audit.html", context)


@dataclass(frozen=True)
class Verification:
    report: ChainReport
    checkpoints: int
    latest: Checkpoint | None
    refusals: list[Refusal]
    unreadable: str | None


@router.get("/admin/audit/verify")
def verify(request: Request, viewer: ViewerDep) -> Response:
    """Every entry checked from the first, through every checkpoint in the server's
    checkpoint directory when it has one (a refused checkpoint fails the check)."""
    allow(viewer, *ADMINS)
    settings = settings_of(request)
    found, unreadable = None, None
    directory = settings.audit_checkpoint_dir
    if directory is not None and directory.exists():
        try:
            found = trusted_checkpoints(settings, directory)
        except CheckpointError as exc:
            unreadable = exc.message
    checkpoints = found.checkpoints if found else []
    with database_of(request).session() as session:
        report = service.verify(session, pins=[c.pin() for c in checkpoints])
    result = Verification(
        report=report,
        checkpoints=len(checkpoints),
        latest=max(checkpoints, key=lambda c: c.seq) if checkpoints else None,
        refusals=found.refusals if found else [],
        unreadable=unreadable,
    )
    context = {"result": result, "directory": directory}
    return page(request, viewer, "verify.html", context)
