"""``bordercheck index …``: build the screening snapshot that API nodes map at start."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bordercheck.console import new_app, out, state
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.live import build_from_registry, screening_key

app = new_app("The screening index: snapshots for API nodes.")


@app.command("build")
def build(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(help="Snapshot file to write (replaced atomically).")],
) -> None:
    """Build the index from the registry and write a snapshot, current to the feed's end."""
    cli = state(ctx)
    started = time.perf_counter()
    index = build_from_registry(cli.database, screening_key(cli.settings.secret_key))
    index.save(output)
    out.print(
        f"{index.size:,} records, sequence {index.sequence:,}, written to {output} "
        f"({output.stat().st_size / 1e6:,.1f} MB) in {time.perf_counter() - started:.1f} s",
        soft_wrap=True,
    )


@app.command("info")
def info(
    ctx: typer.Context,
    snapshot: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
) -> None:
    """Check a snapshot against this deployment's key and say what it holds."""
    cli = state(ctx)
    started = time.perf_counter()
    index = ScreeningIndex.load(snapshot, key=screening_key(cli.settings.secret_key))
    out.print(
        f"{snapshot}: {index.size:,} records, sequence {index.sequence:,}, "
        f"{index.memory_bytes / max(index.size, 1):.1f} bytes a record, "
        f"verified in {time.perf_counter() - started:.2f} s",
        soft_wrap=True,
    )
