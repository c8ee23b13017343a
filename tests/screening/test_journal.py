"""The query journal: clean answers are safe once appended; the journals of dead processes are
replayed once, those of live ones never taken; a journal that cannot be written refuses (503)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.screening.journal import QueryJournal, decode, replay_abandoned
from bordercheck.screening.models import ScreeningQuery
from bordercheck.screening.querylog import (
    CleanQueries,
    LoggedMatch,
    QueryLogWriter,
    write_entries,
)
from tests.factories import case_opener, keyed_database
from tests.signin import open_api
from tests.test_querylog import WAIT, counts, entry

ROOT = Path(__file__).resolve().parents[2]
# A process of its own that journals entries FIRST..LAST-1, says so, and lives until killed.
JOURNALLING = """
import sys
from pathlib import Path
from bordercheck.screening.journal import QueryJournal
from tests.test_querylog import entry
journal = QueryJournal(Path(sys.argv[1]), sync_seconds=0)
journal.start()
journal.append([entry(n) for n in range(int(sys.argv[2]), int(sys.argv[3]))])
print("journalled", flush=True)
sys.stdin.read()
"""


# The same, its entries the clean queries of one batch sent as columns (one journal line).
JOURNALLING_COLUMNS = """
import sys
from pathlib import Path
from bordercheck.screening.journal import QueryJournal
from tests.screening.test_journal import columns
journal = QueryJournal(Path(sys.argv[1]), sync_seconds=0)
journal.start()
journal.append(columns(range(int(sys.argv[2]), int(sys.argv[3]))))
print("journalled", flush=True)
sys.stdin.read()
"""


def columns(numbers: range) -> CleanQueries:
    """The clean queries of a batch sent as columns, numbered as ``entry`` numbers its own."""
    return CleanQueries(
        "".join(f"{n:032x}" for n in numbers), datetime.now(UTC), "client", "gate-7", "FRA",
        "CDG-T2", "OP-1", "batch", [f"C01X{n:05d}" for n in numbers], ["DEU"] * len(numbers),
        [None if n % 3 else "passport" for n in numbers],
    )  # fmt: skip


@contextmanager
def journalling(
    directory: Path, first: int, last: int, script: str = JOURNALLING
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(directory), str(first), str(last)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"journalled\n"
        yield process
    finally:
        process.kill()
        process.wait(timeout=WAIT)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


def logged(database: Database, query_id: str) -> bool:
    with database.session() as session:
        return session.get(ScreeningQuery, query_id) is not None


def journals(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.journal"))


def test_the_journal_of_a_killed_process_is_replayed_at_start_then_deleted(
    fresh_url: str, tmp_path: Path
) -> None:
    with journalling(tmp_path, 0, 300):
        pass  # killed (SIGKILL) here: its 300 answered entries are only in its journal
    assert len(journals(tmp_path)) == 1
    database = keyed_database(fresh_url)
    journal = QueryJournal(tmp_path)
    writer = QueryLogWriter(database, on_hits=[case_opener()], journal=journal)
    writer.start()
    # The replay runs first in the log's thread: once a later commit is done, it is done.
    writer.record([entry(1000, (LoggedMatch(7, "exact", 1.0),))]).result(timeout=WAIT)
    assert counts(database) == (301, 1)
    assert journals(tmp_path) == []
    writer.stop()
    journal.close()
    database.dispose()


def test_a_journal_replayed_twice_is_inserted_once(fresh_url: str, tmp_path: Path) -> None:
    with journalling(tmp_path, 0, 300):
        pass
    (left,) = journals(tmp_path)
    kept = tmp_path / "kept"
    shutil.copy(left, kept)
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:  # one was moved before the process died
        write_entries(session, [entry(7)], on_hits=[case_opener()])
    replay_abandoned(tmp_path, database, nullcontext)
    assert (counts(database), journals(tmp_path)) == ((300, 0), [])
    # Killed between the commit of a replay and the deletion of the journal: replayed again.
    shutil.copy(kept, left)
    replay_abandoned(tmp_path, database, nullcontext)
    assert (counts(database), journals(tmp_path)) == ((300, 0), [])
    with database.session() as session:
        ids = set(session.scalars(select(ScreeningQuery.id)))
    assert ids == {entry(n).id for n in range(300)}
    database.dispose()


def test_a_live_process_journal_is_never_taken(fresh_url: str, tmp_path: Path) -> None:
    database = keyed_database(fresh_url)
    with journalling(tmp_path, 0, 50):
        (alive,) = journals(tmp_path)
        replay_abandoned(tmp_path, database, nullcontext)
        assert (counts(database), journals(tmp_path)) == ((0, 0), [alive])
        # Nor by this process's own log, whose own journal is in the same directory.
        journal = QueryJournal(tmp_path)
        writer = QueryLogWriter(database, on_hits=[case_opener()], journal=journal)
        writer.record([entry(100)])
        writer.stop()  # replays (nothing to take) and writes its own entry
        journal.close()
        assert (counts(database), journals(tmp_path)) == ((1, 0), [alive])
    replay_abandoned(tmp_path, database, nullcontext)  # its process is gone now
    assert (counts(database), journals(tmp_path)) == ((51, 0), [])
    database.dispose()


def test_a_batch_of_clean_queries_and_hits(fresh_url: str, tmp_path: Path) -> None:
    database = keyed_database(fresh_url)
    journal = QueryJournal(tmp_path, sync_seconds=0.01)
    journal.start()
    writer = QueryLogWriter(database, on_hits=[case_opener()], journal=journal)
    clean_only = writer.record([entry(n) for n in range(100)])
    assert clean_only.done()  # answered at once: the writer has not even started
    hit = (LoggedMatch(7, "exact", 1.0),)
    batch = [entry(n, hit if n % 50 == 0 else ()) for n in range(100, 300)]
    mixed = writer.record(batch)
    assert not mixed.done()  # its hits wait for their commit
    (segment,) = journals(tmp_path)
    in_journal = {query.id for query in decode(segment.read_bytes(), str(segment))}
    clean = {query.id for query in batch if not query.matches}
    assert in_journal == {entry(n).id for n in range(100)} | clean
    writer.start()
    mixed.result(timeout=WAIT)
    with database.session() as session:  # the hits are there once their answer goes
        logged = set(session.scalars(select(ScreeningQuery.id)))
    assert {query.id for query in batch if query.matches} <= logged
    writer.stop()
    journal.close()
    assert counts(database) == (300, 4)
    assert journals(tmp_path) == []  # all in the database: nothing left to replay
    database.dispose()


def test_a_journal_that_cannot_be_written_answers_503_then_recovers(
    fresh_url: str, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the journal's directory should be")
    with open_api(fresh_url, query_journal_dir=blocked / "journal") as api:
        headers = api.bearer(Role.BORDER_OFFICER, "FRA")
        body = {"document_number": "ZZ0000001", "issuing_country": "DEU"}
        for path, sent in (
            ("/api/v1/screen", body),
            ("/api/v1/screen/batch", {"documents": [body]}),
        ):
            refused = api.client.post(path, json=sent, headers=headers)
            assert refused.status_code == 503, refused.text
            assert "query log cannot be written" in refused.json()["message"]
            assert int(refused.headers["Retry-After"]) >= 1
        ready = api.client.get("/readyz")
        assert ready.status_code == 503
        assert "query journal" in ready.json()["reason"]
        blocked.unlink()
        assert api.client.get("/readyz").status_code == 200
        answer = api.client.post("/api/v1/screen", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + WAIT
        while not logged(api.database, answer.json()["query_id"]):
            assert time.monotonic() < deadline, "answered, never logged"
            time.sleep(0.02)


def logged_rows(database: Database) -> set[tuple[object, ...]]:
    with database.session() as session:
        return {
            (row.id, row.principal_name, row.location, row.operation_id, row.source,
             row.document_number, row.issuing_country, row.document_type, row.result)
            for row in session.scalars(select(ScreeningQuery))
        }  # fmt: skip


def test_a_batch_journalled_as_columns_then_killed_reaches_the_log_once(
    fresh_url: str, tmp_path: Path
) -> None:
    with journalling(tmp_path, 0, 300, JOURNALLING_COLUMNS):
        pass  # killed (SIGKILL) here: its 300 answered queries are only in its journal
    (left,) = journals(tmp_path)
    kept = tmp_path / "kept"
    shutil.copy(left, kept)
    database = keyed_database(fresh_url)
    journal = QueryJournal(tmp_path)
    writer = QueryLogWriter(database, on_hits=[case_opener()], journal=journal)
    writer.start()
    # The replay runs first in the log's thread: once a later commit is done, it is done.
    writer.record([entry(1000, (LoggedMatch(7, "exact", 1.0),))]).result(timeout=WAIT)
    assert (counts(database), journals(tmp_path)) == ((301, 1), [])
    writer.stop()
    journal.close()
    # Killed between the commit of a replay and the deletion of the journal: replayed again.
    shutil.copy(kept, left)
    replay_abandoned(tmp_path, database, nullcontext)
    assert (counts(database), journals(tmp_path)) == ((301, 1), [])
    expected = {
        (q.id, q.principal_name, q.location, q.operation_id, q.source, q.document_number,
         q.issuing_country, q.document_type, q.result)
        for q in columns(range(300)).entries()
    }  # fmt: skip
    assert expected < logged_rows(database)
    database.dispose()


def test_clean_queries_as_columns_are_journalled_in_one_line_then_moved(
    fresh_url: str, tmp_path: Path
) -> None:
    database = keyed_database(fresh_url)
    journal = QueryJournal(tmp_path, sync_seconds=0.01)
    journal.start()
    writer = QueryLogWriter(database, on_hits=[case_opener()], journal=journal)
    batch = columns(range(500))
    hit = entry(900, (LoggedMatch(7, "exact", 1.0),))
    answered = writer.record([hit], batch)
    assert not answered.done()  # the hit waits for its commit; the clean ones do not
    (segment,) = journals(tmp_path)
    assert segment.read_bytes().count(b"\n") == 1
    assert [q.id for q in decode(segment.read_bytes(), str(segment))] == batch.ids()
    writer.start()
    answered.result(timeout=WAIT)
    writer.stop()
    journal.close()
    assert counts(database) == (501, 1)
    assert journals(tmp_path) == []  # all in the database: nothing left to replay
    database.dispose()


def test_without_a_journal_clean_queries_as_columns_wait_for_their_commit(
    fresh_url: str,
) -> None:
    database = keyed_database(fresh_url)
    writer = QueryLogWriter(database, on_hits=[case_opener()])
    answered = writer.record([], columns(range(200)))
    assert not answered.done()
    writer.start()
    answered.result(timeout=WAIT)
    writer.stop()
    assert counts(database) == (200, 0)
    database.dispose()
