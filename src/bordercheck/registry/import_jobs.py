"""Imports that run while their page follows them: a file uploaded to the console is
imported in a thread of the process that received it, with its progress and report kept in
``record_imports`` so that any process of any node can show them. ``records import`` keeps
its imports there too.

An import names the process running it (``import_runner``): one killed before it could say
how its import ended leaves it "running", and whoever looks next on that machine
(``notice_stopped``) marks it failed. Nothing of it was written: the import is one
transaction, and the database rolled it back when the process died.

The import itself is ``import_file``'s, unchanged: all rows or none unless bad rows are
skipped, in one transaction. Progress goes to the table in short transactions of its own,
except on SQLite, whose one writer is the import until it ends: there this process keeps
the count in memory, and its pages read it from there (SQLite serves one machine).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.actors import Actor
from bordercheck.db import Database
from bordercheck.errors import BordercheckError, FieldError, NotFound, ValidationFailed
from bordercheck.logs import get_logger
from bordercheck.registry.files import (
    REJECTED_BECAUSE,
    RowWriter,
    count_lines,
    file_format,
    rejection_reasons,
)
from bordercheck.registry.import_runner import gone, this_process
from bordercheck.registry.importer import ImportRejected, ImportReport, import_file
from bordercheck.registry.models import RecordImport
from bordercheck.timestamps import utcnow

log = get_logger(__name__)

# The report lists this many refused rows; the rejects file holds them all.
MAX_LISTED_ERRORS = 1000
PROGRESS_SECONDS = 0.5

RUNNING, DONE, REJECTED, FAILED = "running", "done", "rejected", "failed"
STOPPED = (
    "the process running this import stopped before it finished (killed, or its machine "
    "stopped); nothing of it was written: import the file again"
)

# Rows handled by the imports this process runs, for SQLite (see the module's text).
_counts: dict[str, int] = {}
_counts_lock = threading.Lock()


@dataclass(frozen=True)
class Options:
    skip_invalid: bool = False
    merge: bool = False
    batch_size: int = 5000
    review_years: int = 10


def start(
    database: Database,
    actor: Actor,
    upload: Path,
    file_name: str,
    options: Options,
    *,
    after: Callable[[], None] | None = None,
) -> str:
    """Begin importing ``upload`` (a copy this takes over) in a thread; its id, to follow it.

    ``after`` runs once the import has committed (to screen the new records at once).
    """
    kind = file_format(Path(file_name))
    total = max(count_lines(upload) - (1 if kind == "csv" else 0), 0)
    job_id = begin(database, actor, file_name, options, total)
    thread = threading.Thread(
        target=_run,
        args=(database, job_id, actor, upload, file_name, options, after),
        name=f"record-import-{job_id[:8]}",
        daemon=True,
    )
    thread.start()
    return job_id


def begin(database: Database, actor: Actor, file_name: str, options: Options, total: int) -> str:
    """Record an import this process is about to run; its id."""
    job_id = secrets.token_hex(16)
    with database.session(write=True) as session:
        notice_stopped(session)
        session.add(
            RecordImport(
                id=job_id,
                bureau_code=actor.bureau_code,
                started_by=actor.name,
                file_name=file_name[:200],
                skip_invalid=options.skip_invalid,
                merge=options.merge,
                state=RUNNING,
                total_rows=total,
                rows_done=0,
                created=0,
                updated=0,
                unchanged=0,
                rejected=0,
                errors=[],
                started_at=utcnow(),
                runner=this_process(),
            )
        )
    with _counts_lock:
        _counts[job_id] = 0
    return job_id


def notice_stopped(session: Session) -> list[str]:
    """Mark failed the running imports whose process has surely stopped; their ids."""
    running = session.scalars(select(RecordImport).where(RecordImport.state == RUNNING))
    stopped = []
    for job in running:
        if gone(job.runner):
            job.state = FAILED
            job.message = STOPPED
            job.finished_at = utcnow()
            stopped.append(job.id)
            log.warning("record import stopped with its process", import_id=job.id)
    return stopped


def get(session: Session, job_id: str, bureau_code: str) -> RecordImport:
    """An import of ``bureau_code``'s (another bureau's is as good as absent)."""
    job = session.get(RecordImport, job_id)
    if job is None or job.bureau_code != bureau_code:
        raise NotFound("there is no such import; it may have been started by another bureau")
    return job


def rows_done(job: RecordImport) -> int:
    """How many rows are done: this process's own count while it runs the import."""
    with _counts_lock:
        return max(_counts.get(job.id, 0), job.rows_done)


def _run(
    database: Database,
    job_id: str,
    actor: Actor,
    upload: Path,
    file_name: str,
    options: Options,
    after: Callable[[], None] | None,
) -> None:
    work = Path(tempfile.mkdtemp(prefix="bordercheck-import-"))
    rejects_path = work / f"rejected{Path(file_name).suffix.lower()}"
    source = work / f"upload{Path(file_name).suffix.lower()}"
    shutil.move(upload, source)
    outcome: dict[str, Any] = {}
    try:
        with RowWriter(rejects_path, with_reasons=True) as rejects:

            def on_rejected(line: int, raw: dict[str, Any], errors: list[FieldError]) -> None:
                rejects.write({**raw, REJECTED_BECAUSE: rejection_reasons(errors)})

            try:
                with database.session(write=True) as session:
                    report = import_file(
                        session,
                        actor,
                        source,
                        skip_invalid=options.skip_invalid,
                        merge=options.merge,
                        batch_size=options.batch_size,
                        review_years=options.review_years,
                        on_rejected=on_rejected,
                        on_progress=progress(database, job_id),
                    )
                    outcome = reported(DONE, report)
                    if outcome.get("rejected"):  # told with the import, never after it
                        rejects.flush()
                        outcome["rejects_file"] = rejects_path.read_text(encoding="utf-8")
                    record_outcome(session, job_id, outcome)
            except ImportRejected as exc:
                outcome = reported(REJECTED, exc.report, exc.message)
            except ValidationFailed as exc:  # the file as a whole (its header)
                outcome = {"state": FAILED, "message": exc.message, "errors": _listed(exc.errors)}
            except BordercheckError as exc:
                outcome = {"state": FAILED, "message": exc.message}
        if outcome.get("rejected") and "rejects_file" not in outcome:
            outcome["rejects_file"] = rejects_path.read_text(encoding="utf-8")
    except Exception:
        log.exception("record import failed", import_id=job_id)
        outcome = {"state": FAILED, "message": "the import stopped on an unexpected error"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish(database, job_id, outcome)
    if outcome.get("state") == DONE and after is not None:
        try:
            after()
        except Exception:
            log.exception("screening the imported records failed", import_id=job_id)


def reported(state: str, report: ImportReport, message: str | None = None) -> dict[str, Any]:
    return {
        "state": state,
        "message": message,
        "rows_done": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected_rows,
        "errors": _listed(report.errors),
    }


def record_outcome(session: Session, job_id: str, outcome: dict[str, Any]) -> None:
    """``finish`` in the import's own transaction: an import done is never told as stopped.

    A process killed between the commit of its records and a later transaction recording
    it would leave the import "running", then marked failed with nothing written: wrong.
    """
    job = session.get(RecordImport, job_id)
    if job is not None:
        for name, value in outcome.items():
            setattr(job, name, value)
        job.finished_at = utcnow()


def _listed(errors: list[FieldError]) -> list[dict[str, Any]]:
    return [
        {"line": e.line, "field": e.field, "reason": e.reason} for e in errors[:MAX_LISTED_ERRORS]
    ]


def progress(database: Database, job_id: str) -> Callable[[int], None]:
    shared = not database.is_sqlite
    last = [0.0]

    def told(rows: int) -> None:
        with _counts_lock:
            _counts[job_id] = rows
        now = time.monotonic()
        if shared and now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            with database.session(write=True) as session:
                job = session.get(RecordImport, job_id)
                if job is not None:
                    job.rows_done = rows

    return told


def finish(database: Database, job_id: str, outcome: dict[str, Any]) -> None:
    """Record how the import ended (``outcome``: the columns to set)."""
    with database.session(write=True) as session:
        record_outcome(session, job_id, outcome)
    with _counts_lock:
        _counts.pop(job_id, None)
