"""``bordercheck operations …``: an operation's figures and its final report, from the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from bordercheck.audit.service import command_line_actor
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.console import new_app, out, state
from bordercheck.errors import BordercheckError
from bordercheck.operations import report, service, thread
from bordercheck.operations.service import Figures
from bordercheck.timestamps import utcnow

app = new_app("Operations: their live figures and final reports.")


@app.command("list")
def list_operations(ctx: typer.Context) -> None:
    """Every operation: id, dates, state, name."""
    cli = state(ctx)
    with cli.database.session() as session:
        found = service.everything(session)
    today = utcnow().date()
    for operation in found:
        out.print(
            f"{operation.id}\t{operation.starts_on} … {operation.ends_on}\t"
            f"{operation.state(today)}\t{operation.name}",
            soft_wrap=True,
        )


@app.command("show")
def show(
    ctx: typer.Context,
    operation_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The operation.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """The operation's figures as they stand: per day, border post and bureau; hit cases,
    answers and outcomes (the same as GET /api/v1/operations/ID/figures)."""
    cli = state(ctx)
    with cli.database.session() as session:
        figures = service.figures(session, service.find(session, operation_id))
    if as_json:
        out.print_json(orjson.dumps(figures.as_dict()).decode())
        return
    _print(figures)


@app.command("report")
def write_report(
    ctx: typer.Context,
    operation_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The operation.")],
    format: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    language: Annotated[
        str, typer.Option("--language", help="The report's language: en, fr, es or ar.")
    ] = "en",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="The file (default: operation-ID.FORMAT)."),
    ] = None,
) -> None:
    """Write the final report (charts, tables, participants, cases as counts and outcomes; no
    personal data, no document number) to a file a coordinator can send as it is."""
    cli = state(ctx)
    report.language_of(language)  # before the database is opened
    target = out_file or Path(f"operation-{operation_id}.{format}")
    with cli.database.session() as session:
        figures = service.figures(session, service.find(session, operation_id))
        body = report.render(session, figures, format, language)
    try:
        target.write_bytes(body)
    except OSError as exc:
        raise BordercheckError(f"cannot write {target}: {exc.strerror or exc}") from None
    out.print(f"{target} ({len(body):,} bytes)", soft_wrap=True)


def _actor(ctx: typer.Context) -> Actor:
    # A coordinator's change, made on the server: recorded as the command's user, acting for
    # the secretariat.
    code = state(ctx).settings.secretariat_code
    return Actor(name=command_line_actor(), role=Role.ADMIN, bureau_code=code)


@app.command("invite")
def invite(
    ctx: typer.Context,
    operation_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The operation.")],
    partner: Annotated[str, typer.Argument(metavar="ORG", help="The partner's code.")],
) -> None:
    """Invite a partner organisation: its accounts see the operation, its figures, report and
    thread, nothing else."""
    cli = state(ctx)
    actor = _actor(ctx)
    with cli.database.session(write=True) as session:
        operation = service.invite(session, actor, operation_id, partner)
        thread.ensure(session, cli.settings, actor, operation)
    out.print(f"operation {operation.id}: partners {', '.join(operation.partners)}", soft_wrap=True)


@app.command("uninvite")
def uninvite(
    ctx: typer.Context,
    operation_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The operation.")],
    partner: Annotated[str, typer.Argument(metavar="ORG", help="The partner's code.")],
) -> None:
    """Remove a partner organisation from an operation: its accounts lose it at once."""
    cli = state(ctx)
    actor = _actor(ctx)
    with cli.database.session(write=True) as session:
        operation = service.uninvite(session, actor, operation_id, partner)
        thread.ensure(session, cli.settings, actor, operation)
    out.print(
        f"operation {operation.id}: partners {', '.join(operation.partners) or 'none'}",
        soft_wrap=True,
    )


def _print(figures: Figures) -> None:
    operation = figures.operation
    total = figures.total
    out.print(
        f"operation {operation.id} {operation.name!r}: {operation.starts_on} … "
        f"{operation.ends_on} ({operation.state(figures.computed_at.date())}), "
        f"{total.checked:,} documents checked, {total.hit} hit(s), "
        f"{total.possible_hit} possible hit(s)",
        soft_wrap=True,
    )
    for title, rows in (
        ("day", [(d.isoformat(), t) for d, t in figures.by_day.items()]),
        ("border post", [(k or "other places", t) for k, t in figures.by_location.items()]),
        ("bureau", list(figures.by_bureau.items())),
    ):
        table = Table()
        for column in (title, "checked", "hits", "possible hits"):
            table.add_column(column)
        for name, tally in rows:
            table.add_row(name, f"{tally.checked:,}", str(tally.hit), str(tally.possible_hit))
        out.print(table)
    times = figures.answer_times()
    answers = ", ".join(f"{k} {v}" for k, v in figures.answers().items())
    outcomes = ", ".join(f"{k} {v}" for k, v in figures.outcomes().items())
    sources = ", ".join(f"{k} {v:,}" for k, v in figures.by_source.items()) or "none"
    out.print(f"checks from: {sources}", soft_wrap=True)
    out.print(f"cases: {len(figures.cases)}; answers: {answers}", soft_wrap=True)
    median, longest = (
        report.duration(str, times[key]) for key in ("median_seconds", "longest_seconds")
    )
    out.print(f"answer time: median {median}, longest {longest}", soft_wrap=True)
    out.print(f"outcomes: {outcomes}", soft_wrap=True)
    out.print(f"computed in {figures.compute_seconds * 1000:.0f} ms", soft_wrap=True)
