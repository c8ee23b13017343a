"""A bureau's console notifications: list them, mark them read, and post those that are not
about a case (hit events post theirs through ``hits.events.announce``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.hits.models import Notification

TEXT_LENGTH = 500


def notify_bureaus(
    session: Session, bureaus: Sequence[str], kind: str, text: str, now: datetime
) -> None:
    """Post one line, not about any case, to each of ``bureaus``' consoles."""
    if not bureaus:
        return
    session.execute(
        insert(Notification),
        [
            {"bureau_code": bureau, "kind": kind, "text": text[:TEXT_LENGTH], "created_at": now}
            for bureau in sorted(set(bureaus))
        ],
    )


def list_notifications(
    session: Session,
    bureau: str,
    *,
    unread_only: bool = False,
    before: int | None = None,
    limit: int = 100,
) -> list[Notification]:
    """Newest first."""
    query = select(Notification).where(Notification.bureau_code == bureau)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, bureau: str) -> int:
    query = select(func.count()).where(
        Notification.bureau_code == bureau, Notification.read_at.is_(None)
    )
    return session.scalar(query) or 0


def mark_read(
    session: Session, bureau: str, by: str, now: datetime, ids: Sequence[int] | None = None
) -> int:
    """Mark the bureau's notifications read (``ids``, or all); returns how many changed.

    Ids of other bureaus' notifications are left alone, without saying they exist.
    """
    query = update(Notification).where(
        Notification.bureau_code == bureau, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    marked = session.execute(query.values(read_at=now, read_by=by).returning(Notification.id))
    ids_marked = list(marked.scalars())
    if ids_marked:
        # Read for the whole bureau: a colleague no longer sees them as new.
        record_event(
            session,
            actor=by,
            bureau_code=bureau,
            action="notifications.read",
            subject=f"notifications:{bureau}",
            details={"notifications": len(ids_marked), "up_to": max(ids_marked)},
        )
    return len(ids_marked)
