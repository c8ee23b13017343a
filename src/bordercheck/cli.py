"""The ``bordercheck`` command: each domain mounts its own commands here."""

from __future__ import annotations

from typing import Annotated

import typer

from bordercheck import __version__
from bordercheck.audit.cli import app as audit_app
from bordercheck.auth.cli import bureaus_app, clients_app, users_app
from bordercheck.console import CliState, new_app, out, state
from bordercheck.documents.cli import mrz_app
from bordercheck.edge.cli import app as edge_app
from bordercheck.hits.cli import app as hits_app
from bordercheck.keys.cli import app as keys_app
from bordercheck.logs import configure_logging
from bordercheck.manifests.cli import app as manifests_app
from bordercheck.messaging.cli import app as messages_app
from bordercheck.registry.cli import app as records_app
from bordercheck.screening.cli import app as index_app

app = new_app("bordercheck: stolen and lost travel documents, recorded and screened.")
db_app = new_app("The database: schema migrations.")
app.add_typer(db_app, name="db")
app.add_typer(bureaus_app, name="bureaus")
app.add_typer(users_app, name="users")
app.add_typer(clients_app, name="clients")
app.add_typer(records_app, name="records")
app.add_typer(mrz_app, name="mrz")
app.add_typer(index_app, name="index")
app.add_typer(edge_app, name="edge")
app.add_typer(manifests_app, name="manifests")
app.add_typer(messages_app, name="messages")
app.add_typer(audit_app, name="audit")
app.add_typer(hits_app, name="hits")
app.add_typer(keys_app, name="keys")


@app.callback()
def root(ctx: typer.Context) -> None:
    """Settings come from BORDERCHECK_* environment variables and the settings file
    (BORDERCHECK_SETTINGS_FILE, else ./bordercheck.env; see docs/deployment.md)."""
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState.from_environment()
    if ctx.obj.loaded is not None:
        configure_logging(ctx.obj.loaded)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every migration, then make sure the central secretariat's bureau exists."""
    from bordercheck.auth.service import ensure_secretariat
    from bordercheck.migrations import head_revision, upgrade

    cli = state(ctx)
    upgrade(cli.settings.database_url)
    with cli.database.session(write=True) as session:
        ensure_secretariat(session, cli.settings.secretariat_code, cli.settings.secretariat_name)
    out.print(f"database is up to date (schema revision {head_revision()})")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: one per CPU core).", min=1),
    ] = None,
) -> None:
    """Serve the API and the console for the configured database.

    With several workers and no BORDERCHECK_INDEX_SNAPSHOT, the screening index is built (or
    refreshed) once, as a snapshot in BORDERCHECK_CACHE_DIR, that every worker maps.
    """
    from bordercheck.api.server import default_workers, run

    # A missing key is told in one line, before any worker starts.
    settings = state(ctx).settings
    run(host=host, port=port, workers=workers or default_workers(), settings=settings)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    records: Annotated[int, typer.Option(help="Synthetic records to create.", min=0)] = 100_000,
    database: Annotated[
        str, typer.Option(help="SQLite file to create afresh.")
    ] = "bordercheck-demo.db",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 2026,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Create, print, do not serve.")
    ] = False,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="Serve the demo database made before, with its settings and the same logins "
            "(--records and --seed are then ignored).",
        ),
    ] = False,
) -> None:
    """Create a fresh SQLite database with a synthetic world, print the logins, and serve.

    The logins are demo passwords by design, kept (mode 0600) in NAME.logins beside the
    database, so that `--keep` prints them again.
    """
    from bordercheck.demo import keep_demo, run_demo

    if keep:
        keep_demo(database=database, port=port, serve=not no_serve)
    else:
        run_demo(database=database, records=records, port=port, seed=seed, serve=not no_serve)


def main() -> None:
    app()
