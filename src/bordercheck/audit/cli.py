"""``bordercheck audit verify``, ``audit checkpoint`` and ``audit search``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from bordercheck.audit import service
from bordercheck.audit.checkpointing import (
    NoCheckpointKey,
    signer_from,
    take_checkpoint,
    trusted_checkpoints,
)
from bordercheck.audit.checkpoints import (
    CheckpointError,
    append_line,
    checkpoint_paths,
    daily_file,
    latest_own,
)
from bordercheck.console import err, new_app, out, state

app = new_app("The audit trail: every change of state and every sign-in, hash-chained.")


@app.command()
def verify(
    ctx: typer.Context,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint file, or a directory of them: the chain must pass through each."
        ),
    ] = None,
    public_key: Annotated[
        list[str] | None,
        typer.Option(help="A public key (base64) trusted to sign checkpoints; repeatable."),
    ] = None,
) -> None:
    """Check the whole chain; exit 1 naming the first entry altered or removed.

    Needs the BORDERCHECK_SECRET_KEY the entries were written with. With --checkpoint, also
    finds a chain cut or rewritten after the checkpoint was signed, even by someone holding
    the secret key; a checkpoint whose signature does not verify is refused (exit 1).
    """
    settings = state(ctx).settings
    pins = []
    if checkpoint is not None:
        try:
            found = trusted_checkpoints(settings, checkpoint, public_key or [])
        except ValueError as exc:
            err.print(f"[red]error:[/] --public-key: {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
        except (NoCheckpointKey, CheckpointError) as exc:
            err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
            raise typer.Exit(2) from None
        if found.refusals:
            for refusal in found.refusals:
                err.print(
                    f"[red]checkpoint refused:[/] {refusal.where}: {refusal.reason}",
                    soft_wrap=True,
                )
            raise typer.Exit(1)
        if not found.checkpoints:
            err.print(f"[red]error:[/] {checkpoint} holds no checkpoint", soft_wrap=True)
            raise typer.Exit(2)
        pins = [c.pin() for c in found.checkpoints]
    with state(ctx).database.session() as session:
        report = service.verify(session, pins=pins)
    if report.problem is not None:
        err.print(
            f"[red]audit trail broken at entry {report.problem.seq}:[/] {report.problem.reason} "
            f"({report.checked:,} entries checked and intact)",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    out.print(
        f"audit trail intact: {report.checked:,} entries, last {report.last_seq} "
        f"with hash {report.last_hash}",
        soft_wrap=True,
    )
    out.print("head: its seal matches (keyed from BORDERCHECK_SECRET_KEY)", soft_wrap=True)
    # Say what was and was not shown: "intact" alone would claim more than a chain can.
    if not pins:
        out.print(
            "no checkpoint given: a truncation or rewrite by someone holding the secret key, "
            "or the database restored to an earlier state, would not be detected "
            "(pass --checkpoint FILE)",
            soft_wrap=True,
        )
        return
    latest = max(pins, key=lambda pin: pin.seq)
    out.print(
        f"agrees with {len(pins):,} checkpoint(s); the furthest, {latest.source}, vouches that "
        f"nothing up to entry {latest.seq} was removed, altered or reordered since it was signed",
        soft_wrap=True,
    )
    if report.last_seq > latest.seq:
        out.print(
            f"entries {latest.seq + 1} to {report.last_seq} are newer than every checkpoint: "
            "only the chain and the head's seal vouch for them",
            soft_wrap=True,
        )


@app.command()
def checkpoint(
    ctx: typer.Context,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Append the checkpoint to this file, or to the day's file in this directory "
            "(default: print it).",
        ),
    ] = None,
) -> None:
    """Sign a checkpoint of the chain's head with BORDERCHECK_AUDIT_SIGNING_KEY.

    The chain is checked first (from the last checkpoint in --out, else from the start);
    a broken chain gets no checkpoint (exit 1). Keep checkpoints where whoever can write
    the database cannot: another machine, a ticket, a witness.
    """
    cli = state(ctx)
    signer = signer_from(cli.settings)
    after = None
    if out_file is not None and out_file.exists():
        after = latest_own(checkpoint_paths(out_file), signer)
    made = take_checkpoint(cli.database, signer, after=after)
    if out_file is None:
        typer.echo(made.to_line(), nl=False)
        return
    target = daily_file(out_file, made.at) if out_file.is_dir() else out_file
    append_line(target, made.to_line())
    err.print(f"checkpoint of entry {made.seq} appended to {target}", soft_wrap=True)


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
