"""``/records`` and ``/changes``: bureaus keep their records; followers read the feed.

Only the issuing country's bureau (or an administrator) changes a record. Reading one is
for that bureau, the secretariat's analysts and administrators (``auth.policy``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bordercheck.api.deps import (
    READ_METHODS,
    Principal,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    require_roles,
)
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import MAX_ID, MAX_SEQUENCE, RecordId
from bordercheck.auth.policy import (
    RECORD_WRITERS,
    ensure_may_follow_changes,
    ensure_may_read_record,
    readable_countries,
)
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.documents.numbers import InvalidDocumentNumber, normalise_number
from bordercheck.errors import FieldError, Forbidden, ValidationFailed
from bordercheck.registry import feed, service
from bordercheck.registry.api_models import (
    BULK_LIMIT,
    BulkReport,
    BulkRequest,
    ChangeOut,
    ChangesPage,
    HistoryEntry,
    RecordChanges,
    RecordHistory,
    RecordOut,
    RecordQuery,
    RecordsPage,
    Review,
    Withdrawal,
    Withholding,
    record_out,
)
from bordercheck.registry.importer import Importer, ImportRejected
from bordercheck.registry.models import Record
from bordercheck.registry.schemas import RecordFields
from bordercheck.registry.search import RecordFilter, decode_cursor, search_records
from bordercheck.screening.live import LiveIndex
from bordercheck.timestamps import utcnow


async def _screened_before_the_answer(request: Request) -> AsyncIterator[None]:
    """Read your writes: a change is screened by this process before its answer is sent.

    Declared on the router, so it is entered before the endpoint's session and left after
    the session has committed; other processes follow the feed within its poll interval.
    """
    yield
    if request.method not in READ_METHODS:
        live: LiveIndex = request.app.state.live_index
        if live.ready:
            await run_in_threadpool(live.catch_up)


router = APIRouter(
    tags=["records"],
    dependencies=[Depends(_screened_before_the_answer, scope="function"), Depends(rate_limit)],
)
WriterDep = Annotated[Principal, Depends(require_roles(*RECORD_WRITERS))]
MAX_CHANGES_PAGE = 10_000


def _readable(session: Session, principal: Principal, secretariat: str, record_id: int) -> Record:
    record = service.get_record(session, record_id)
    ensure_may_read_record(principal, record.issuing_country, secretariat)
    return record


@router.post(
    "/records",
    response_model=RecordOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "merged into the record already held (merge=true)"}},
)
def create_record(
    fields: RecordFields,
    principal: WriterDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    merge: Annotated[
        bool, Query(description="Update the record already held for this document.")
    ] = False,
) -> RecordOut:
    """Record a document; a duplicate is refused (409 naming the record) unless ``merge``."""
    started = utcnow()
    record = service.create_record(
        session, principal.actor(), fields, merge=merge, review_years=settings.review_years
    )
    # A record created by this request was created after it started; a merged one before.
    if record.created_at < started:
        response.status_code = status.HTTP_200_OK
    return record_out(record)


@router.get("/records", response_model=RecordsPage)
def list_records(
    params: Annotated[RecordQuery, Query()],
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> RecordsPage:
    """List and search records, newest first: the caller's bureau's own (every country's for
    administrators and the secretariat's analysts)."""
    readable = readable_countries(principal, settings.secretariat_code)
    errors: list[FieldError] = []
    numbers: dict[str, str | None] = {"document_number": None, "number_prefix": None}
    for name in numbers:
        raw = getattr(params, name)
        if raw is not None:
            try:
                numbers[name] = normalise_number(raw)
            except InvalidDocumentNumber as exc:
                errors.append(FieldError(f"query.{name}", str(exc)))
    countries = readable
    if params.issuing_country is not None:
        try:
            country = normalise_country(params.issuing_country)
        except InvalidCountry as exc:
            errors.append(FieldError("query.issuing_country", str(exc)))
        else:
            if readable is not None and country not in readable:
                raise Forbidden(
                    f"{principal.name} may list only {', '.join(sorted(readable))} records"
                )
            countries = frozenset({country})
    after = decode_cursor(params.cursor, "query.cursor") if params.cursor is not None else None
    if errors:
        raise ValidationFailed(errors=errors)
    criteria = RecordFilter(
        countries=countries,
        document_number=numbers["document_number"],
        number_prefix=numbers["number_prefix"],
        status=params.status.value if params.status else None,
        document_type=params.document_type.value if params.document_type else None,
        blank=params.blank,
        incident_ref=params.incident_ref,
        event_from=params.event_from,
        event_to=params.event_to,
        created_from=params.created_from,
        created_to=params.created_to,
        review_due_by=params.review_due_by,
        include_withdrawn=params.include_withdrawn,
    )
    page = search_records(session, criteria, limit=params.limit, after=after)
    today = date.today()
    return RecordsPage(
        records=[record_out(record, today) for record in page.records],
        next_cursor=page.next_cursor,
    )


@router.get("/records/{record_id}", response_model=RecordOut)
def get_record(
    record_id: RecordId, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> RecordOut:
    """A record with every field, and whether its owner's review is overdue."""
    return record_out(_readable(session, principal, settings.secretariat_code, record_id))


@router.get("/records/{record_id}/history", response_model=RecordHistory)
def record_history(
    record_id: RecordId, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> RecordHistory:
    """Every version of a record, oldest first: what it said, who changed it, when, how."""
    _readable(session, principal, settings.secretariat_code, record_id)
    entries = [HistoryEntry.model_validate(e) for e in service.history(session, record_id)]
    return RecordHistory(record_id=record_id, versions=entries)


@router.patch("/records/{record_id}", response_model=RecordOut)
def update_record(
    record_id: RecordId, changes: RecordChanges, principal: WriterDep, session: SessionDep
) -> RecordOut:
    """Change the fields sent (``null`` clears one) of the record at ``version``; a stale
    version is refused (409 ``stale_version`` with the current version)."""
    values = changes.model_dump(exclude_unset=True, exclude={"version"})
    record = service.update_record(session, principal.actor(), record_id, changes.version, values)
    return record_out(record)


@router.delete("/records/{record_id}", response_model=RecordOut)
def withdraw_record(
    record_id: RecordId,
    principal: WriterDep,
    session: SessionDep,
    body: Annotated[Withdrawal | None, Body()] = None,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Or in the body.")] = None,
    reason: Annotated[str | None, Query(description="Or in the body.")] = None,
) -> RecordOut:
    """Withdraw a record (found again, reported in error): out of screening, history kept."""
    if body is not None:
        version, reason = body.version, body.reason
    missing = [name for name, value in (("version", version), ("reason", reason)) if not value]
    if missing or version is None or reason is None:
        raise ValidationFailed(
            errors=[FieldError(field=name, reason="is required") for name in missing]
        )
    record = service.withdraw_record(session, principal.actor(), record_id, version, reason)
    return record_out(record)


@router.put("/records/{record_id}/withheld-from", response_model=RecordOut)
def withhold_record(
    record_id: RecordId, body: Withholding, principal: WriterDep, session: SessionDep
) -> RecordOut:
    """Withhold the record's details from these querying countries: screening from there
    answers only "possible hit, contact the owning bureau". An empty list lifts it."""
    record = service.withhold(session, principal.actor(), record_id, body.version, body.countries)
    return record_out(record)


@router.post("/records/{record_id}/review", response_model=RecordOut)
def review_record(
    record_id: RecordId,
    body: Review,
    principal: WriterDep,
    session: SessionDep,
    settings: SettingsDep,
) -> RecordOut:
    """Confirm the record still stands: its review date moves on by the review period."""
    record = service.mark_reviewed(
        session, principal.actor(), record_id, body.version, review_years=settings.review_years
    )
    return record_out(record)


@router.post(
    "/records/bulk",
    response_model=BulkReport,
    description=(
        f"Up to {BULK_LIMIT:,} records at once, all or nothing unless `skip_invalid`: every "
        "invalid item is reported by its index and field (422, nothing written). With `merge`, "
        "an item for a document already recorded updates that record."
    ),
)
def bulk(
    body: BulkRequest, principal: WriterDep, session: SessionDep, settings: SettingsDep
) -> BulkReport:
    """Many records in one transaction."""
    importer = Importer(
        session,
        principal.actor(),
        skip_invalid=body.skip_invalid,
        merge=body.merge,
        batch_size=settings.import_batch_size,
        review_years=settings.review_years,
    )
    importer.add_rows(enumerate(body.records))
    try:
        report = importer.finish()
    except ImportRejected as exc:
        raise _rejected(exc) from None
    return BulkReport.of(report)


def _rejected(exc: ImportRejected) -> ValidationFailed:
    errors = [
        FieldError(field=f"records.{e.line}.{e.field}", reason=e.reason, line=e.line)
        for e in exc.report.errors
    ]
    failure = ValidationFailed(errors=errors)
    failure.message = f"{exc.message}: {failure.message}"
    failure.detail = {"items": exc.report.rows, "invalid_items": exc.report.rejected_rows}
    return failure


@router.get("/changes", response_model=ChangesPage)
def changes(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    since: Annotated[
        int,
        Query(ge=0, le=MAX_SEQUENCE, description="The last seq you applied (0: from the start)."),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_CHANGES_PAGE)] = 1000,
) -> ChangesPage:
    """Changes after ``since``, oldest first, numbered without gaps: a follower that sees a
    jump in ``seq`` knows it missed one. Ask again with ``since=next_since`` until
    ``next_since == last_seq``."""
    ensure_may_follow_changes(principal, settings.secretariat_code)
    entries = feed.changes_since(session, since, limit)
    last = feed.last_sequence(session)
    return ChangesPage(
        changes=[ChangeOut.model_validate(entry) for entry in entries],
        next_since=entries[-1].seq if entries else since,
        last_seq=last,
    )
