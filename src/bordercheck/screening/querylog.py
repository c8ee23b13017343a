"""The query log: every screening query, and the hit cases it opens, written in batches off
the request path.

Request handlers hand entries to ``QueryLogWriter.record`` (an append to a deque, no I/O);
a thread of its own writes them every ``flush_interval`` seconds in one transaction. On a
clean shutdown ``stop`` writes what is left, so no entry is lost. If the database is
briefly unavailable, entries wait in memory (up to ``max_pending``) and are written later.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from bordercheck.db import Database
from bordercheck.hits.service import Deadlines, NewHit, open_hits
from bordercheck.logs import get_logger
from bordercheck.registry.bulk import insert_tuples, stored_values
from bordercheck.screening.models import ScreeningMatch, ScreeningQuery

log = get_logger(__name__)


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


_QUERIES: Table = ScreeningQuery.__table__  # type: ignore[assignment]
_QUERY_COLUMNS = (
    "id", "at", "principal_kind", "principal_name", "bureau_code", "location", "operation_id",
    "source", "document_number", "issuing_country", "document_type", "result", "match_count",
)  # fmt: skip


class QueryLogWriter:
    def __init__(
        self,
        database: Database,
        *,
        flush_interval: float = 0.2,
        max_batch: int = 10_000,
        max_pending: int = 1_000_000,
        deadlines: Deadlines | None = None,
    ) -> None:
        self.database = database
        self.deadlines = deadlines
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.written = 0
        self.dropped = 0
        self.rejected = 0
        # Errors that mean "this entry can never be written", from SQLAlchemy or, for the
        # rows written straight to the driver, from the driver (PEP 249 names them alike).
        dbapi = database.engine.dialect.dbapi
        self._refusals: tuple[type[Exception], ...] = (
            DataError,
            IntegrityError,
            *((dbapi.DataError, dbapi.IntegrityError) if dbapi is not None else ()),
        )
        self._pending: deque[LoggedQuery] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one flush at a time (thread and ``flush`` callers)
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record(self, entry: LoggedQuery) -> None:
        if len(self._pending) >= self.max_pending:
            # Memory is bounded; a dropped entry is counted and shown in the metrics.
            self.dropped += 1
            return
        self._pending.append(entry)
        if len(self._pending) >= self.max_batch:
            self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Write everything still pending, then stop the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    def flush(self) -> int:
        """Write pending entries now; returns how many were written."""
        total = 0
        with self._lock:
            while self._pending:
                batch = [
                    self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))
                ]
                try:
                    self._write(batch)
                except self._refusals:
                    # Something in this batch can never be written: write the rest one by one
                    # rather than let it hold up every entry behind it.
                    total += self._write_one_by_one(batch)
                    continue
                except Exception as exc:  # the database may be down for a while: keep trying
                    self._pending.extendleft(reversed(batch))  # in their order
                    log.warning(
                        "query log write failed; will retry",
                        error=_first_line(exc),
                        pending=len(self._pending),
                    )
                    break
                total += len(batch)
        self.written += total
        return total

    def _write_one_by_one(self, batch: Sequence[LoggedQuery]) -> int:
        written = 0
        for entry in batch:
            try:
                self._write([entry])
                written += 1
            except self._refusals as exc:
                self.rejected += 1
                log.error("query log entry refused by the database", query_id=entry.id,
                          error=_first_line(exc))  # fmt: skip
        return written

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()

    def _write(self, batch: Sequence[LoggedQuery]) -> None:
        # Straight to the driver (COPY, or one executemany): at thousands of queries a second
        # the ORM's per-row work would compete with the requests for the interpreter.
        with self.database.session(write=True) as session:
            write_entries(session, batch, deadlines=self.deadlines)


def write_entries(
    session: Session, batch: Sequence[LoggedQuery], *, deadlines: Deadlines | None = None
) -> None:
    """Write entries and open their hit cases in the caller's transaction (the writer's
    thread, or an upload from an edge kit that must be stored with its receipt)."""
    stored_at: dict[datetime, Any] = {}
    for query in batch:
        if query.at not in stored_at:
            stored_at[query.at] = stored_values(session, _QUERIES, {"at": query.at})["at"]
    insert_tuples(
        session,
        _QUERIES,
        _QUERY_COLUMNS,
        [
            (
                q.id, stored_at[q.at], q.principal_kind, q.principal_name,
                q.bureau_code, q.location, q.operation_id, q.source, q.document_number,
                q.issuing_country, q.document_type, q.result, len(q.matches),
            )
            for q in batch
        ],
    )  # fmt: skip
    matches = [
        {"query_id": q.id, "record_id": m.record_id, "match": m.match, "score": m.score}
        for q in batch
        for m in q.matches
    ]
    if matches:
        session.execute(insert(ScreeningMatch), matches)
    open_hits(session, [hit for q in batch for hit in q.hits], deadlines=deadlines)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
