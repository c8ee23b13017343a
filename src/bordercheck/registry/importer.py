"""Importing records in bulk: every row checked, all or nothing unless told to skip bad rows.

Rows are checked on their own (``import_rows``), then looked up and written in batches inside
the caller's one transaction (``import_writer``). Once a row fails (and bad rows are not
being skipped) nothing more is written, but every remaining row is still checked so that the
report lists them all; the caller then rolls back. A large file is read and checked in a
second process while this one writes (``import_pipeline``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.actors import Actor
from bordercheck.registry.files import file_format, read_rows
from bordercheck.registry.import_pipeline import run_pipeline
from bordercheck.registry.import_rows import FileChecks
from bordercheck.registry.import_writer import ImportRejected, ImportReport, RecordWriter, Rejected
from bordercheck.registry.models import Record
from bordercheck.registry.schemas import RECORD_FIELDS

__all__ = ["ImportRejected", "ImportReport", "Importer", "Rejected", "export_rows", "import_file"]

# Below this a second process costs more to start (about half a second) than it saves.
PIPELINE_MIN_BYTES = 4 << 20
_PROGRESS_EVERY = 1000


class Importer:
    """One import: feed it rows, then ``finish``. Keeps per-file state (duplicates, ranges)."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        *,
        skip_invalid: bool = False,
        merge: bool = False,
        batch_size: int = 5000,
        review_years: int = 10,
        on_rejected: Rejected | None = None,
    ) -> None:
        self.writer = RecordWriter(
            session,
            actor,
            skip_invalid=skip_invalid,
            merge=merge,
            batch_size=batch_size,
            review_years=review_years,
            on_rejected=on_rejected,
        )
        self.report = self.writer.report
        self._checks = FileChecks(actor, self.writer.bureaus, self.writer.new_record)

    @property
    def writing(self) -> bool:
        return self.writer.writing

    def add_rows(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        for line, raw in rows:
            self.add(line, raw)

    def add(self, line: int, raw: dict[str, Any]) -> None:
        row, errors = self._checks.check(line, raw)
        if row is None:
            self.writer.reject(line, raw, errors)
        else:
            self.writer.add(row, raw)

    def finish(self) -> ImportReport:
        """Write what is left; raise ImportRejected (caller rolls back) if any row failed."""
        return self.writer.finish()


def import_file(
    session: Session,
    actor: Actor,
    path: Path,
    *,
    skip_invalid: bool = False,
    merge: bool = False,
    batch_size: int = 5000,
    review_years: int = 10,
    on_rejected: Rejected | None = None,
    on_progress: Callable[[int], None] | None = None,
    pipeline: bool | None = None,
) -> ImportReport:
    """Import a CSV or JSON Lines file, as ``Importer`` would row by row.

    A large file (or ``pipeline=True``) is read and checked by a second process; then
    ``on_rejected`` gets the refused rows at the end, in line order, rather than as they come.
    ``on_progress`` is told now and then how many rows have been handled.
    """
    file_format(path)
    if pipeline is None:
        pipeline = (os.cpu_count() or 1) > 1 and path.stat().st_size >= PIPELINE_MIN_BYTES
    options: dict[str, Any] = {
        "skip_invalid": skip_invalid,
        "merge": merge,
        "batch_size": batch_size,
        "review_years": review_years,
        "on_rejected": on_rejected,
    }
    if pipeline:
        return run_pipeline(RecordWriter(session, actor, **options), path, on_progress)
    importer = Importer(session, actor, **options)
    for line, raw in read_rows(path):
        importer.add(line, raw)
        if on_progress is not None and importer.report.rows % _PROGRESS_EVERY == 0:
            on_progress(importer.report.rows)
    return importer.finish()


def export_rows(session: Session, *, include_withdrawn: bool = False) -> Iterable[dict[str, Any]]:
    """Every record's fields, in id order, streamed in chunks (memory stays flat)."""
    columns = [getattr(Record, name) for name in RECORD_FIELDS]
    query = select(*columns).order_by(Record.id)
    if not include_withdrawn:
        query = query.where(Record.active)
    for row in session.execute(query.execution_options(yield_per=10_000)):
        yield dict(zip(RECORD_FIELDS, row, strict=True))
