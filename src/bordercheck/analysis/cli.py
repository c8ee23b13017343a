"""``bordercheck analysis …``: the report, the networks, and a network as a graph file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bordercheck.console import err, new_app, out, state

app = new_app("Networks behind stolen documents: their links, routes and shifts; the report.")


def _analysed(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from bordercheck.analysis.state import AnalysisState

    cli = state(ctx)
    analysis = AnalysisState()
    started = time.perf_counter()
    with cli.database.session() as session:
        picture = analysis.current(session)
    err.print(f"analysed in {time.perf_counter() - started:.1f} s", soft_wrap=True)
    return analysis, picture


@app.command("report")
def report(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write.", dir_okay=False)],
) -> None:
    """Write the analyst's report: networks ranked with their diagrams, routes by week with
    the shifts marked, hits per border post (one self-contained HTML file)."""
    from bordercheck.analysis.report import render

    analysis, picture = _analysed(ctx)
    out_file.write_text(render(analysis.links, picture), encoding="utf-8")
    out.print(
        f"report written to {out_file}: {len(picture.networks)} networks, "
        f"{sum(len(n.shifts) for n in picture.networks)} shifts"
    )


@app.command("networks")
def networks(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Networks to list.", min=1)] = 20,
) -> None:
    """List the networks, ranked."""
    _, picture = _analysed(ctx)
    table = Table()
    table.add_column("#")
    table.add_column("network", no_wrap=True, min_width=10)
    for column in ("score", "documents", "travellers", "hits", "seen", "route", "shifts"):
        table.add_column(column, overflow="fold")
    for n in picture.networks[:limit]:
        route = n.trips[-1].label if n.trips else ""
        table.add_row(
            str(n.rank),
            n.id,
            f"{n.score:.0f}",
            str(len(n.documents)),
            str(len(n.travellers)),
            f"{n.confirmed}/{len(n.hits)}",
            f"{n.first_seen} – {n.last_seen}",
            route,
            str(len(n.shifts)),
        )
    out.print(table)


@app.command("export")
def export_network(
    ctx: typer.Context,
    network_id: Annotated[str, typer.Argument(help="The network's id, e.g. N-3CF8E1D0.")],
    out_file: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)],
    form: Annotated[str, typer.Option("--format", help="graphml or gexf (Gephi).")] = "graphml",
) -> None:
    """Write one network as GraphML or GEXF, for Gephi and other graph tools."""
    from bordercheck.analysis.export import export

    if form not in ("graphml", "gexf"):
        err.print("[red]error:[/] --format: graphml or gexf")
        raise typer.Exit(2)
    analysis, picture = _analysed(ctx)
    network = picture.by_id.get(network_id)
    if network is None:
        err.print(f"[red]error:[/] no network {network_id}")
        raise typer.Exit(1)
    out_file.write_bytes(export(analysis.links, picture, network, None, form))
    out.print(f"network {network_id} written to {out_file}")
