"""``bordercheck records …``: import, imports, export, add, list, search, show, update, withdraw,
review."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from bordercheck.auth.actors import Actor, command_line_actor
from bordercheck.console import country_code, document_number, err, new_app, out, state
from bordercheck.db import Database
from bordercheck.documents.countries import normalise_country
from bordercheck.documents.numbers import normalise_number
from bordercheck.documents.types import DocumentType, Status
from bordercheck.errors import BordercheckError, FieldError
from bordercheck.registry import import_jobs, service
from bordercheck.registry.files import (
    REJECTED_BECAUSE,
    RowWriter,
    count_lines,
    file_format,
    rejection_reasons,
    write_rows,
)
from bordercheck.registry.importer import ImportRejected, export_rows, import_file
from bordercheck.registry.models import Record, RecordImport
from bordercheck.registry.schemas import RECORD_FIELDS
from bordercheck.registry.search import MAX_PAGE, RecordFilter, decode_cursor, search_records

app = new_app("Stolen, lost, revoked and invalidated documents: the system of record.")

BureauOption = Annotated[
    str | None,
    typer.Option("--bureau", help="Act as this country's bureau (default: as the system)."),
]


def _actor(ctx: typer.Context, bureau: str | None) -> Actor:
    code = normalise_country(bureau) if bureau else None
    return command_line_actor(code, state(ctx).settings.secretariat_code)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    bureau: BureauOption = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            help="Import the valid rows; write the invalid ones, each with why (column "
            "rejected_because, which import skips), to --rejected."
        ),
    ] = False,
    rejected: Annotated[
        Path | None,
        typer.Option(
            help="Where --skip-invalid writes rejected rows "
            "(default: beside FILE, as NAME.rejected.csv or NAME.rejected.jsonl)."
        ),
    ] = None,
    merge: Annotated[
        bool, typer.Option(help="Update records the file holds differently, instead of refusing.")
    ] = False,
) -> None:
    """Import records from CSV or JSON Lines: all rows or, if any is invalid, none."""
    cli = state(ctx)
    file_format(file)
    rejected_path = rejected or file.with_name(f"{file.stem}.rejected{file.suffix}")
    writer = RowWriter(rejected_path, with_reasons=True) if skip_invalid else None

    def on_rejected(line: int, raw: dict[str, Any], errors: list[FieldError]) -> None:
        if writer is not None:
            writer.write({**raw, REJECTED_BECAUSE: rejection_reasons(errors)})

    total = max(count_lines(file) - (1 if file.suffix.lower() == ".csv" else 0), 0)
    database = cli.database
    actor = _actor(ctx, bureau)
    options = import_jobs.Options(skip_invalid=skip_invalid, merge=merge)
    job_id = import_jobs.begin(database, actor, file.name, options, total)
    stored_progress = import_jobs.progress(database, job_id)
    outcome: dict[str, Any] = {
        "state": import_jobs.FAILED,
        "message": "the import stopped on an unexpected error",
    }
    try:
        with database.session(write=True) as session, _progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=total)

            def on_progress(rows: int) -> None:
                progress.update(task, completed=rows)
                stored_progress(rows)

            report = import_file(
                session,
                actor,
                file,
                skip_invalid=skip_invalid,
                merge=merge,
                batch_size=cli.settings.import_batch_size,
                review_years=cli.settings.review_years,
                on_rejected=on_rejected,
                on_progress=on_progress,
            )
            outcome = import_jobs.reported(import_jobs.DONE, report)
            import_jobs.record_outcome(session, job_id, outcome)
    except ImportRejected as exc:
        outcome = import_jobs.reported(import_jobs.REJECTED, exc.report, exc.message)
        _print_errors(exc.report.errors)
        err.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    except BordercheckError as exc:
        outcome = {"state": import_jobs.FAILED, "message": exc.message}
        raise
    except KeyboardInterrupt:
        outcome = {"state": import_jobs.FAILED, "message": "interrupted; nothing was written"}
        raise
    finally:
        if writer is not None:
            writer.close()
        if outcome["state"] != import_jobs.DONE:  # else recorded with the records
            _finish_quietly(database, job_id, outcome)
    if report.errors:
        _print_errors(report.errors)
        err.print(f"{report.rejected_rows:,} rejected rows written to {rejected_path}")
    elif writer is not None:
        rejected_path.unlink(missing_ok=True)
    out.print(
        f"{report.rows:,} rows: {report.created:,} created, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged, {report.rejected_rows:,} rejected"
    )


def _finish_quietly(database: Database, job_id: str, outcome: dict[str, Any]) -> None:
    """Record how the import ended; the import's own outcome (or error) is what is told."""
    try:
        import_jobs.finish(database, job_id, outcome)
    except Exception:  # e.g. the disk full: the next look notices the import stopped
        err.print(f"could not record how import {job_id} ended", markup=False)


@app.command("imports")
def imports(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The latest imports (from here and from the console), with how each ended.

    An import whose process stopped without saying how it ended (killed, or its machine
    stopped) is marked failed here: nothing of it was written.
    """
    database = state(ctx).database
    with database.session(write=True) as session:
        stopped = import_jobs.notice_stopped(session)
        jobs = session.scalars(
            select(RecordImport).order_by(RecordImport.started_at.desc()).limit(limit)
        ).all()
        rows = [_import_json(job) for job in jobs]
    for job_id in stopped:
        err.print(f"import {job_id}: {import_jobs.STOPPED}", markup=False)
    if as_json:
        for row in rows:
            out.print_json(data=row, indent=None)
        return
    table = Table("id", "started", "by", "file", "state", "rows", "created", "updated", "rejected")
    for row in rows:
        table.add_row(
            row["id"], row["started_at"], row["started_by"], row["file_name"], row["state"],
            f"{row['rows_done']:,}/{row['total_rows']:,}", f"{row['created']:,}",
            f"{row['updated']:,}", f"{row['rejected']:,}",
        )  # fmt: skip
    out.print(table)


def _import_json(job: RecordImport) -> dict[str, Any]:
    return {
        "id": job.id,
        "bureau": job.bureau_code,
        "started_by": job.started_by,
        "file_name": job.file_name,
        "state": job.state,
        "total_rows": job.total_rows,
        "rows_done": job.rows_done,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "rejected": job.rejected,
        "message": job.message,
        "started_at": job.started_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _print_errors(errors: list[FieldError]) -> None:
    for error in errors:
        where = f"line {error.line:,}" if error.line is not None else "file"
        err.print(f"{where}: {error.field}: {error.reason}", soft_wrap=True, markup=False)


@app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(dir_okay=False)],
    include_withdrawn: Annotated[bool, typer.Option(help="Also export withdrawn records.")] = False,
) -> None:
    """Export records as CSV or JSON Lines (by extension), in the form import reads."""
    file_format(file)
    with state(ctx).database.session() as session:
        count = write_rows(file, export_rows(session, include_withdrawn=include_withdrawn))
    out.print(f"{count:,} records written to {file}")


@app.command("add")
def add(
    ctx: typer.Context,
    number: Annotated[str, typer.Option(help="Document number (first of a range).")],
    country: Annotated[str, typer.Option(help="Issuing country.")],
    type_: Annotated[str, typer.Option("--type", help="Document type, e.g. passport.")],
    status: Annotated[str, typer.Option(help="stolen, lost, revoked or invalidated.")],
    bureau: BureauOption = None,
    blank: Annotated[bool, typer.Option(help="A blank (never issued) document.")] = False,
    serial_end: Annotated[str | None, typer.Option(help="Last number of a blank range.")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--set", help="Any other field, as FIELD=VALUE.")
    ] = None,
    merge: Annotated[
        bool, typer.Option(help="Update an existing record of the same document.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Report one document (or a range of blank documents) as stolen, lost, revoked or invalid."""
    cli = state(ctx)
    data: dict[str, Any] = {
        "document_number": number,
        "issuing_country": country,
        "document_type": type_,
        "status": status,
        "blank": blank,
        "serial_end": serial_end,
        **_assignments(field or []),
    }
    fields = service.parse_fields(data)
    with cli.database.session(write=True) as session:
        record = service.create_record(
            session,
            _actor(ctx, bureau),
            fields,
            merge=merge,
            review_years=cli.settings.review_years,
        )
        _print_record(record, as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    version: Annotated[int, typer.Option(help="The version you read; a stale one is refused.")],
    field: Annotated[list[str], typer.Option("--set", help="A field to change, as FIELD=VALUE.")],
    bureau: BureauOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Change fields of a record, as of the version you read."""
    with state(ctx).database.session(write=True) as session:
        record = service.update_record(
            session, _actor(ctx, bureau), record_id, version, _assignments(field)
        )
        _print_record(record, as_json)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    version: Annotated[int, typer.Option(help="The version you read; a stale one is refused.")],
    reason: Annotated[str, typer.Option(help="Why: document recovered, reported in error…")],
    bureau: BureauOption = None,
) -> None:
    """Take a record out of screening; its history is kept."""
    with state(ctx).database.session(write=True) as session:
        record = service.withdraw_record(session, _actor(ctx, bureau), record_id, version, reason)
        out.print(f"record {record.id} withdrawn (version {record.version}): {reason}")


@app.command("review")
def review(
    ctx: typer.Context,
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    version: Annotated[int, typer.Option(help="The version you read; a stale one is refused.")],
    bureau: BureauOption = None,
) -> None:
    """Confirm a record is still valid; its review date moves on."""
    cli = state(ctx)
    with cli.database.session(write=True) as session:
        record = service.mark_reviewed(
            session,
            _actor(ctx, bureau),
            record_id,
            version,
            review_years=cli.settings.review_years,
        )
        out.print(f"record {record.id} reviewed; next review due {record.review_due}")


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="A record id, or a document number.")],
    country: Annotated[str | None, typer.Option(help="Issuing country, with a number.")] = None,
    with_history: Annotated[bool, typer.Option("--history", help="Show every version.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a record by id, or every record with a document number."""
    with state(ctx).database.session() as session:
        if ref.isdigit() and country is None:
            records = [service.get_record(session, int(ref))]
        else:
            code = normalise_country(country) if country else None
            records = service.find_records(session, normalise_number(ref), code)
        if not records:
            err.print(f"no record with number {ref}")
            raise typer.Exit(1)
        for record in records:
            _print_record(record, as_json)
            if with_history:
                for entry in service.history(session, record.id):
                    _print_history(entry, as_json)


@app.command("overdue")
def overdue(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
) -> None:
    """Records past their review date, oldest first: their owners should review them."""
    with state(ctx).database.session() as session:
        records = service.overdue(session, date.today(), limit)
    table = Table("id", "document", "country", "type", "review due")
    for record in records:
        table.add_row(
            str(record.id),
            record.document_number,
            record.issuing_country,
            record.document_type,
            record.review_due.isoformat(),
        )
    out.print(table if records else "no record is past its review date")


@app.command("list")
def list_(
    ctx: typer.Context,
    country: Annotated[
        str | None, typer.Option(parser=country_code, help="Only this country's records.")
    ] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    document_type: Annotated[
        DocumentType | None, typer.Option("--type", help="Only this document type.")
    ] = None,
    blank: Annotated[
        bool | None, typer.Option("--blank/--issued", help="Blank documents, or issued ones.")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(parser=document_number, help="Numbers that begin with this.")
    ] = None,
    incident: Annotated[str | None, typer.Option(help="Only this incident reference.")] = None,
    review_due_by: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Review due on or before this day."),
    ] = None,
    withdrawn: Annotated[bool, typer.Option(help="Withdrawn records too.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="At most this many.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous page.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """List records, newest first, with filters; a page at a time."""
    criteria = RecordFilter(
        countries=frozenset({country}) if country else None,
        number_prefix=prefix,
        status=status.value if status else None,
        document_type=document_type.value if document_type else None,
        blank=blank,
        incident_ref=incident,
        review_due_by=review_due_by.date() if review_due_by else None,
        include_withdrawn=withdrawn,
    )
    after = decode_cursor(cursor, "--cursor") if cursor else None
    _print_page(ctx, criteria, limit=limit, after=after, as_json=as_json)


@app.command("search")
def search(
    ctx: typer.Context,
    number: Annotated[
        str, typer.Argument(parser=document_number, help="A document number, or its beginning.")
    ],
    country: Annotated[
        str | None, typer.Option(parser=country_code, help="Only this country's records.")
    ] = None,
    exact: Annotated[bool, typer.Option(help="This number only, not those it begins.")] = False,
    withdrawn: Annotated[bool, typer.Option(help="Withdrawn records too.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Find records by document number: exactly, or every number that begins with it."""
    criteria = RecordFilter(
        countries=frozenset({country}) if country else None,
        document_number=number if exact else None,
        number_prefix=None if exact else number,
        include_withdrawn=withdrawn,
    )
    _print_page(ctx, criteria, limit=limit, after=None, as_json=as_json)


def _print_page(
    ctx: typer.Context, criteria: RecordFilter, *, limit: int, after: int | None, as_json: bool
) -> None:
    with state(ctx).database.session() as session:
        page = search_records(session, criteria, limit=limit, after=after)
        if as_json:
            for record in page.records:
                out.print(orjson.dumps(record_json(record)).decode(), soft_wrap=True,
                          markup=False, highlight=False)  # fmt: skip
        elif page.records:
            table = Table("id", "document", "country", "type", "status", "event", "review due")
            for record in page.records:
                table.add_row(
                    str(record.id),
                    record.document_number + (f"-{record.serial_end}" if record.serial_end else ""),
                    record.issuing_country,
                    record.document_type + (" (blank)" if record.blank else ""),
                    record.status if record.active else f"{record.status}, withdrawn",
                    record.event_date.isoformat() if record.event_date else "",
                    record.review_due.isoformat(),
                )
            out.print(table)
        else:
            err.print("no record matches")
    if page.next_cursor:
        err.print(f"more: add --cursor {page.next_cursor}", markup=False, highlight=False)


def _assignments(items: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in RECORD_FIELDS:
            raise typer.BadParameter(
                f"{item!r}: expected FIELD=VALUE with FIELD one of {', '.join(RECORD_FIELDS)}",
                param_hint="--set",
            )
        data[name] = value
    return data


def record_json(record: Record) -> dict[str, Any]:
    data = service.snapshot(record)
    data.update(
        id=record.id,
        version=record.version,
        review_overdue=record.active and record.review_due < date.today(),
        created_at=record.created_at.isoformat(),
        created_by=record.created_by,
        updated_at=record.updated_at.isoformat(),
        updated_by=record.updated_by,
    )
    return data


def _print_record(record: Record, as_json: bool) -> None:
    data = record_json(record)
    if as_json:
        out.print(orjson.dumps(data).decode(), soft_wrap=True, markup=False)
        return
    state_text = "active" if record.active else f"withdrawn ({record.withdrawal_reason})"
    if data["review_overdue"]:
        state_text += ", [bold red]review overdue[/]"
    table = Table(title=f"record {record.id} · version {record.version} · {state_text}")
    table.add_column("field")
    table.add_column("value")
    for name in (
        *RECORD_FIELDS,
        "review_due",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ):
        value = data.get(name)
        if value is not None and value != "":
            table.add_row(name, str(value))
    out.print(table)


def _print_history(entry: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print(orjson.dumps(entry).decode(), soft_wrap=True, markup=False)
    else:
        out.print(
            f"  v{entry['version']} {entry['kind']} {entry['at']} by {entry['by']}", markup=False
        )
