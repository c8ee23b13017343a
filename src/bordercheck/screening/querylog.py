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

from sqlalchemy import insert
from sqlalchemy.exc import DataError, IntegrityError

from bordercheck.db import Database
from bordercheck.hits.service import NewHit, open_hits
from bordercheck.logs import get_logger
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


class QueryLogWriter:
    def __init__(
        self,
        database: Database,
        *,
        flush_interval: float = 0.2,
        max_batch: int = 10_000,
        max_pending: int = 1_000_000,
    ) -> None:
        self.database = database
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.written = 0
        self.dropped = 0
        self.rejected = 0
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
                except (DataError, IntegrityError):
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
            except (DataError, IntegrityError) as exc:
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
        queries = [
            {
                "id": q.id,
                "at": q.at,
                "principal_kind": q.principal_kind,
                "principal_name": q.principal_name,
                "bureau_code": q.bureau_code,
                "location": q.location,
                "operation_id": q.operation_id,
                "source": q.source,
                "document_number": q.document_number,
                "issuing_country": q.issuing_country,
                "document_type": q.document_type,
                "result": q.result,
                "match_count": len(q.matches),
            }
            for q in batch
        ]
        matches = [
            {"query_id": q.id, "record_id": m.record_id, "match": m.match, "score": m.score}
            for q in batch
            for m in q.matches
        ]
        with self.database.session(write=True) as session:
            session.execute(insert(ScreeningQuery), queries)
            if matches:
                session.execute(insert(ScreeningMatch), matches)
            open_hits(session, [hit for q in batch for hit in q.hits])


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
