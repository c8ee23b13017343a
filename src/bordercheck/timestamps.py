"""Time in bordercheck: aware datetimes in UTC, from one clock and one column type.

Every timestamp column is a ``UtcDateTime``: what is written is converted to UTC, and what
is read comes back aware, in UTC, whatever the database (SQLite keeps no zone; PostgreSQL
answers in the session's). Code that reads a timestamp never repairs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Now, aware, in UTC: the one clock of the system of record."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; one without a zone is taken to be in UTC already.

    For what comes from outside (a date a caller typed, a parameter) and for the column type
    below: SQLite hands back the zone-less UTC it stored.
    """
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp column: stored in UTC, read back aware in UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)
