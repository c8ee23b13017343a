"""``bordercheck operations …``: an operation's figures and its final report, from the server."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal, command_line_principal
from bordercheck.console import new_app, out, state
from bordercheck.errors import BordercheckError, ValidationFailed
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


def _coordinator(ctx: typer.Context) -> Principal:
    # A coordinator's change, made on the server: recorded as the command's user, acting for
    # the secretariat.
    return command_line_principal(Role.ADMIN, state(ctx).settings.secretariat_code)


def _actor(ctx: typer.Context) -> Actor:
    return _coordinator(ctx).actor()


DAY = {"formats": ["%Y-%m-%d"], "metavar": "YYYY-MM-DD"}
# The options of ``create`` by the fields an operation's refusals name.
OPTIONS = {
    "name": "NAME", "purpose": "--purpose", "starts_on": "--from", "ends_on": "--to",
    "locations": "--post", "bureaus": "--bureau", "clients": "--client", "kits": "--kit",
}  # fmt: skip
Codes = list[str] | None


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The operation's name.")],
    starts: Annotated[datetime, typer.Option("--from", help="Its first day.", **DAY)],
    ends: Annotated[datetime, typer.Option("--to", help="Its last day.", **DAY)],
    posts: Annotated[
        Codes, typer.Option("--post", metavar="CODE", help="A border post (again for more).")
    ] = None,
    bureaus: Annotated[
        Codes,
        typer.Option("--bureau", metavar="CODE", help="A participating bureau (again for more)."),
    ] = None,
    clients: Annotated[
        Codes,
        typer.Option("--client", metavar="ID", help="An API client taking part (again for more)."),
    ] = None,
    kits: Annotated[
        Codes,
        typer.Option("--kit", metavar="ID", help="An offline kit taking part (again for more)."),
    ] = None,
    purpose: Annotated[str, typer.Option("--purpose", metavar="TEXT", help="What it is for.")] = "",
) -> None:
    """Create an operation, as POST /api/v1/operations does: its days, border posts,
    participating bureaus, and the API clients and offline kits taking part."""
    cli = state(ctx)
    coordinator = _coordinator(ctx)
    new = service.NewOperation(
        name=name, purpose=purpose, starts_on=starts.date(), ends_on=ends.date(),
        locations=posts or [], bureaus=bureaus or [], clients=clients or [], kits=kits or [],
    )  # fmt: skip
    with cli.database.session(write=True) as session:
        try:
            made = service.create(session, coordinator, cli.settings.secretariat_code, new)
        except ValidationFailed as failed:  # said by the options given, not the API's fields
            raise ValidationFailed(
                errors=[replace(e, field=OPTIONS.get(e.field, e.field)) for e in failed.errors]
            ) from None
        thread.ensure(session, cli.settings, coordinator.actor(), made)
    out.print(
        f"operation {made.id}: {made.name}, {made.starts_on} … {made.ends_on} "
        f"({made.state(utcnow().date())}), posts {', '.join(made.locations)}, "
        f"bureaus {', '.join(made.bureaus)}",
        soft_wrap=True,
    )


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
