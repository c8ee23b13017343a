"""A database with a few audit entries committed, and a way to edit it behind the trail's back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bordercheck.audit.service import record_event
from bordercheck.db import Database
from tests.factories import keyed_database


@pytest.fixture
def database(fresh_url: str) -> Iterator[Database]:
    database = keyed_database(fresh_url)
    yield database
    database.dispose()


def append(database: Database, count: int, *, bureau: str = "DEU") -> None:
    with database.session(write=True) as session:
        for n in range(count):
            record_event(
                session,
                actor=f"officer.{bureau.lower()}",
                bureau_code=bureau,
                action="record.updated",
                subject=f"record:{n}",
                details={"fields": ["status"], "n": n},
            )


def edit_directly(database: Database, statement: str, **params: object) -> None:
    """Run SQL as someone who owns the database would: past the append-only triggers."""
    with database.session(write=True) as session:
        if database.is_sqlite:
            session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
            session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_delete"))
        else:
            session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        session.execute(text(statement), params)
