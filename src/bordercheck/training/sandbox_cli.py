"""``bordercheck training sandbox …``: make, list, show, hand over training sandboxes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bordercheck.auth.models import Role
from bordercheck.console import err, new_app, out

sandbox_app = new_app("Training sandboxes: databases of their own, marked TRAINING everywhere.")

DirOption = Annotated[
    Path, typer.Option("--dir", help="Directory holding the sandboxes (one directory each).")
]


def _role(value: str) -> Role:
    from bordercheck.training.sandbox import TRAINEE_ROLES

    allowed = {role.value: role for role in TRAINEE_ROLES}
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
    return allowed[value]


@sandbox_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The sandbox's name (a-z, 0-9, hyphens).")],
    directory: DirOption = Path("sandboxes"),
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="A new, empty database for it (e.g. PostgreSQL); default: SQLite in its "
            "directory.",
        ),
    ] = None,
    world: Annotated[
        Path | None,
        typer.Option(
            "--world",
            help="Fill it from this world (as `synth world` writes one, or records.jsonl, "
            "manifests/ and screenings.jsonl made by another tool) instead of making one: "
            "--seed, --weeks and --networks then do not apply.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 2026,
    weeks: Annotated[int, typer.Option(help="Weeks of flights.", min=4, max=52)] = 8,
    networks: Annotated[int, typer.Option(help="Smuggling networks planted.", min=0)] = 3,
    records: Annotated[int, typer.Option(help="Synthetic records.", min=0)] = 5000,
    trainees: Annotated[int, typer.Option(help="Trainee logins to make.", min=0, max=200)] = 4,
    trainee_role: Annotated[
        str, typer.Option(help="Trainees' role: border_officer, bureau_officer or analyst.")
    ] = "bureau_officer",
    trainee_bureau: Annotated[
        str | None,
        typer.Option(
            help="One bureau (country) for every trainee; default: each a bureau of their own."
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Make an existing sandbox of this name afresh.")
    ] = False,
) -> None:
    """Make a sandbox: its own database filled from a synthetic world, its own keys, a trainer
    and trainee logins (printed once, kept in its directory, mode 0600)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from bordercheck.console import country_code
    from bordercheck.installation import check_sandbox_name
    from bordercheck.training.sandbox import SandboxSpec, create_sandbox

    spec = SandboxSpec(
        name=check_sandbox_name(name), seed=seed, weeks=weeks, networks=networks,
        records=records, trainees=trainees, trainee_role=_role(trainee_role),
        trainee_bureau=None if trainee_bureau is None else country_code(trainee_bureau),
        world=world,
    )  # fmt: skip
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
    ) as bar:
        task = bar.add_task(f"sandbox {name}: starting", total=None)
        sandbox, logins = create_sandbox(
            spec,
            directory,
            database_url=database_url,
            replace=replace,
            say=lambda text: bar.update(task, description=f"sandbox {name}: {text}"),
        )
    _present(sandbox.name, sandbox.directory, sandbox.where)
    out.print(f"logins (shown this once; kept, mode 0600, in {sandbox.logins_file}):")
    for login in logins:
        out.print(str(login), markup=False, highlight=False, soft_wrap=True)


def _present(name: str, directory: Path, where: str) -> None:
    from bordercheck.training.sandbox import SETTINGS

    settings = (directory / SETTINGS).resolve()
    out.print(f"training sandbox {name!r} made in {directory} (database: {where})", soft_wrap=True)
    out.print(
        f"serve it with: BORDERCHECK_SETTINGS_FILE={settings} bordercheck serve --port 8001",
        soft_wrap=True,
        markup=False,
    )


@sandbox_app.command("list")
def list_(directory: DirOption = Path("sandboxes")) -> None:
    """The sandboxes under the directory, one a line: name, when made, its database."""
    from bordercheck.training.sandbox import list_sandboxes

    sandboxes = list_sandboxes(directory)
    if not sandboxes:
        err.print(f"no sandboxes in {directory}")
    for sandbox in sandboxes:
        out.print(
            f"{sandbox.name}  {sandbox.created_at}  {sandbox.where}", markup=False, soft_wrap=True
        )


@sandbox_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The sandbox's name.")],
    directory: DirOption = Path("sandboxes"),
) -> None:
    """What a sandbox is: its database, world, settings file and logins (names, not passwords)."""
    from bordercheck.training.sandbox import logins_of, read_sandbox, sandbox_directory

    sandbox = read_sandbox(sandbox_directory(directory, name))
    out.print(f"name: {sandbox.name}", markup=False)
    out.print(f"created: {sandbox.created_at}", markup=False)
    out.print(f"installation: {sandbox.installation_id}", markup=False)
    out.print(f"database: {sandbox.where}", markup=False, soft_wrap=True)
    made = f"seed {sandbox.seed}, {sandbox.weeks} weeks, {sandbox.records:,} records"
    if sandbox.world_from is not None:
        made = f"copied from {sandbox.world_from} ({made})"
    out.print(f"world: {made}", markup=False, soft_wrap=True)
    out.print(f"settings: {sandbox.settings_file.resolve()}", markup=False, soft_wrap=True)
    for login in logins_of(sandbox):
        out.print(
            f"login: {login.username} ({login.role.value}, {login.bureau})",
            markup=False,
        )


@sandbox_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="The sandbox's name.")],
    out_file: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="The file to write (mode 0600).")
    ],
    directory: DirOption = Path("sandboxes"),
) -> None:
    """Pack a sandbox to hand it over: a backup of its database, its world, its scenarios
    (no secret key: the sandbox made of it by `import` has keys of its own)."""
    from bordercheck.training.handover import export_sandbox
    from bordercheck.training.sandbox import read_sandbox, sandbox_directory

    sandbox = read_sandbox(sandbox_directory(directory, name))
    with err.status(f"exporting {name}") as status:
        export_sandbox(sandbox, out_file, say=lambda text: status.update(f"export: {text}"))
    out.print(
        f"sandbox {name!r} exported to {out_file} ({out_file.stat().st_size:,} bytes, mode 0600)",
        soft_wrap=True,
    )


@sandbox_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="A file `export` wrote.")],
    name: Annotated[
        str | None, typer.Argument(help="The new sandbox's name (default: the exported one's).")
    ] = None,
    directory: DirOption = Path("sandboxes"),
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="A new, empty database for it (default: SQLite)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Make an existing sandbox of this name afresh.")
    ] = False,
) -> None:
    """Make a new sandbox of an export: its data, world and scenarios, with new keys, a new
    installation and new passwords (printed once): nothing of the old one's signs in here."""
    from bordercheck.training.handover import import_sandbox

    with err.status("importing") as status:
        sandbox, logins = import_sandbox(
            file, directory, name, database_url=database_url, replace=replace,
            say=lambda text: status.update(f"import: {text}"),
        )  # fmt: skip
    _present(sandbox.name, sandbox.directory, sandbox.where)
    out.print(f"logins (shown this once; kept, mode 0600, in {sandbox.logins_file}):")
    for login in logins:
        out.print(str(login), markup=False, highlight=False, soft_wrap=True)
