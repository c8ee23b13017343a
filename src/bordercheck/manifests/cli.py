"""``bordercheck manifests …``: screen PAXLST files on the server, forget old lists."""

from __future__ import annotations

import getpass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from bordercheck.console import err, new_app, out, state
from bordercheck.documents.countries import normalise_country
from bordercheck.hits.service import CaseOpener
from bordercheck.manifests import service
from bordercheck.manifests.edifact import ManifestUnreadable
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.schemas import interchange_answer
from bordercheck.screening.live import build_from_registry, screening_key, withheld_records
from bordercheck.screening.querylog import write_entries
from bordercheck.screening.service import Asker
from bordercheck.timestamps import utcnow

app = new_app("Passenger lists (PAXLST): screen them, forget old ones.")


@app.command("screen")
def screen(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    bureau: Annotated[
        str | None,
        typer.Option("--bureau", help="Screen for this country's bureau (default: the system)."),
    ] = None,
    location: Annotated[str | None, typer.Option(help="Border post code, logged.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answers as JSON.")] = False,
) -> None:
    """Screen every document on each list, store the lists, open hit cases; exit 1 if a file
    could not be read."""
    cli = state(ctx)
    database = cli.database
    index = build_from_registry(database, screening_key(cli.settings.secret_key))
    withheld = withheld_records(database)
    code = normalise_country(bureau) if bureau else cli.settings.secretariat_code
    asker = Asker(kind="command", name=f"cli:{getpass.getuser()}", bureau_code=code)
    # What screening found opens hit cases, in the transaction that logs the queries.
    on_hits = [CaseOpener.from_settings(cli.settings)]
    answers: list[dict[str, Any]] = []
    unreadable = 0
    for file in files:
        try:
            interchange = parse_paxlst(file.read_bytes())
        except ManifestUnreadable as exc:
            unreadable += 1
            err.print(f"[red]error:[/] {file}: {exc.message}", soft_wrap=True)
            answers.append({"file": str(file), "error": exc.message})
            continue
        screened = [
            service.screen_manifest(index, manifest, asker, location=location,
                                    withheld_from=lambda r: withheld.get(r, frozenset()))
            for manifest in interchange.manifests
        ]  # fmt: skip
        # The list, its queries and the hit cases they open: one transaction, committed
        # before the answer is printed.
        with database.session(write=True) as session:
            for one in screened:
                service.store(session, interchange, one, asker, source="cli")
                write_entries(session, one.logged, on_hits=on_hits)
        answer = {"file": str(file)} | interchange_answer(interchange, screened)
        answers.append(answer)
        if not as_json:
            _print(answer)
    if as_json:
        out.print_json(orjson.dumps({"files": answers}).decode())
    if unreadable:
        raise typer.Exit(1)


def _print(answer: dict[str, Any]) -> None:
    for warning in answer["warnings"]:
        err.print(f"[yellow]warning:[/] {answer['file']}: {warning}", soft_wrap=True)
    for manifest in answer["manifests"]:
        route = f"{manifest['departure'] or '?'} → {manifest['arrival'] or '?'}"
        out.print(
            f"{answer['file']}: flight {manifest['flight'] or '?'} {route}, "
            f"{manifest['travellers']} {manifest['list_type']} read, "
            f"{manifest['documents_screened']} documents screened, "
            f"{len(manifest['hits'])} hit(s) (manifest {manifest['manifest_id']})",
            soft_wrap=True,
        )
        table = Table()
        for column in ("#", "name", "seat", "booking", "document", "country", "result", "match"):
            table.add_column(column)
        for found in [*manifest["hits"], *manifest["possible_hits"], *manifest["not_screened"]]:
            matches = found.get("matches") or []
            table.add_row(
                str(found["position"]), found["name"], found["seat"] or "",
                found["booking_reference"] or "", found["document_number"] or "",
                found["issuing_country"] or "", found["result"],
                ", ".join(m["match"] for m in matches) or (found.get("reason") or ""),
            )  # fmt: skip
        out.print(table)
        for warning in manifest["warnings"]:
            err.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)


@app.command("purge")
def purge(
    ctx: typer.Context,
    older_than_days: Annotated[
        int | None,
        typer.Option(help="Days to keep (default: BORDERCHECK_MANIFEST_RETENTION_DAYS).", min=0),
    ] = None,
) -> None:
    """Delete the lists, and their travellers, received before the retention period."""
    cli = state(ctx)
    days = cli.settings.manifest_retention_days if older_than_days is None else older_than_days
    with cli.database.session(write=True) as session:
        cutoff = utcnow() - timedelta(days=days)
        purged = service.purge(session, cutoff, actor=f"cli:{getpass.getuser()}")
    out.print(f"{purged:,} manifest(s) older than {days} days deleted")
