"""Importing records from a file uploaded to the console (CSV or JSON Lines, as
``bordercheck records import`` reads them): a progress bar while it runs, then the report,
each refused line with its number and why, and the refused rows to download."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bordercheck.auth.policy import RECORD_WRITERS
from bordercheck.errors import InvalidInput
from bordercheck.registry import import_jobs
from bordercheck.registry.files import CSV_SUFFIXES, JSONL_SUFFIXES, file_format
from bordercheck.screening.live import LiveIndex
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

LABELS = {"file": N_("File of records")}


def _import_page(
    request: Request,
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, bool] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "records/import.html",
        {
            "viewer": viewer,
            "errors": errors or {},
            "labels": LABELS,
            "form": form or {},
            "may_write": True,
        },
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.get("/records/import")
def import_page(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *RECORD_WRITERS)
    return _import_page(request, viewer)


@router.post("/records/import")
async def upload(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *RECORD_WRITERS)
    language = language_of(request, viewer)
    sent = await request.form()
    form = {name: sent.get(name) == "true" for name in ("skip_invalid", "merge")}
    file = sent.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        message = translate(language, N_("Choose a CSV or JSON Lines file of records."))
        return _import_page(request, viewer, errors={"file": message}, form=form, status_code=422)
    name = Path(file.filename).name
    try:
        file_format(Path(name))
    except InvalidInput:
        message = translate(
            language,
            N_("%(name)s is neither CSV (.csv) nor JSON Lines (.jsonl): save it as one of them."),
            name=name,
        )
        return _import_page(request, viewer, errors={"file": message}, form=form, status_code=422)
    settings = settings_of(request)
    options = import_jobs.Options(
        skip_invalid=form["skip_invalid"],
        merge=form["merge"],
        batch_size=settings.import_batch_size,
        review_years=settings.review_years,
    )
    live: LiveIndex = request.app.state.live_index

    def screen_now() -> None:
        if live.ready:
            live.catch_up()

    def begin() -> str:
        copy = Path(tempfile.mkstemp(prefix="bordercheck-upload-", suffix=Path(name).suffix)[1])
        with copy.open("wb") as target:
            shutil.copyfileobj(file.file, target)
        return import_jobs.start(
            database_of(request),
            viewer.principal.actor(),
            copy,
            name,
            options,
            after=screen_now,
        )

    job_id = await run_in_threadpool(begin)
    return redirect(request, f"/records/imports/{job_id}")


def _shown(job: Any) -> dict[str, Any]:
    done = import_jobs.rows_done(job)
    total = max(job.total_rows, done)
    return {
        "job": job,
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else 0,
        "running": job.state == import_jobs.RUNNING,
    }


@router.get("/records/imports/{import_id}")
def import_status(request: Request, viewer: ViewerDep, import_id: str) -> Response:
    allow(viewer, *RECORD_WRITERS)
    with database_of(request).session() as session:
        job = import_jobs.get(session, import_id[:32], viewer.bureau_code)
        shown = _shown(job)
    fragment = bool(request.headers.get("HX-Request"))
    return render(
        request,
        "records/_import_status.html" if fragment else "records/import_status.html",
        {"viewer": viewer, "may_write": True, **shown},
        language=language_of(request, viewer),
    )


@router.get("/records/imports/{import_id}/rejected")
def rejected_rows(request: Request, viewer: ViewerDep, import_id: str) -> Response:
    """The refused rows with why (column rejected_because): corrected, it imports as it is."""
    allow(viewer, *RECORD_WRITERS)
    with database_of(request).session() as session:
        job = import_jobs.get(session, import_id[:32], viewer.bureau_code)
        content = job.rejects_file or ""
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", Path(job.file_name).stem)[:60] or "records"
        suffix = Path(job.file_name).suffix.lower()
    kind = "text/csv" if suffix in CSV_SUFFIXES else "application/x-ndjson"
    if suffix not in CSV_SUFFIXES | JSONL_SUFFIXES:
        suffix = ".csv"
    return Response(
        content.encode(),
        media_type=f"{kind}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{stem}.rejected{suffix}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
