"""``bordercheck audit verify`` and ``bordercheck audit search``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from bordercheck.audit import service
from bordercheck.console import err, new_app, out, state

app = new_app("The audit trail: every change of state and every sign-in, hash-chained.")


@app.command()
def verify(ctx: typer.Context) -> None:
    """Check the whole chain; exit 1 naming the first entry altered or removed.

    Needs the BORDERCHECK_SECRET_KEY the entries were written with.
    """
    with state(ctx).database.session() as session:
        report = service.verify(session)
    if report.problem is not None:
        err.print(
            f"[red]audit trail broken at entry {report.problem.seq}:[/] {report.problem.reason} "
            f"({report.checked:,} entries before it are intact)",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    # The last hash, written down elsewhere now and then, also shows a chain cut short later.
    out.print(
        f"audit trail intact: {report.checked:,} entries, last {report.last_seq} "
        f"with hash {report.last_hash}",
        soft_wrap=True,
    )


@app.command()
def search(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(help="e.g. record.updated, or record.")] = None,
    actor: Annotated[str | None, typer.Option(help="Who acted.")] = None,
    subject: Annotated[str | None, typer.Option(help="e.g. record:12, user:anna.k")] = None,
    bureau: Annotated[str | None, typer.Option(help="The bureau's country code.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this moment (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this moment (UTC).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 100,
) -> None:
    """Print matching entries, newest first, one JSON object a line."""
    criteria = service.AuditFilter(
        bureau_code=bureau.upper() if bureau else None,
        action=action,
        actor=actor,
        subject=subject,
        since=since,
        until=until,
    )
    with state(ctx).database.session() as session:
        page = service.search(session, criteria, limit=limit)
        for entry in page.entries:
            line = {
                "seq": entry.seq,
                "at": service.canonical_time(entry.at),
                "actor": entry.actor,
                "bureau": entry.bureau_code,
                "action": entry.action,
                "subject": entry.subject,
                "details": json.loads(entry.details),
            }
            typer.echo(json.dumps(line, ensure_ascii=False))
