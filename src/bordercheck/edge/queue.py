"""The offline queue: every query a kit answers, kept until the centre has it.

SQLite in the kit's directory, WAL with ``synchronous=FULL``: an entry is on disk before
its answer is given, and survives a crash or a power cut. Entries are sealed to the centre
(``signing.seal``): the kit cannot read its own queue, so a stolen kit does not tell what
was checked at the post either. Each entry has a unique id; the centre stores an id once,
however often it is sent, and the kit deletes entries only once the centre has said so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path


class OfflineQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, sealed BLOB NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add(self, entries: Sequence[tuple[str, bytes]]) -> None:
        with self._connect() as db:
            db.executemany("INSERT OR IGNORE INTO entries (id, sealed) VALUES (?, ?)", entries)

    def pending(self, limit: int) -> list[tuple[str, bytes]]:
        with self._connect() as db:
            rows = db.execute("SELECT id, sealed FROM entries ORDER BY rowid LIMIT ?", (limit,))
            return [(str(i), bytes(s)) for i, s in rows]

    def delete(self, ids: Sequence[str]) -> None:
        with self._connect() as db:
            db.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in ids])

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
