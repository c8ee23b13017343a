"""The query journal: clean answers (no match, so no case to open) are appended to a file of
this process before they are sent, and the query log's thread moves them into the database.

Once ``os.write`` has returned the operating system holds the entries, so a ``kill -9`` of the
process loses none of them; a thread of the journal calls ``fdatasync`` every
``sync_seconds``, which bounds what a power loss could take (``sync_seconds=0`` syncs before
each answer instead). A journal is a series of segment files, each locked (``flock``) by the
process that writes it for as long as it lives: a segment whose lock can be taken belongs to a
dead process, and any process on the same directory replays it into the database, skipping
queries already there, then deletes it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from bordercheck.db import Database
from bordercheck.logs import get_logger
from bordercheck.screening.models import ScreeningQuery
from bordercheck.screening.querylog import QUERY_ID_LENGTH, CleanQueries, Entries, LoggedQuery

log = get_logger(__name__)

SUFFIX = ".journal"
# A segment is closed for new entries past this size, and deleted once all it holds is in the
# database: what a restart replays is a few segments, not the whole day.
SEGMENT_BYTES = 4 * 1024 * 1024
# The first field of every line (a request's entries), so that a later format can read these:
# 1, a list of rows; 2, the clean queries of a batch sent as columns (``CleanQueries``).
FORMAT = 1
COLUMNS_FORMAT = 2
# Replayed entries per transaction.
REPLAY_GROUP = 10_000
# A staging file (a segment being made) older than this was left by a process that died
# between making and naming it; younger, it may be another process's about to be locked.
STAGING_SECONDS = 60.0


def default_directory(database_url: str) -> Path:
    """Beside a SQLite file; otherwise one directory per database under the temp dir (two
    databases must never share a journal: a replay would write one's queries into the other)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}-querylog")
    identity = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"bordercheck-querylog-{digest}"


def encode(entries: Entries) -> bytes:
    """One line for one request's entries: one serialisation, one write, one line that a
    replay reads whole or (cut short by a power loss) not at all."""
    if isinstance(entries, CleanQueries):
        columns = {
            "query_ids": entries.query_ids, "at": entries.at,
            "principal_kind": entries.principal_kind, "principal_name": entries.principal_name,
            "bureau_code": entries.bureau_code, "location": entries.location,
            "operation_id": entries.operation_id, "source": entries.source,
            "document_numbers": entries.document_numbers,
            "issuing_countries": entries.issuing_countries,
            "document_types": entries.document_types,
        }  # fmt: skip
        return orjson.dumps([COLUMNS_FORMAT, columns], option=orjson.OPT_APPEND_NEWLINE)
    rows = [
        (
            q.id, q.at, q.principal_kind, q.principal_name, q.bureau_code, q.location,
            q.operation_id, q.source, q.document_number, q.issuing_country, q.document_type,
            q.result,
        )
        for q in entries
    ]  # fmt: skip
    return orjson.dumps([FORMAT, rows], option=orjson.OPT_APPEND_NEWLINE)


def decode(data: bytes, origin: str) -> list[LoggedQuery]:
    """The entries of a segment. A line cut short (a power loss during its write, or a write
    that failed and was answered 503) is skipped: no answer was sent for it."""
    entries: list[LoggedQuery] = []
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            version, body = orjson.loads(line)
            if version == FORMAT:
                entries.extend(
                    LoggedQuery(row[0], datetime.fromisoformat(row[1]), *row[2:12]) for row in body
                )
            elif version == COLUMNS_FORMAT:
                entries.extend(_clean_queries(body).entries())
            else:
                raise ValueError(f"format {version!r}")
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            log.warning("query journal line skipped", journal=origin, error=str(exc))
    return entries


def _clean_queries(columns: dict[str, Any]) -> CleanQueries:
    clean = CleanQueries(**{**columns, "at": datetime.fromisoformat(columns["at"])})
    lengths = {
        len(clean.query_ids) // QUERY_ID_LENGTH,
        len(clean.issuing_countries),
        len(clean.document_types if clean.document_types is not None else clean),
    }
    if lengths != {len(clean)} or len(clean.query_ids) % QUERY_ID_LENGTH:
        raise ValueError("columns of different lengths")
    return clean


@dataclass(eq=False, slots=True)
class Segment:
    """One journal file of this process, and how much of it is in the database."""

    path: Path
    fd: int
    size: int = 0
    synced: int = 0
    entries: int = 0
    settled: int = 0
    closed_for_writing: bool = False


class JournalUnavailable(OSError):
    """The journal cannot take entries (disk full, read-only, gone)."""


class QueryJournal:
    """The segments of this process: appended to by requests, settled by the query log."""

    def __init__(self, directory: Path, *, sync_seconds: float = 0.05) -> None:
        self.directory = directory
        self.sync_seconds = sync_seconds
        self.failing: str | None = None
        self.appended = 0
        self._name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self._serial = 0
        self._current: Segment | None = None
        self._segments: list[Segment] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._new_files = False
        self._syncer: threading.Thread | None = None

    def start(self) -> None:
        """Start the sync thread. The first segment is made by the first append: a directory
        that cannot be written makes screening answer 503, not the server fail to start."""
        if self.sync_seconds > 0 and self._syncer is None:
            self._stopping.clear()
            self._syncer = threading.Thread(target=self._sync_loop, name="query-journal-sync",
                                            daemon=True)  # fmt: skip
            self._syncer.start()

    def append(self, entries: Entries) -> Segment:
        """Write ``entries`` in one ``os.write``; raises ``JournalUnavailable`` if it fails."""
        data = encode(entries)
        with self._lock:
            try:
                segment = self._writable()
                written = os.write(segment.fd, data)
                if written != len(data):  # only when the disk is full
                    raise OSError(f"disk full: {written} of {len(data)} bytes written")
                if self.sync_seconds == 0:
                    os.fdatasync(segment.fd)
                    segment.synced = segment.size + written
            except OSError as exc:
                self.failing = _reason(exc)
                if self._current is not None:
                    # Whatever part of this write reached the file is a line cut short: the
                    # next entries go to a new segment, so that none is glued to it.
                    self._close_for_writing(self._current)
                raise JournalUnavailable(self.failing) from exc
            segment.size += written
            segment.entries += len(entries)
            self.appended += len(entries)
            self.failing = None
            return segment

    def settle(self, segment: Segment, count: int) -> None:
        """``count`` entries of ``segment`` are in the database now (or never can be)."""
        with self._lock:
            segment.settled += count
            if segment.closed_for_writing:
                self._delete_if_settled(segment)

    def probe(self) -> bool:
        """While failing, whether a new segment can be written again (for /readyz)."""
        if self.failing is None:
            return True
        with self._lock:
            try:
                segment = self._writable()
                os.write(segment.fd, b"\n")  # an empty line: skipped by a replay
                segment.size += 1
            except OSError as exc:
                self.failing = _reason(exc)
                return False
            self.failing = None
            return True

    def close(self) -> None:
        """Delete what is all in the database; leave the rest, unlocked, for a replay."""
        self._stopping.set()
        if self._syncer is not None:
            self._syncer.join()
            self._syncer = None
        with self._lock:
            for segment in list(self._segments):
                self._close_for_writing(segment)
            for segment in self._segments:  # entries not in the database: keep them
                _sync(segment)
                os.close(segment.fd)
            self._segments.clear()

    def replay(self, database: Database, turn: Callable[[], AbstractContextManager[None]]) -> int:
        """Replay the segments of dead processes in this journal's directory."""
        return replay_abandoned(self.directory, database, turn)

    def _writable(self) -> Segment:
        current = self._current
        if current is None or current.closed_for_writing or current.size >= SEGMENT_BYTES:
            if current is not None:
                self._close_for_writing(current)
            current = self._current = self._open_segment()
        return current

    def _open_segment(self) -> Segment:
        # Made under a name no replay looks at, locked, then renamed: another process never
        # sees this segment unlocked.
        self.directory.mkdir(parents=True, exist_ok=True)
        self._serial += 1
        name = f"querylog-{self._name}-{self._serial:06d}"
        staging = self.directory / f".{name}.tmp"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path = self.directory / f"{name}{SUFFIX}"
            os.rename(staging, path)
        except OSError:
            os.close(fd)
            staging.unlink(missing_ok=True)
            raise
        segment = Segment(path, fd)
        self._segments.append(segment)
        self._new_files = True
        return segment

    def _close_for_writing(self, segment: Segment) -> None:
        segment.closed_for_writing = True
        if segment is self._current:
            self._current = None
        self._delete_if_settled(segment)

    def _delete_if_settled(self, segment: Segment) -> None:
        if segment.settled >= segment.entries and segment in self._segments:
            # Deleted before its lock goes with the descriptor: no replay ever reads it.
            segment.path.unlink(missing_ok=True)
            os.close(segment.fd)
            self._segments.remove(segment)

    def _sync_loop(self) -> None:
        while not self._stopping.wait(self.sync_seconds):
            self.sync()

    def sync(self) -> None:
        """Flush what was appended since the last sync to the disk."""
        with self._lock:
            dirty = [(s, s.size) for s in self._segments if s.size > s.synced]
            new_files, self._new_files = self._new_files, False
        for segment, size in dirty:
            # Outside the lock, so that requests go on appending meanwhile; a segment deleted
            # meanwhile has nothing left to keep.
            with self._lock:
                if segment not in self._segments:
                    continue
                fd = os.dup(segment.fd)
            try:
                os.fdatasync(fd)
                segment.synced = max(segment.synced, size)
            except OSError as exc:
                log.error("query journal sync failed", journal=str(segment.path),
                          error=_reason(exc))  # fmt: skip
            finally:
                os.close(fd)
        if new_files:  # the names of new segments, for a power loss
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)


def _sync(segment: Segment) -> None:
    try:
        os.fdatasync(segment.fd)
    except OSError as exc:
        log.error("query journal sync failed", journal=str(segment.path), error=_reason(exc))


def _reason(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"query journal: {exc.strerror}: {exc.filename}"
    return f"query journal: {exc.strerror or exc}"


@contextmanager
def _abandoned(directory: Path) -> Iterator[list[tuple[Path, int]]]:
    """The segments in ``directory`` whose writer is gone, each opened and locked."""
    taken: list[tuple[Path, int]] = []
    try:
        cutoff = time.time() - STAGING_SECONDS
        staging = [p for p in directory.glob(".*.tmp") if _modified(p) < cutoff]
        for path in sorted(directory.glob(f"*{SUFFIX}")) + staging:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # Another replay may have finished and deleted it between open and lock.
                if os.stat(path).st_ino != os.fstat(fd).st_ino:
                    raise FileNotFoundError(path)
            except (BlockingIOError, FileNotFoundError):  # alive, or done already
                os.close(fd)
                continue
            taken.append((path, fd))
        yield taken
    finally:
        for _, fd in taken:
            os.close(fd)


def replay_abandoned(
    directory: Path,
    database: Database,
    turn: Callable[[], AbstractContextManager[None]],
) -> int:
    """Write the entries of dead processes' segments into the database, skipping those
    already there, and delete each segment once its entries are committed. Returns how many
    entries were new to the database."""
    if not directory.is_dir():
        return 0
    added = 0
    with _abandoned(directory) as taken:
        for path, fd in taken:
            entries = decode(_read_all(fd), str(path))
            for first in range(0, len(entries), REPLAY_GROUP):
                chunk = entries[first : first + REPLAY_GROUP]
                with turn(), database.session(write=True) as session:
                    added += insert_missing(session.connection(), chunk, database)
            path.unlink(missing_ok=True)
            if entries:
                log.info("query journal replayed", journal=str(path), entries=len(entries))
    return added


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def insert_missing(
    connection: Connection, entries: Sequence[LoggedQuery], database: Database
) -> int:
    """Insert the clean queries not in the database yet (the query id is the key)."""
    if not entries:
        return 0
    table: Table = ScreeningQuery.__table__  # type: ignore[assignment]
    dialect = sqlite if database.is_sqlite else postgresql
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=["id"])
    rows = [
        {
            "id": q.id, "at": q.at, "principal_kind": q.principal_kind,
            "principal_name": q.principal_name, "bureau_code": q.bureau_code,
            "location": q.location, "operation_id": q.operation_id, "source": q.source,
            "document_number": q.document_number, "issuing_country": q.issuing_country,
            "document_type": q.document_type, "result": q.result, "match_count": 0,
        }
        for q in entries
    ]  # fmt: skip
    result = connection.execute(statement, rows)
    # Rows inserted, where the driver counts them for many rows (SQLite does).
    return max(0, int(result.rowcount or 0))


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)
