"""``bordercheck hits …``: the deadline sweep and the webhook outbox, run by hand or by cron.

The API processes run both in the background; these commands are for deployments that
run them elsewhere, and for catching up after an outage.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bordercheck.console import new_app, out, state
from bordercheck.hits.delivery import Courier
from bordercheck.hits.worker import run_sweep

app = new_app("Hit cases: deadlines, reminders, escalation, webhook events.")


@app.command("sweep")
def sweep(ctx: typer.Context) -> None:
    """Remind owners of cases due soon and escalate those past their deadline, once."""
    cli = state(ctx)
    report = run_sweep(cli.database, cli.settings)
    out.print(f"reminded {report.reminded}, escalated {report.escalated}")


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for each receiver (default: setting).")
    ] = None,
) -> None:
    """Send the webhook events that are due now; exits 1 if one failed for good."""
    cli = state(ctx)
    settings = cli.settings
    if timeout is not None:
        settings = settings.model_copy(update={"webhook_timeout_seconds": timeout})
    courier = Courier(cli.database, settings)
    try:
        report = courier.deliver_due()
    finally:
        courier.close()
    out.print(
        f"delivered {report.delivered}, to retry later {report.retrying}, failed {report.failed}"
    )
    if report.failed:
        raise typer.Exit(1)
