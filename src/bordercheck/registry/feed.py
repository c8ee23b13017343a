"""The changes feed: one entry per change to a record, numbered without gaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, String, func, insert, literal, select, update
from sqlalchemy.orm import Session

from bordercheck.registry.bulk import insert_rows
from bordercheck.registry.models import Change, ChangeKind, FeedCounter, Record, changes_table
from bordercheck.timestamps import UtcDateTime

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
        "restricted": bool(get("withheld_from")),
        "withheld_from": get("withheld_from") or None,
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


def append_record_changes(
    session: Session, record_ids: Sequence[int], kind: ChangeKind, at: datetime
) -> None:
    """One entry per record in ``record_ids`` (ascending), copied from the records in the database.

    The database copies the columns itself, so a bulk import does not send every record twice.
    """
    if not record_ids:
        return
    first = reserve_sequence(session, len(record_ids))
    lowest, highest = record_ids[0], record_ids[-1]
    if highest - lowest + 1 == len(record_ids):
        # Ids handed out in one go are usually consecutive: a range scan, not a list of ids.
        chosen = Record.id.between(lowest, highest)
    else:
        chosen = Record.id.in_(record_ids)
    rows = select(
        literal(first - 1, Integer) + func.row_number().over(order_by=Record.id),
        Record.id,
        Record.version,
        literal(kind.value, String),
        Record.withdrawn_key == 0,
        func.coalesce(Record.withheld_from, "") != "",  # as change_row's bool(withheld_from)
        Record.withheld_from,
        Record.document_number,
        Record.serial_end,
        Record.issuing_country,
        Record.document_type,
        Record.status,
        Record.blank,
        literal(at, UtcDateTime()),
    ).where(chosen)
    columns = [
        "seq",
        "record_id",
        "version",
        "kind",
        "active",
        "restricted",
        "withheld_from",
        "document_number",
        "serial_end",
        "issuing_country",
        "document_type",
        "status",
        "blank",
        "changed_at",
    ]
    session.execute(insert(changes_table).from_select(columns, rows))


def changes_since(session: Session, since: int, limit: int = 1000) -> list[Change]:
    """Feed entries after ``since``, oldest first; a follower passes the last seq it applied."""
    return list(
        session.scalars(select(Change).where(Change.seq > since).order_by(Change.seq).limit(limit))
    )


def last_sequence(session: Session) -> int:
    return int(
        session.scalar(select(FeedCounter.last_seq).where(FeedCounter.id == FEED_COUNTER_ID)) or 0
    )
