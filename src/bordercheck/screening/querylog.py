"""The query log: every screening query kept before the answer leaves the server, and what
it found handed to those who act on it (``OnHits``: the hit workflow opens cases) in the same
transaction.

Request handlers hand a request's entries to ``QueryLogWriter.record`` and wait on what it
returns: a future that resolves once the entries are safe. Queries that matched something
(hits, possible hits: they carry matches and cases) are safe once the transaction holding
them has committed (group commit): a thread of its own writes as soon as entries are pending,
all that came while it was writing the last group in one transaction, so waiting costs one
commit and no fixed sleep. Clean queries, nearly all of them, are safe once appended to the
process's query journal (``journal.py``); the same thread then moves them into the database
with the others, and replays the journals of dead processes. A ``kill -9`` after an answer
therefore loses nothing that was answered.

When the log cannot be written (database down, too much waiting), ``record`` refuses with
``QueryLogUnavailable`` (a 503 with Retry-After) instead of answering with an entry that
might never be written; the thread checks the database every ``retry_seconds`` and takes
entries again by itself once it answers.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from bordercheck.db import Database
from bordercheck.errors import ServiceUnavailable
from bordercheck.logs import get_logger
from bordercheck.registry.bulk import insert_tuples, stored_values
from bordercheck.screening.models import ScreeningMatch, ScreeningQuery

if TYPE_CHECKING:
    from bordercheck.screening.journal import QueryJournal, Segment

log = get_logger(__name__)

# Entries waiting for their commit, at most. Every request waits for its own, so what waits is
# bounded by the requests in flight (one full batch is 10,000); past this the database is not
# keeping up, and a prompt 503 is worth more to a border post than a growing queue.
MAX_PENDING = 100_000
# One transaction takes whole requests up to this many entries (a full batch alone).
MAX_GROUP = 10_000
# Journalled entries wait this long for others to share their transaction, unless a request
# waiting for its commit comes first: nobody waits on them, and a commit a request costs the
# interpreter time the requests need (docs/benchmarks.md).
MOVE_SECONDS = 0.2


@dataclass(frozen=True)
class NewHit:
    """A certain match (exact, or in a range) screening found: the hit workflow opens its case."""

    query_id: str
    record_id: int
    owner_bureau: str
    querying_bureau: str
    queried_by: str
    match: str
    score: float
    location: str | None
    operation_id: str | None
    at: datetime
    source: str  # where the query came from: the query log's source (number, mrz, batch…)
    manifest_id: int | None = None
    flight: str | None = None
    # Screening answered the querying bureau "possible hit, restricted": the owner withholds
    # the record's details from it, so the case must not tell them either.
    withheld: bool = False
    # The number screened: with the record and the querying bureau, which open case a
    # repeated screening of the same document is a sighting of.
    document_number: str | None = None


# Who acts on what screening found (the hit workflow opens cases): called with the hits of
# the entries being written, in their transaction, so that what it writes is committed with
# them, before any of their answers is sent. Screening knows no more of them than this.
OnHits = Callable[[Session, Sequence[NewHit]], object]


@dataclass(frozen=True)
class LoggedMatch:
    record_id: int
    match: str
    score: float


# Slotted and not frozen: a batch makes 10,000 of these on the request path, and a frozen
# dataclass pays for every field it sets.
@dataclass(slots=True)
class LoggedQuery:
    id: str
    at: datetime
    principal_kind: str
    principal_name: str
    bureau_code: str
    location: str | None
    operation_id: str | None
    source: str
    document_number: str
    issuing_country: str | None
    document_type: str | None
    result: str
    matches: tuple[LoggedMatch, ...] = field(default=())
    hits: tuple[NewHit, ...] = field(default=())


# A query id: 32 hexadecimal characters, the milliseconds since 1970 (12) then 10 random
# bytes (20). Ids made later sort later, so each new entry goes at the end of the log's
# primary key instead of at a random place in it: at millions of entries a random key cost
# SQLite 22 to 34 µs an entry, rising with the table, against 6 µs flat (docs/benchmarks.md).
QUERY_ID_LENGTH = 32
_RANDOM_BYTES = 10


def new_query_ids(count: int) -> str:
    """``count`` new query ids, end to end (QUERY_ID_LENGTH characters each): those of one
    request share its millisecond, and 80 random bits each keep them unguessable."""
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    tails = os.urandom(_RANDOM_BYTES * count).hex()
    step = 2 * _RANDOM_BYTES
    return "".join([stamp + tails[i : i + step] for i in range(0, len(tails), step)])


@dataclass(frozen=True, slots=True)
class CleanQueries:
    """The clean queries (no match) of one batch sent as columns, kept as columns: what they
    share once, and one list per field. Ten thousand ``LoggedQuery`` objects and journal rows
    would cost a batch more than screening it; these are made into rows only where they are
    written (the log's thread, a journal's replay)."""

    query_ids: str  # each QUERY_ID_LENGTH characters, end to end, in the documents' order
    at: datetime
    principal_kind: str
    principal_name: str
    bureau_code: str
    location: str | None
    operation_id: str | None
    source: str
    document_numbers: list[str]
    issuing_countries: list[str]
    document_types: list[str | None] | None  # None: no type given for any

    RESULT: ClassVar[str] = "no_hit"

    def __len__(self) -> int:
        return len(self.document_numbers)

    def ids(self) -> list[str]:
        step = QUERY_ID_LENGTH
        return [self.query_ids[i : i + step] for i in range(0, len(self.query_ids), step)]

    def rows(self, at: object) -> Iterator[tuple[object, ...]]:
        """The rows of ``screening_queries``, in ``_QUERY_COLUMNS`` order, ``at`` as stored."""
        types = self.document_types if self.document_types is not None else repeat(None)
        return zip(
            self.ids(), repeat(at), repeat(self.principal_kind), repeat(self.principal_name),
            repeat(self.bureau_code), repeat(self.location), repeat(self.operation_id),
            repeat(self.source), self.document_numbers, self.issuing_countries, types,
            repeat(self.RESULT), repeat(0),
        )  # fmt: skip

    def entries(self) -> list[LoggedQuery]:
        """One ``LoggedQuery`` each (for a replay, which looks each one up)."""
        types = self.document_types if self.document_types is not None else repeat(None)
        return [
            LoggedQuery(
                query_id, self.at, self.principal_kind, self.principal_name, self.bureau_code,
                self.location, self.operation_id, self.source, number, country, kind,
                self.RESULT,
            )
            for query_id, number, country, kind in zip(
                self.ids(), self.document_numbers, self.issuing_countries, types, strict=False
            )
        ]  # fmt: skip


# What one request hands the log at once: its entries, or its clean queries as columns.
Entries = Sequence[LoggedQuery] | CleanQueries

_QUERIES: Table = ScreeningQuery.__table__  # type: ignore[assignment]
_QUERY_COLUMNS = (
    "id", "at", "principal_kind", "principal_name", "bureau_code", "location", "operation_id",
    "source", "document_number", "issuing_country", "document_type", "result", "match_count",
)  # fmt: skip


class QueryLogUnavailable(ServiceUnavailable):
    """The query log cannot take or write an entry: the query is not answered."""


class QueryLogWriter:
    """One writer thread committing the entries of many requests per transaction."""

    def __init__(
        self,
        database: Database,
        *,
        retry_seconds: float = 1.0,
        max_pending: int = MAX_PENDING,
        max_group: int = MAX_GROUP,
        on_hits: Sequence[OnHits],
        journal: QueryJournal | None = None,
        replay_seconds: float = 60.0,
    ) -> None:
        self.database = database
        self.journal = journal
        self.replay_seconds = replay_seconds
        self.replayed = 0  # entries of dead processes' journals new to the database
        self.on_hits = tuple(on_hits)
        self.retry_seconds = retry_seconds
        self.max_pending = max_pending
        self.max_group = max_group
        self.written = 0
        self.commits = 0
        self.rejected = 0  # entries the database refused (their requests were told so)
        self.refused = 0  # entries not taken because the log was failing or full
        # Why the last write failed, while the database has not answered since; None when
        # the log is writing.
        self.failing: str | None = None
        # Errors that mean "this entry can never be written", from SQLAlchemy or, for the
        # rows written straight to the driver, from the driver (PEP 249 names them alike).
        dbapi = database.engine.dialect.dbapi
        self._refusals: tuple[type[Exception], ...] = (
            DataError,
            IntegrityError,
            *((dbapi.DataError, dbapi.IntegrityError) if dbapi is not None else ()),
        )
        self._queue: deque[_Waiting] = deque()
        # Journalled entries whose write failed: safe in the journal, written when the
        # database is back (or replayed after a restart).
        self._held: list[_Waiting] = []
        self._urgent = 0  # requests in the queue waiting for their commit
        self._next_replay = 0.0
        self._pending = 0
        self._ready = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._turn = _sqlite_writers_turn(database)

    @property
    def pending(self) -> int:
        """Entries waiting for their transaction (being written included)."""
        return self._pending

    def record(
        self, entries: Sequence[LoggedQuery], clean_columns: CleanQueries | None = None
    ) -> Future[None]:
        """Queue one request's entries (and the clean queries of a batch sent as columns);
        the future resolves once they are safe (clean ones journalled, the others committed),
        or fails with ``QueryLogUnavailable``. Raises it at once when the log is failing or
        full, or the journal cannot be written."""
        committed: Future[None] = Future()
        total = len(entries) + (len(clean_columns) if clean_columns is not None else 0)
        journalled: list[Entries] = []
        if self.journal is not None:
            clean = [query for query in entries if not query.matches and not query.hits]
            if clean:
                journalled.append(clean)
                entries = [query for query in entries if query.matches or query.hits]
            if clean_columns:
                journalled.append(clean_columns)
        elif clean_columns:  # no journal: committed with the others, before the answer
            entries = [*entries, *clean_columns.entries()]
        if not total:
            committed.set_result(None)
            return committed
        with self._ready:
            if self._stopping.is_set():  # nobody would write them
                self.refused += total
                raise QueryLogUnavailable("the server is stopping; try again", retry_after=1)
            if self.failing is not None:
                self.refused += total
                raise QueryLogUnavailable(
                    f"screening is unavailable: the query log cannot be written "
                    f"({self.failing}); try again shortly",
                    retry_after=max(1, round(self.retry_seconds)),
                )
            if self._pending + total > self.max_pending:
                self.refused += total
                raise QueryLogUnavailable(
                    f"screening is unavailable: {self._pending:,} query log entries are "
                    "waiting for the database; try again shortly",
                    retry_after=1,
                )
            for part in journalled:
                self._journal(part, total)
            if entries:
                self._queue.append(_Waiting(entries, committed))
                self._pending += len(entries)
                self._urgent += 1
                self._ready.notify()
            else:
                committed.set_result(None)
        return committed

    def _journal(self, clean: Entries, total: int) -> None:
        """Append clean entries to the journal and queue them to be moved (under the lock)."""
        assert self.journal is not None
        try:
            segment = self.journal.append(clean)
        except OSError as exc:
            self.refused += total
            log.error("query journal write failed; screening answers 503", error=str(exc))
            raise QueryLogUnavailable(
                f"screening is unavailable: the query log cannot be written ({exc}); "
                "try again shortly",
                retry_after=max(1, round(self.retry_seconds)),
            ) from None
        # Nobody waits on this one: the answers go as soon as the write returned.
        was_idle = not self._queue
        self._queue.append(_Waiting(clean, Future(), segment, time.monotonic()))
        self._pending += len(clean)
        if was_idle or self._pending >= self.max_group:
            self._ready.notify()  # so that the writer knows when to move them

    def unavailable_reason(self) -> str | None:
        """Why screening answers 503 now, or None (for /readyz and the metrics)."""
        if self.failing is not None:
            return self.failing
        if self.journal is not None and not self.journal.probe():
            return self.journal.failing
        return None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Write everything still pending (unless the database is failing), then stop."""
        self._stopping.set()
        with self._ready:
            self._ready.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        else:  # never started: write what waits here
            self._run()

    def _run(self) -> None:
        while True:
            self._replay_if_due()
            with self._ready:
                if not self._stopping.is_set() and not self._due():
                    self._ready.wait(self._until_due())
                if not self._queue and self._stopping.is_set():
                    return
                if not self._due() and not self._stopping.is_set():
                    continue
                group = self._take()
            self._commit(group)
            while self.failing is not None:
                if self._stopping.is_set():
                    self._fail_all_waiting()
                    return
                self._stopping.wait(self.retry_seconds)
                self._check_database()

    def _due(self) -> bool:
        """Whether to write now: a request waits for its commit, the journalled entries
        fill a group, or the oldest of them has waited long enough."""
        if not self._queue:
            return False
        if self._urgent or self._pending >= self.max_group:
            return True
        return time.monotonic() >= self._queue[0].since + MOVE_SECONDS

    def _until_due(self) -> float | None:
        """How long the writer may sleep unless woken (None: until woken)."""
        wakes = []
        if self.journal is not None:
            wakes.append(self._next_replay)
        if self._queue:
            wakes.append(self._queue[0].since + MOVE_SECONDS)
        return max(0.0, min(wakes) - time.monotonic()) if wakes else None

    def _replay_if_due(self) -> None:
        """Replay the journals of dead processes: at start, then every ``replay_seconds``."""
        if self.journal is None or time.monotonic() < self._next_replay:
            return
        self._next_replay = time.monotonic() + self.replay_seconds
        if self.failing is not None:
            return
        try:
            self.replayed += self.journal.replay(self.database, self._turn)
        except Exception as exc:  # the database or the directory; tried again later
            log.error("query journal replay failed; trying again later", error=_first_line(exc))

    def _take(self) -> list[_Waiting]:
        """Whole requests, oldest first, up to max_group entries (at least one request). While
        requests wait for their commit, only theirs: a batch's hits are not held up by the
        thousands of clean entries journalled beside them."""
        if self._urgent:
            group = [waiting for waiting in self._queue if waiting.segment is None]
            self._queue = deque(waiting for waiting in self._queue if waiting.segment is not None)
        else:
            group, self._queue = list(self._queue), deque()
        taken: list[_Waiting] = []
        size = 0
        for waiting in group:
            if taken and size + len(waiting.entries) > self.max_group:
                break
            taken.append(waiting)
            size += len(waiting.entries)
        self._queue.extendleft(reversed(group[len(taken) :]))
        self._urgent -= sum(1 for waiting in taken if waiting.segment is None)
        return taken

    def _commit(self, group: list[_Waiting]) -> None:
        try:
            self._write([waiting.entries for waiting in group])
        except self._refusals:
            # Something in this group can never be written: write each request on its own
            # rather than let it hold up every request beside it.
            for waiting in group:
                self._commit_alone(waiting)
            return
        except Exception as exc:  # the database is down, or unreachable
            self._failed(group, _first_line(exc))
            return
        self._done(group)

    def _commit_alone(self, waiting: _Waiting) -> None:
        try:
            self._write([waiting.entries])
        except self._refusals as exc:
            self.rejected += len(waiting.entries)
            log.error("query log entry refused by the database",
                      query_id=_first_id(waiting.entries), error=_first_line(exc))  # fmt: skip
            self._release(waiting.entries)
            self._settle_journal(waiting)  # it never can be written: no replay either
            waiting.settle(
                QueryLogUnavailable(
                    "screening failed: the database refused this query's log entry; try again",
                    retry_after=1,
                )
            )
        except Exception as exc:
            self._failed([waiting], _first_line(exc))
        else:
            self._done([waiting])

    def _done(self, group: list[_Waiting]) -> None:
        written = sum(len(waiting.entries) for waiting in group)
        self.written += written
        self.commits += 1
        with self._ready:
            self._pending -= written
        for waiting in group:
            waiting.settle(None)
            self._settle_journal(waiting)

    def _settle_journal(self, waiting: _Waiting) -> None:
        if waiting.segment is not None and self.journal is not None:
            self.journal.settle(waiting.segment, len(waiting.entries))

    def _failed(self, group: list[_Waiting], reason: str) -> None:
        """Fail this group and everything queued behind it: their requests get a 503 now
        rather than wait for a database that may be gone for minutes."""
        with self._ready:
            self.failing = reason
            queued = [*group, *self._queue]
            self._queue.clear()
            self._urgent = 0
            # Journalled entries were answered and are safe in the journal: they wait here.
            self._held.extend(waiting for waiting in queued if waiting.segment is not None)
            failed = [waiting for waiting in queued if waiting.segment is None]
            self.refused += sum(len(waiting.entries) for waiting in failed)
        log.error("query log write failed; screening answers 503 until the database is back",
                  error=reason, requests=len(failed))  # fmt: skip
        for waiting in failed:
            self._release(waiting.entries)
            waiting.settle(
                QueryLogUnavailable(
                    f"screening is unavailable: the query log cannot be written ({reason}); "
                    "try again shortly",
                    retry_after=max(1, round(self.retry_seconds)),
                )
            )

    def _fail_all_waiting(self) -> None:
        with self._ready:
            waiting_all = list(self._queue)
            self._queue.clear()
            self._urgent = 0
        if waiting_all:
            self._failed(waiting_all, self.failing or "stopping")

    def _release(self, entries: Entries) -> None:
        with self._ready:
            self._pending -= len(entries)

    def _check_database(self) -> None:
        try:
            # A read: on SQLite a write session would take the write lock at every probe, and
            # a migration run meanwhile (bringing the table back) could be refused for it.
            with self.database.session() as session:
                session.execute(select(ScreeningQuery.id).limit(1))
        except Exception as exc:
            with self._ready:
                self.failing = _first_line(exc)
            return
        with self._ready:
            self.failing = None
            self._queue.extendleft(reversed(self._held))
            self._held.clear()
        log.info("query log writing again")

    def _write(self, parts: Sequence[Entries]) -> None:
        # Straight to the driver (COPY, or one executemany): at thousands of queries a second
        # the ORM's per-row work would compete with the requests for the interpreter.
        with self._turn(), self.database.session(write=True) as session:
            write_parts(session, parts, on_hits=self.on_hits)


def _sqlite_writers_turn(database: Database) -> Callable[[], AbstractContextManager[None]]:
    """For a SQLite file, the query log writers of every process on it take turns on a lock
    file before they begin. SQLite's own wait for its write lock polls, sleeping 1 to 100 ms
    between tries, and every request waits on its writer's commit: with two worker
    processes committing back to back, those sleeps would land on the answers' latency. A
    file lock wakes the next writer as soon as the last one is done."""
    path = make_url(database.url).database if database.is_sqlite else None
    if not path or path == ":memory:" or sys.platform == "win32":
        return nullcontext
    import fcntl

    lock_path = f"{path}-querylog.lock"

    @contextmanager
    def turn() -> Iterator[None]:
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    return turn


@dataclass(slots=True)
class _Waiting:
    """One request's entries and the future its handler waits on."""

    entries: Entries
    committed: Future[None]
    segment: Segment | None = None  # where these entries are journalled, if they are
    since: float = 0.0  # when they were journalled (time.monotonic)

    def settle(self, error: Exception | None) -> None:
        # A handler that stopped waiting (its client went away) cancelled the future: its
        # entries are written all the same, and nobody is told.
        if self.committed.set_running_or_notify_cancel():
            if error is None:
                self.committed.set_result(None)
            else:
                self.committed.set_exception(error)


def write_entries(
    session: Session, batch: Sequence[LoggedQuery], *, on_hits: Sequence[OnHits]
) -> None:
    """Write entries, and hand their hits to ``on_hits``, in the caller's transaction (the
    writer's thread, a passenger list stored with the queries it made, or an upload from an
    edge kit that must be stored with its receipt)."""
    write_parts(session, [batch], on_hits=on_hits)


def write_parts(session: Session, parts: Sequence[Entries], *, on_hits: Sequence[OnHits]) -> None:
    """``write_entries`` of several requests' entries, clean queries as columns among them."""
    stored_at: dict[datetime, Any] = {}

    def stored(at: datetime) -> Any:
        if at not in stored_at:
            stored_at[at] = stored_values(session, _QUERIES, {"at": at})["at"]
        return stored_at[at]

    batch = [query for part in parts if not isinstance(part, CleanQueries) for query in part]
    rows = [
        (
            q.id, stored(q.at), q.principal_kind, q.principal_name,
            q.bureau_code, q.location, q.operation_id, q.source, q.document_number,
            q.issuing_country, q.document_type, q.result, len(q.matches),
        )
        for q in batch
    ]  # fmt: skip
    columns = [part.rows(stored(part.at)) for part in parts if isinstance(part, CleanQueries)]
    insert_tuples(session, _QUERIES, _QUERY_COLUMNS, chain(rows, *columns), one_statement=True)
    matches = [
        {"query_id": q.id, "record_id": m.record_id, "match": m.match, "score": m.score}
        for q in batch
        for m in q.matches
    ]
    if matches:
        session.execute(insert(ScreeningMatch), matches)
    hits = [hit for q in batch for hit in q.hits]
    if hits:
        for subscriber in on_hits:
            subscriber(session, hits)


def _first_id(entries: Entries) -> str:
    if isinstance(entries, CleanQueries):
        return entries.query_ids[:QUERY_ID_LENGTH]
    return entries[0].id


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
