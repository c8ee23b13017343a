"""The query log: written off the request path, nothing lost on a clean stop or a hiccup."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bordercheck.db import Database
from bordercheck.migrations import upgrade
from bordercheck.screening.models import ScreeningMatch, ScreeningQuery
from bordercheck.screening.querylog import LoggedMatch, LoggedQuery, QueryLogWriter


def entry(n: int, matches: tuple[LoggedMatch, ...] = ()) -> LoggedQuery:
    return LoggedQuery(
        id=f"{n:032x}",
        at=datetime.now(UTC),
        principal_kind="user",
        principal_name="border.fra",
        bureau_code="FRA",
        location="CDG-T2",
        operation_id=None,
        source="number",
        document_number=f"C01X{n:05d}",
        issuing_country="DEU",
        document_type="passport",
        result="hit" if matches else "no_hit",
        matches=matches,
    )


def counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        queries = session.scalar(select(func.count()).select_from(ScreeningQuery)) or 0
        matches = session.scalar(select(func.count()).select_from(ScreeningMatch)) or 0
    return queries, matches


def test_entries_are_written_in_batches_and_all_of_them_on_stop(fresh_url: str) -> None:
    database = Database(fresh_url)
    writer = QueryLogWriter(database, flush_interval=60)  # only stop() will flush
    writer.start()
    for n in range(2500):
        writer.record(entry(n, (LoggedMatch(7, "exact", 1.0),) if n % 1000 == 0 else ()))
    assert counts(database) == (0, 0)  # nothing written on the caller's path
    writer.stop()
    assert counts(database) == (2500, 3)
    assert writer.pending == 0
    database.dispose()


def test_entries_wait_while_the_database_cannot_take_them(fresh_databases, backend: str) -> None:  # type: ignore[no-untyped-def]
    url = fresh_databases.url(backend, migrate=False)
    database = Database(url)
    writer = QueryLogWriter(database)
    writer.record(entry(1))
    writer.record(entry(2))
    assert writer.flush() == 0  # no tables yet: the write fails, the entries stay
    assert writer.pending == 2
    upgrade(url)
    assert writer.flush() == 2
    assert counts(database) == (2, 0)
    database.dispose()


def test_memory_is_bounded_and_drops_are_counted(fresh_url: str) -> None:
    database = Database(fresh_url)
    writer = QueryLogWriter(database, max_pending=3)
    for n in range(5):
        writer.record(entry(n))
    assert (writer.pending, writer.dropped) == (3, 2)
    writer.flush()
    database.dispose()


def test_an_entry_the_database_refuses_does_not_hold_up_the_others(fresh_url: str) -> None:
    database = Database(fresh_url)
    writer = QueryLogWriter(database)
    writer.record(entry(1))
    writer.record(entry(1))  # the same id twice: the database refuses the second
    writer.record(entry(2))
    assert writer.flush() == 2
    assert (writer.pending, writer.rejected) == (0, 1)
    assert counts(database) == (2, 0)
    database.dispose()
