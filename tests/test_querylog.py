"""The query log: each request waits for the commit of its own entries; many requests share
a transaction; a log that cannot be written refuses (503) instead of holding or dropping."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from bordercheck.db import Database
from bordercheck.migrations import upgrade
from bordercheck.screening.models import ScreeningMatch, ScreeningQuery
from bordercheck.screening.querylog import (
    QUERY_ID_LENGTH,
    CleanQueries,
    LoggedMatch,
    LoggedQuery,
    QueryLogUnavailable,
    QueryLogWriter,
    new_query_ids,
    write_parts,
)
from tests.conftest import FreshDatabases
from tests.factories import case_opener, keyed_database, secret_key

WAIT = 30  # seconds a commit may take on a loaded machine before a test fails


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


def test_an_answer_waits_for_its_commit_and_requests_share_transactions(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()])
    # Twenty-five requests arrive while the writer is busy (here: not started yet).
    waiting = [
        writer.record([entry(n, (LoggedMatch(7, "exact", 1.0),) if n % 1000 == 0 else ())
                       for n in range(first, first + 100)])
        for first in range(0, 2500, 100)
    ]  # fmt: skip
    assert not any(future.done() for future in waiting)
    assert (writer.pending, counts(database)) == (2500, (0, 0))
    writer.start()
    for future in waiting:
        future.result(timeout=WAIT)  # resolved: so the rows are there
    assert counts(database) == (2500, 3)
    assert (writer.commits, writer.pending) == (1, 0)  # one transaction for all of them
    one = writer.record([entry(9999)])
    one.result(timeout=WAIT)
    assert counts(database) == (2501, 3)
    writer.stop()
    database.dispose()


def test_stop_commits_what_is_still_waiting(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()])
    waiting = writer.record([entry(1), entry(2)])
    writer.start()
    writer.stop()
    assert waiting.done()
    assert waiting.exception() is None
    assert counts(database) == (2, 0)
    database.dispose()


def test_a_log_that_cannot_be_written_answers_503_then_recovers_by_itself(
    fresh_databases: FreshDatabases, backend: str
) -> None:
    url = fresh_databases.url(backend, migrate=False)
    database = keyed_database(url)
    writer = QueryLogWriter(database, on_hits=[case_opener()], retry_seconds=0.05)
    writer.start()
    with pytest.raises(QueryLogUnavailable) as failed:  # no tables yet: the write fails
        writer.record([entry(1)]).result(timeout=WAIT)
    assert failed.value.status_code == 503
    assert failed.value.detail["retry_after"] >= 1
    assert writer.failing is not None
    with pytest.raises(QueryLogUnavailable, match="cannot be written"):
        writer.record([entry(2)])  # refused at once: nothing piles up meanwhile
    assert writer.pending == 0
    upgrade(url, secret_key=secret_key())
    deadline = time.monotonic() + WAIT
    while writer.failing is not None:
        assert time.monotonic() < deadline, "the writer did not notice the database is back"
        time.sleep(0.01)
    writer.record([entry(3)]).result(timeout=WAIT)
    writer.stop()
    assert counts(database) == (1, 0)  # the two refused requests were told; nothing else lost
    assert writer.refused == 2
    database.dispose()


def test_memory_is_bounded_and_a_full_log_refuses_rather_than_drops(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()], max_pending=3)
    waiting = [writer.record([entry(n)]) for n in range(3)]
    with pytest.raises(QueryLogUnavailable, match="waiting for the database"):
        writer.record([entry(3)])
    assert (writer.pending, writer.refused) == (3, 1)
    writer.start()
    for future in waiting:
        future.result(timeout=WAIT)
    writer.stop()
    assert counts(database) == (3, 0)
    database.dispose()


def test_an_entry_the_database_refuses_does_not_hold_up_the_others(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()])
    first: Future[None] = writer.record([entry(1)])
    again = writer.record([entry(1)])  # the same id twice: the database refuses the second
    other = writer.record([entry(2)])
    writer.start()
    first.result(timeout=WAIT)
    other.result(timeout=WAIT)
    with pytest.raises(QueryLogUnavailable, match="refused"):
        again.result(timeout=WAIT)
    writer.stop()
    assert (writer.pending, writer.rejected, writer.failing) == (0, 1, None)
    assert counts(database) == (2, 0)
    database.dispose()


def test_a_request_that_stops_waiting_is_logged_and_the_writer_goes_on(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()])
    gone = writer.record([entry(1)])
    assert gone.cancel()  # its client went away before the commit
    writer.start()
    writer.record([entry(2)]).result(timeout=WAIT)
    writer.stop()
    assert counts(database) == (2, 0)
    database.dispose()


def test_after_stop_the_log_refuses_rather_than_leave_a_request_waiting(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()])
    waiting = writer.record([entry(1)])
    writer.stop()  # never started: it writes what waits all the same
    assert waiting.result(timeout=0) is None
    with pytest.raises(QueryLogUnavailable, match="stopping"):
        writer.record([entry(2)])
    assert counts(database) == (1, 0)
    database.dispose()


def test_query_ids_are_unique_hexadecimal_and_sort_in_the_order_they_were_made() -> None:
    made = []
    for count in (1, 3, 1, 10_000, 2):
        ids = new_query_ids(count)
        assert len(ids) == count * QUERY_ID_LENGTH
        made.append([ids[i : i + QUERY_ID_LENGTH] for i in range(0, len(ids), QUERY_ID_LENGTH)])
        time.sleep(0.002)
    every = [query_id for request in made for query_id in request]
    assert all(len(i) == QUERY_ID_LENGTH and int(i, 16) >= 0 for i in every)
    assert len(set(every)) == len(every)
    # Each request's ids share its millisecond; a later request's all sort after them.
    assert all(len({query_id[:12] for query_id in request}) == 1 for request in made)
    for earlier, later in pairwise(made):
        assert max(earlier) < min(later)
    stamp = int(made[0][0][:12], 16) / 1000
    assert abs(stamp - time.time()) < 60
    # The rest is random: 10,000 ids of one request, nearly all apart in their next 8.
    assert len({query_id[12:20] for query_id in made[3]}) > 9_980


def test_entries_are_stored_as_given_whatever_their_text(fresh_url: str) -> None:
    """The log's rows travel as one JSON text on SQLite: quotes, backslashes, letters of
    every script, text that reads as a number or as JSON, and missing values come back as
    they were given, in both forms a request hands the log."""
    database = keyed_database(fresh_url)
    awkward = ['Q"1\\2', "ÉÅ'Ø—名", "00123", "null", '{"a": 1}', "  x  ", "\t\n"]
    entries = [
        replace(entry(n), location=text, document_number=f"N{n}{text}"[:24],
                operation_id=None if n % 2 else text, issuing_country=None)
        for n, text in enumerate(awkward)
    ]  # fmt: skip
    at = datetime(2026, 12, 6, 23, 59, 59, 999_999, tzinfo=UTC)
    ids = new_query_ids(2)
    columns = CleanQueries(
        ids, at, "client", "gate 'A'", "FRA", None, "op-1", "batch",
        ["C01", 'X"Y'], ["DEU", "ITA"], [None, "passport"],
    )  # fmt: skip
    with database.session(write=True) as session:
        write_parts(session, [entries, columns], on_hits=[])
    with database.session() as session:
        stored = {row.id: row for row in session.scalars(select(ScreeningQuery))}
    for given in entries:
        row = stored[given.id]
        assert (row.location, row.document_number, row.operation_id, row.issuing_country) == (
            given.location, given.document_number, given.operation_id, None,
        )  # fmt: skip
        assert row.match_count == 0
        assert row.result == "no_hit"
    first, second = stored[ids[:32]], stored[ids[32:]]
    assert (first.document_number, first.document_type, first.principal_name) == (
        "C01", None, "gate 'A'",
    )  # fmt: skip
    assert (second.document_number, second.issuing_country, second.document_type) == (
        'X"Y', "ITA", "passport",
    )  # fmt: skip
    assert second.at == at
    assert second.location is None
    database.dispose()
