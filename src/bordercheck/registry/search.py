"""Listing and searching records: by number (exact or prefix), status, type, dates, incident,
review due; newest (or oldest) first, in pages a cursor continues however the table changes
meanwhile."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bordercheck.errors import FieldError, ValidationFailed
from bordercheck.registry.models import Record

MAX_PAGE = 1000
_CURSOR_PREFIX = "r1:"


@dataclass(frozen=True)
class RecordFilter:
    """What a search asks for; ``None`` leaves a criterion out. Numbers come normalised."""

    countries: frozenset[str] | None = None  # None: every country the caller may read
    document_number: str | None = None
    number_prefix: str | None = None
    status: str | None = None
    document_type: str | None = None
    blank: bool | None = None
    incident_ref: str | None = None
    event_from: date | None = None
    event_to: date | None = None
    created_from: date | None = None
    created_to: date | None = None
    review_due_by: date | None = None
    include_withdrawn: bool = False
    oldest_first: bool = False


@dataclass(frozen=True)
class RecordPage:
    records: Sequence[Record]
    next_cursor: str | None


def encode_cursor(record_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{record_id}".encode()).decode()


def decode_cursor(cursor: str, field: str = "cursor") -> int:
    """The id a page ended at; a cursor not made here is a 422 naming ``field``."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 10:
        raise ValidationFailed(
            errors=[
                FieldError(field, "is not the cursor of a previous page; leave it out to start")
            ]
        )
    return int(number)


def _query(criteria: RecordFilter) -> Select[Record]:
    query = select(Record)
    if criteria.countries is not None:
        query = query.where(Record.issuing_country.in_(sorted(criteria.countries)))
    if not criteria.include_withdrawn:
        query = query.where(Record.active)
    if criteria.document_number is not None:
        query = query.where(Record.document_number == criteria.document_number)
    if criteria.number_prefix is not None:
        query = query.where(Record.document_number.startswith(criteria.number_prefix))
    equal = (
        (Record.status, criteria.status),
        (Record.document_type, criteria.document_type),
        (Record.blank, criteria.blank),
        (Record.incident_ref, criteria.incident_ref),
    )
    for column, value in equal:
        if value is not None:
            query = query.where(column == value)
    if criteria.event_from is not None:
        query = query.where(Record.event_date >= criteria.event_from)
    if criteria.event_to is not None:
        query = query.where(Record.event_date <= criteria.event_to)
    if criteria.created_from is not None:
        query = query.where(Record.created_at >= _midnight(criteria.created_from))
    if criteria.created_to is not None:
        query = query.where(Record.created_at < _midnight(criteria.created_to + timedelta(days=1)))
    if criteria.review_due_by is not None:
        query = query.where(Record.review_due <= criteria.review_due_by)
    return query


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def search_records(
    session: Session, criteria: RecordFilter, *, limit: int = 100, after: int | None = None
) -> RecordPage:
    """One page of records matching ``criteria``, newest first (or oldest first, as the
    criteria say); ``after`` continues a page. Ids follow the order records were made in."""
    limit = max(1, min(limit, MAX_PAGE))
    query = _query(criteria)
    if criteria.oldest_first:
        if after is not None:
            query = query.where(Record.id > after)
        query = query.order_by(Record.id)
    else:
        if after is not None:
            query = query.where(Record.id < after)
        query = query.order_by(Record.id.desc())
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return RecordPage(rows, encode_cursor(rows[-1].id) if more else None)
