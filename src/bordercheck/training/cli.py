"""``bordercheck synth …``: a synthetic world of networks and flights, and loading it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from bordercheck.console import err, new_app, out, state

app = new_app("Synthetic worlds: smuggling networks hidden in months of flights, for training.")


@app.command("world")
def world(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the world into.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes the same world.")] = 2026,
    weeks: Annotated[int, typer.Option(help="Weeks of flights.", min=4, max=260)] = 26,
    networks: Annotated[int, typer.Option(help="Planted networks.", min=0)] = 4,
    impostors: Annotated[int, typer.Option(help="Lone impostors.", min=0)] = 8,
    records: Annotated[int, typer.Option(help="Other records in the registry.", min=0)] = 2000,
    flights_per_week: Annotated[
        int, typer.Option(help="Flights a week on each route leg.", min=1, max=7)
    ] = 1,
    passengers: Annotated[int, typer.Option(help="Ordinary passengers a flight.", min=4)] = 24,
    legs: Annotated[
        int | None,
        typer.Option(help="Route legs with weekly ordinary flights (default: every leg).", min=1),
    ] = None,
    start: Annotated[str, typer.Option(help="Monday the flights start (ISO date).")] = "2026-01-05",
) -> None:
    """Write records, PAXLST files, desk screenings and the ground truth (truth.json)."""
    from bordercheck.training.world import WorldSpec, write_world

    spec = WorldSpec(
        seed=seed,
        start=date.fromisoformat(start),
        weeks=weeks,
        networks=networks,
        lone_impostors=impostors,
        background_records=records,
        flights_per_leg_week=flights_per_week,
        passengers=passengers,
        scheduled_legs=legs,
    )
    counts = write_world(spec, out_dir)
    out.print(
        f"world {seed} written to {out_dir}: {counts['records']:,} records, "
        f"{counts['flights']:,} flights, {counts['travellers']:,} travellers, "
        f"{counts['networks']} networks, {counts['lone_impostors']} lone impostors"
    )


@app.command("load")
def load(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
) -> None:
    """Load a world through the system's own paths: records import, passenger lists
    screened and stored, hits opened, answered and closed (each audited)."""
    from bordercheck.training.load import load_world

    cli = state(ctx)
    counts = load_world(
        cli.database, cli.settings, directory, progress=lambda text: err.print(text)
    )
    out.print(
        f"loaded {counts['records']:,} records, {counts['manifests']:,} passenger lists "
        f"({counts['travellers']:,} travellers), {counts['desk_screenings']:,} desk screenings; "
        f"{counts['hits']:,} hits answered"
    )
