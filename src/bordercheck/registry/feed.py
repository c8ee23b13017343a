"""The changes feed: one entry per change to a record, numbered without gaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bordercheck.registry.bulk import insert_rows
from bordercheck.registry.models import Change, ChangeKind, FeedCounter, Record, changes_table

FEED_COUNTER_ID = 1


def reserve_sequence(session: Session, count: int) -> int:
    """Reserve ``count`` sequence numbers and return the first. Locks the row until commit."""
    last = session.execute(
        update(FeedCounter)
        .where(FeedCounter.id == FEED_COUNTER_ID)
        .values(last_seq=FeedCounter.last_seq + count)
        .returning(FeedCounter.last_seq)
    ).scalar_one()
    return int(last) - count + 1


def change_row(
    record: Record | dict[str, object], kind: ChangeKind, at: datetime
) -> dict[str, object]:
    """The feed entry's columns for a record (an ORM object or a row of a bulk insert)."""
    get = record.get if isinstance(record, dict) else lambda name: getattr(record, name)
    return {
        "record_id": get("id"),
        "version": get("version"),
        "kind": kind.value,
        "active": get("withdrawn_key") == 0,
        "document_number": get("document_number"),
        "serial_end": get("serial_end"),
        "issuing_country": get("issuing_country"),
        "document_type": get("document_type"),
        "status": get("status"),
        "blank": get("blank"),
        "changed_at": at,
    }


def append_changes(session: Session, rows: Sequence[dict[str, object]]) -> None:
    if not rows:
        return
    first = reserve_sequence(session, len(rows))
    insert_rows(session, changes_table, [{"seq": first + i, **row} for i, row in enumerate(rows)])


def changes_since(session: Session, since: int, limit: int = 1000) -> list[Change]:
    """Feed entries after ``since``, oldest first; a follower passes the last seq it applied."""
    return list(
        session.scalars(select(Change).where(Change.seq > since).order_by(Change.seq).limit(limit))
    )


def last_sequence(session: Session) -> int:
    return int(
        session.scalar(select(FeedCounter.last_seq).where(FeedCounter.id == FEED_COUNTER_ID)) or 0
    )
