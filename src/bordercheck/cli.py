"""The ``bordercheck`` command: each domain mounts its own commands here.

A domain's commands are imported only when one of them runs (``DOMAINS``), and settings only
when a command asks for them, so that ``bordercheck --help`` starts quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bordercheck import __version__
from bordercheck.console import CliState, LazyCommands, LazyGroup, err, new_app, out, state
from bordercheck.errors import BordercheckError

# Each group's line is the one its own --help starts with (tests/test_cli_startup.py checks).
DOMAINS = {
    "bureaus": LazyGroup(
        "bordercheck.auth.cli",
        "National bureaus: one per country, plus the central secretariat.",
        "bureaus_app",
    ),
    "partners": LazyGroup(
        "bordercheck.auth.cli",
        "Partner organisations (agencies, Europol, IOM…) invited to operations, and nothing else.",
        "partners_app",
    ),
    "users": LazyGroup("bordercheck.auth.cli", "People who sign in to bordercheck.", "users_app"),
    "clients": LazyGroup(
        "bordercheck.auth.cli",
        "Machines (border systems, edge kits) that sign in with a client secret.",
        "clients_app",
    ),
    "records": LazyGroup(
        "bordercheck.registry.cli",
        "Stolen, lost, revoked and invalidated documents: the system of record.",
    ),
    "mrz": LazyGroup(
        "bordercheck.documents.cli",
        "Read and write ICAO Doc 9303 machine-readable zones (TD1, TD2, TD3, MRV-A, MRV-B).",
        "mrz_app",
    ),
    "index": LazyGroup(
        "bordercheck.screening.cli", "The screening index: snapshots for API nodes."
    ),
    "edge": LazyGroup(
        "bordercheck.edge.cli",
        "Offline border kits: the centre's keys and kits, and the kit's own commands.",
    ),
    "manifests": LazyGroup(
        "bordercheck.manifests.cli", "Passenger lists (PAXLST): screen them, forget old ones."
    ),
    "operations": LazyGroup(
        "bordercheck.operations.cli", "Operations: their live figures and final reports."
    ),
    "messages": LazyGroup(
        "bordercheck.messaging.cli", "Messages between bureaus: their encryption and signing keys."
    ),
    "audit": LazyGroup(
        "bordercheck.audit.cli",
        "The audit trail: every change of state and every sign-in, hash-chained.",
    ),
    "hits": LazyGroup(
        "bordercheck.hits.cli", "Hit cases: deadlines, reminders, escalation, webhook events."
    ),
    "keys": LazyGroup("bordercheck.keys.cli", "The installation's keys."),
    "synth": LazyGroup(
        "bordercheck.training.cli",
        "Synthetic worlds: smuggling networks hidden in months of flights, for training.",
    ),
    "training": LazyGroup(
        "bordercheck.training.commands",
        "Training: sandboxes filled from a synthetic world, scenarios, and exercises.",
        "training_app",
    ),
    "analysis": LazyGroup(
        "bordercheck.analysis.cli",
        "Networks behind stolen documents: their links, routes and shifts; the report.",
    ),
}


class Bordercheck(LazyCommands):
    lazy = DOMAINS


app = new_app("bordercheck: stolen and lost travel documents, recorded and screened.", Bordercheck)
db_app = new_app("The database: schema migrations, backups and their restore.")
app.add_typer(db_app, name="db")


@app.callback()
def root(ctx: typer.Context) -> None:
    """Settings come from BORDERCHECK_* environment variables and the settings file
    (BORDERCHECK_SETTINGS_FILE, else ./bordercheck.env; see docs/deployment.md)."""
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState.from_environment()
    if ctx.obj.loaded is not None:
        from bordercheck.logs import configure_logging

        configure_logging(ctx.obj.loaded)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every migration, then make sure the central secretariat's bureau exists."""
    from bordercheck.auth.service import ensure_secretariat
    from bordercheck.db_checks import parse_database_url, place, reachable
    from bordercheck.installation import check_database
    from bordercheck.migrations import head_revision, upgrade

    cli = state(ctx)
    # One line for a server down or a bad URL; and a sandbox's settings never upgrade (nor
    # so create) another database, nor live settings a sandbox's.
    database = reachable(cli.settings.database_url)
    try:
        with database.engine.connect() as connection:
            where = place(parse_database_url(cli.settings.database_url))
            check_database(connection, cli.settings.training_sandbox, where)
    finally:
        database.dispose()
    upgrade(cli.settings.database_url, secret_key=cli.settings.secret_key)
    with cli.database.session(write=True) as session:
        ensure_secretariat(session, cli.settings.secretariat_code, cli.settings.secretariat_name)
    out.print(f"database is up to date (schema revision {head_revision()})")


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    out_file: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="The backup file to write (mode 0600).")
    ],
) -> None:
    """Write a backup of the configured database, consistent while the server goes on writing
    (SQLite's online backup; pg_dump for PostgreSQL), with a manifest saying what it is."""
    from bordercheck.audit.service import record_event
    from bordercheck.backup import backup

    cli = state(ctx)
    settings = cli.settings
    database = cli.database  # refused if it is not the database these settings are for
    with database.session(write=True) as session:
        # In the trail before the copy is made: the backup holds the entry that made it.
        record_event(
            session, actor="system:cli", bureau_code=settings.secretariat_code,
            action="db.backed_up", subject="database", details={"file": out_file.name},
        )  # fmt: skip
    with err.status("backing up") as status:
        manifest = backup(
            settings.database_url, out_file, say=lambda text: status.update(f"backup: {text}")
        )
    kind = (manifest.sandbox_name and f"training sandbox {manifest.sandbox_name!r}") or "live"
    out.print(
        f"backup of the {kind} database (schema revision {manifest.schema_revision}) written to "
        f"{out_file} ({out_file.stat().st_size:,} bytes, mode 0600)",
        soft_wrap=True,
    )


@db_app.command("restore")
def db_restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(dir_okay=False, help="A file `db backup` wrote.")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="The database to restore into (default: the configured one)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace what the target database holds.")
    ] = False,
) -> None:
    """Restore a backup into an empty database (or, with --force, over what it holds), then
    bring its schema up to date. Afterwards: serve (the screening index is built from it),
    `audit verify`, and kits sync on."""
    from bordercheck.audit.service import record_event
    from bordercheck.backup import read_manifest, restore
    from bordercheck.db import Database
    from bordercheck.edge import service as edge_service
    from bordercheck.installation import ensure_matches, installation_of

    settings = state(ctx).settings
    url = database_url or settings.database_url
    manifest = read_manifest(file)
    if manifest.sandbox_name != settings.training_sandbox:
        if manifest.sandbox_name is not None and settings.training_sandbox is None:
            raise BordercheckError(
                f"{file} is a backup of the training sandbox {manifest.sandbox_name!r}: it "
                "never becomes live data (make a sandbox of it: `bordercheck training sandbox "
                "import`)"
            )
        what = (manifest.sandbox_name and repr(manifest.sandbox_name)) or "live data"
        raise BordercheckError(
            f"{file} is a backup of {what}, and these settings are the training sandbox "
            f"{settings.training_sandbox!r}'s: refusing"
        )
    if force:
        _refuse_foreign_target(url, settings.training_sandbox)
    with err.status("restoring") as status:
        restore(
            file, url, force=force, secret_key=settings.secret_key,
            say=lambda text: status.update(f"restore: {text}"),
        )  # fmt: skip
    database = Database(url, secret_key=settings.secret_key)
    try:
        with database.session(write=True) as session:
            ensure_matches(installation_of(session), settings.training_sandbox, "the target")
            kits = edge_service.after_restore(session)
            record_event(
                session, actor="system:cli", bureau_code=settings.secretariat_code,
                action="db.restored", subject="database",
                details={"file": file.name, "backup_created_at": manifest.created_at,
                         "schema_revision": manifest.schema_revision,
                         "kits_sent_to_a_new_snapshot": kits},
            )  # fmt: skip
    finally:
        database.dispose()
    out.print(
        f"restored {file} (made {manifest.created_at}, schema revision "
        f"{manifest.schema_revision}); next: `bordercheck audit verify`, then serve",
        soft_wrap=True,
    )


def _refuse_foreign_target(url: str, sandbox: str | None) -> None:
    """--force never replaces a database these settings are not for (live data from a sandbox)."""
    from bordercheck.backup import ensure_empty
    from bordercheck.db_checks import parse_database_url, place, reachable
    from bordercheck.installation import check_database

    try:
        ensure_empty(url)
        return
    except BordercheckError:
        pass
    database = reachable(url)
    try:
        with database.engine.connect() as connection:
            check_database(connection, sandbox, place(parse_database_url(url)))
    finally:
        database.dispose()


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

    # A missing key or database is told in one line, before any worker starts.
    state(ctx).database.dispose()
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
