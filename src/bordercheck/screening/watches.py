"""Owners following the searches on their records: who looked for the document, where, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.errors import Forbidden
from bordercheck.screening.models import RecordWatch, ScreeningMatch, ScreeningQuery
from bordercheck.timestamps import utcnow


@dataclass(frozen=True)
class Search:
    query_id: str
    at: datetime
    bureau_code: str
    principal_name: str
    location: str | None
    operation_id: str | None
    result: str
    match: str
    score: float


def watch(session: Session, record_id: int, bureau_code: str, by: str) -> RecordWatch:
    """Start following searches on a record (again: keeps the first start)."""
    existing = _watch(session, record_id, bureau_code)
    if existing is not None:
        return existing
    row = RecordWatch(
        record_id=record_id, bureau_code=bureau_code, created_at=utcnow(), created_by=by
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a colleague started following it at the same moment
        existing = _watch(session, record_id, bureau_code)
        assert existing is not None
        return existing
    _audit(session, by, bureau_code, "record.watched", record_id)
    return row


def unwatch(session: Session, record_id: int, bureau_code: str, by: str) -> None:
    removed = session.execute(
        delete(RecordWatch)
        .where(RecordWatch.record_id == record_id, RecordWatch.bureau_code == bureau_code)
        .returning(RecordWatch.record_id)
    ).all()
    if removed:
        _audit(session, by, bureau_code, "record.unwatched", record_id)


def searches_on(
    session: Session, record_id: int, bureau_code: str, *, by: str, limit: int = 100
) -> list[Search]:
    """Searches that found the record since the bureau started watching it, newest first.

    Reading them is audited: they tell who looked for the document, where and when.
    """
    watching = _watch(session, record_id, bureau_code)
    if watching is None:
        raise Forbidden(
            f"your bureau does not follow record {record_id}; "
            f"POST /api/v1/records/{record_id}/watch first",
            record_id=record_id,
        )
    rows = session.execute(
        select(ScreeningQuery, ScreeningMatch)
        .join(ScreeningMatch, ScreeningMatch.query_id == ScreeningQuery.id)
        .where(ScreeningMatch.record_id == record_id, ScreeningQuery.at >= watching.created_at)
        .order_by(ScreeningQuery.at.desc())
        .limit(limit)
    )
    found = [
        Search(
            query_id=query.id,
            at=query.at,
            bureau_code=query.bureau_code,
            principal_name=query.principal_name,
            location=query.location,
            operation_id=query.operation_id,
            result=query.result,
            match=match.match,
            score=match.score,
        )
        for query, match in rows
    ]
    _audit(session, by, bureau_code, "record.searches_read", record_id, {"searches": len(found)})
    return found


def _audit(
    session: Session,
    by: str,
    bureau_code: str,
    action: str,
    record_id: int,
    details: dict[str, int] | None = None,
) -> None:
    record_event(
        session,
        actor=by,
        bureau_code=bureau_code,
        action=action,
        subject=f"record:{record_id}",
        details=details,
    )


def _watch(session: Session, record_id: int, bureau_code: str) -> RecordWatch | None:
    return session.scalar(
        select(RecordWatch).where(
            RecordWatch.record_id == record_id, RecordWatch.bureau_code == bureau_code
        )
    )
