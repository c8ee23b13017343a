"""Training sandboxes: a database of its own, filled from a synthetic world, with its own keys.

A sandbox lives in a directory (``DIR/NAME``) holding its settings file (its own keys and
``BORDERCHECK_TRAINING_SANDBOX=NAME``), its logins (mode 0600), the world it was filled from
and, by default, its SQLite database. Trainees use the real console and API on it; the
database's ``installation`` row and the setting check each other (``bordercheck.installation``).
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bordercheck.audit.service import record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.backup import table_count
from bordercheck.db import Database
from bordercheck.db_checks import parse_database_url, place
from bordercheck.demo import Login, build_world, fresh_sqlite, read_logins, write_logins
from bordercheck.errors import BordercheckError, ConfigurationError
from bordercheck.installation import check_sandbox_name, mark_sandbox
from bordercheck.keys.files import as_settings, generate_keys, write_settings
from bordercheck.migrations import upgrade
from bordercheck.settings import Settings, load_settings
from bordercheck.timestamps import utcnow
from bordercheck.training.load import check_world, load_world
from bordercheck.training.planting import ensure_bureau
from bordercheck.training.world import WorldSpec, write_world

DEFAULT_ROOT = Path("sandboxes")
DESCRIPTION = "sandbox.json"
SETTINGS = "bordercheck.env"
LOGINS = "sandbox.logins"
DATABASE = "sandbox.db"
WORLD = "world"
SCENARIOS = "scenarios"  # exercises written for this sandbox (training scenarios)
CACHE, JOURNAL = "cache", "journal"  # what its server keeps beside its database
SETTINGS_MARK = "# bordercheck training sandbox settings"
TRAINEE_ROLES = (Role.BORDER_OFFICER, Role.BUREAU_OFFICER, Role.ANALYST)
# The trainees' bureaus when each has one of their own: countries the library's scenarios do
# not own records in nor write to.
TRAINEE_COUNTRIES = (
    "BEL", "PRT", "IRL", "DNK", "SWE", "FIN", "CZE", "HUN", "SVN", "HRV", "LTU", "LVA", "EST",
    "SVK", "BGR", "LUX", "MLT", "CYP", "POL", "ROU",
)  # fmt: skip

Say = Callable[[str], None]


@dataclass(frozen=True)
class SandboxSpec:
    name: str
    seed: int = 2026
    weeks: int = 8
    networks: int = 3
    records: int = 5000
    trainees: int = 4
    trainee_role: Role = Role.BUREAU_OFFICER
    trainee_bureau: str | None = None  # None: each trainee a bureau of their own
    world: Path | None = None  # a world made before (``synth world`` or another tool), copied


@dataclass(frozen=True)
class Sandbox:
    """A sandbox as its directory describes it (``sandbox.json``)."""

    name: str
    directory: Path
    database_url: str
    installation_id: str
    created_at: str
    seed: int
    weeks: int
    records: int
    world_from: str | None = None  # the directory its world was copied from, if not made for it

    @property
    def settings_file(self) -> Path:
        return self.directory / SETTINGS

    @property
    def logins_file(self) -> Path:
        return self.directory / LOGINS

    @property
    def where(self) -> str:
        return place(parse_database_url(self.database_url))


def sandbox_directory(root: Path, name: str) -> Path:
    return root / check_sandbox_name(name)


def read_sandbox(directory: Path) -> Sandbox:
    path = directory / DESCRIPTION
    if not path.is_file():
        raise BordercheckError(f"{directory} is not a training sandbox (no {DESCRIPTION})")
    try:
        data = json.loads(path.read_text())
        given = {k: data[k] for k in _DESCRIBED if k in data or k not in _OPTIONAL}
        return Sandbox(directory=directory, **given)
    except (ValueError, KeyError, TypeError) as exc:
        raise BordercheckError(f"{path} is not a sandbox description: {exc}") from None


_OPTIONAL = ("world_from",)
_DESCRIBED = (
    "name", "database_url", "installation_id", "created_at", "seed", "weeks", "records",
    *_OPTIONAL,
)  # fmt: skip


def list_sandboxes(root: Path) -> list[Sandbox]:
    if not root.is_dir():
        return []
    return [read_sandbox(path) for path in sorted(root.iterdir()) if (path / DESCRIPTION).is_file()]


def prepare_directory(root: Path, name: str, *, replace: bool) -> Path:
    """The sandbox's directory, new and empty (an existing sandbox only with ``replace``)."""
    directory = sandbox_directory(root, name)
    if directory.exists():
        if not replace:
            raise BordercheckError(
                f"a sandbox {name!r} exists already in {directory}; give --replace to make it "
                "afresh, or another name"
            )
        if not (directory / DESCRIPTION).is_file():
            raise BordercheckError(
                f"{directory} exists and is not a sandbox; --replace only replaces sandboxes"
            )
        settings = directory / SETTINGS
        made = settings.is_file() and settings.read_text(errors="replace").startswith(SETTINGS_MARK)
        others = sorted(p.name for p in directory.iterdir() if not _made_by_sandbox(p.name))
        if not made or others:
            why = f"holds {', '.join(others[:3])}" if others else f"has no sandbox's {SETTINGS}"
            raise BordercheckError(
                f"{directory} {why}, which a sandbox does not make; --replace only replaces "
                "sandboxes: move what is yours out of it first"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, mode=0o700)
    return directory


def _made_by_sandbox(name: str) -> bool:
    """A file or folder ``create`` (or the server serving it) makes in a sandbox's directory."""
    made = (DESCRIPTION, SETTINGS, LOGINS, WORLD, SCENARIOS, CACHE, JOURNAL)
    return name in made or name.startswith(DATABASE)


def ensure_empty(url: str) -> None:
    """A sandbox is made only in a database with nothing in it (never a live one)."""
    if tables := table_count(url):
        raise BordercheckError(
            f"the database at {place(parse_database_url(url))} is not empty ({tables} "
            "tables): a sandbox is made only in a new, empty database"
        )


def sandbox_settings(directory: Path, name: str, url: str) -> dict[str, str]:
    """The sandbox's settings: keys of its own, its database, its name, its own caches."""
    return {
        **generate_keys(),
        "BORDERCHECK_DATABASE_URL": url,
        "BORDERCHECK_TRAINING_SANDBOX": name,
        "BORDERCHECK_CACHE_DIR": str(directory / CACHE),
        "BORDERCHECK_QUERY_JOURNAL_DIR": str(directory / JOURNAL),
    }


def write_sandbox_settings(directory: Path, name: str, url: str) -> Settings:
    values = sandbox_settings(directory, name, url)
    header = f"{SETTINGS_MARK} for {name!r}; keys of its own, made on {utcnow():%Y-%m-%d}"
    write_settings(directory / SETTINGS, values, header=header, replace=True)
    return load_settings(env="dev", **as_settings(values))


def settings_of(sandbox: Sandbox) -> Settings:
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(sandbox.settings_file).items() if v is not None}
    return load_settings(env="dev", **as_settings(values))


def create_sandbox(
    spec: SandboxSpec,
    root: Path,
    *,
    database_url: str | None = None,
    replace: bool = False,
    say: Say = lambda _: None,
) -> tuple[Sandbox, list[Login]]:
    """Make the sandbox ``spec.name`` under ``root``; returns it and its logins (shown once)."""
    check_sandbox_name(spec.name)
    seed, weeks = spec.seed, spec.weeks
    if spec.world is not None:
        seed, weeks = check_world(spec.world)
        target = sandbox_directory(root, spec.name).resolve()
        if spec.world.resolve().is_relative_to(target):
            raise BordercheckError(
                f"{spec.world} is inside the sandbox {spec.name!r} that would be made afresh; "
                "copy the world out of it first"
            )
    if database_url is not None:
        parse_database_url(database_url)
        ensure_empty(database_url)  # before anything is written
    directory = prepare_directory(root, spec.name, replace=replace)
    try:
        url = database_url or fresh_sqlite((directory / DATABASE).resolve())
        settings = write_sandbox_settings(directory.resolve(), spec.name, url)
        say("schema")
        installation = migrate_and_mark(settings)
        say("world")
        logins = fill(settings, spec, directory, say)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # nothing half-made is left to be served
        raise
    sandbox = Sandbox(
        name=spec.name,
        directory=directory,
        database_url=url,
        installation_id=installation,
        created_at=utcnow().isoformat(timespec="seconds"),
        seed=seed,
        weeks=weeks,
        records=spec.records,
        world_from=None if spec.world is None else str(spec.world.resolve()),
    )
    describe(sandbox)
    write_logins(sandbox.logins_file, directory / DATABASE, logins, header=logins_header(spec.name))
    return sandbox, logins


def logins_header(name: str) -> str:
    return (
        f"# bordercheck training sandbox logins for {name!r}: for this synthetic world only; "
        "`bordercheck training sandbox import` makes new ones"
    )


def describe(sandbox: Sandbox) -> None:
    data: dict[str, Any] = asdict(sandbox)
    data.pop("directory")
    (sandbox.directory / DESCRIPTION).write_text(json.dumps(data, indent=2) + "\n")


def migrate_and_mark(settings: Settings) -> str:
    """Migrate the new database and mark it the sandbox; returns its installation id."""
    assert settings.training_sandbox is not None
    upgrade(settings.database_url, secret_key=settings.secret_key)
    database = Database.from_settings(settings)
    try:
        with database.session(write=True) as session:
            installation = mark_sandbox(session, settings.training_sandbox)
            auth_service.ensure_secretariat(
                session, settings.secretariat_code, settings.secretariat_name
            )
            record_event(
                session,
                actor="training sandbox create",
                bureau_code=settings.secretariat_code,
                action="training.sandbox_created",
                subject=f"sandbox:{installation.sandbox_name}",
                details={"installation": installation.installation_id},
            )
    finally:
        database.dispose()
    assert installation.installation_id is not None
    return installation.installation_id


def fill(settings: Settings, spec: SandboxSpec, directory: Path, say: Say) -> list[Login]:
    """The synthetic world (kept in ``world/``), the demo's logins, and the trainees'."""
    world = spec.world or directory / WORLD
    if spec.world is None:
        write_world(
            WorldSpec(seed=spec.seed, weeks=spec.weeks, networks=spec.networks, passengers=12,
                      background_records=0),
            world,
        )  # fmt: skip
    database = Database.from_settings(settings)
    try:
        # A world brought along was made from a seed of its own: the sandbox's other records
        # come from another, so that the two do not report the same documents.
        seed = spec.seed if spec.world is None else spec.seed + 1
        logins = build_world(database, settings, spec.records, seed)
        say("flights and networks")
        load_world(database, settings, world, progress=say)  # its errors name the given files
        if spec.world is not None:
            shutil.copytree(spec.world, directory / WORLD)
        logins += add_trainees(database, spec)
    finally:
        database.dispose()
    return logins


def add_trainees(database: Database, spec: SandboxSpec) -> list[Login]:
    """The trainees' logins: each in a bureau of their own unless ``spec.trainee_bureau`` says
    one for all (trainees of one bureau share its hit cases, so an exercise with an outcome to
    record is refused to them together)."""
    logins = []
    with database.session(write=True) as session:
        for number in range(1, spec.trainees + 1):
            bureau = spec.trainee_bureau or TRAINEE_COUNTRIES[(number - 1) % len(TRAINEE_COUNTRIES)]
            ensure_bureau(session, bureau, "training sandbox create")
            login = Login(
                f"trainee{number:02d}",
                secrets.token_urlsafe(12),
                spec.trainee_role,
                bureau,
            )
            auth_service.add_user(
                session, login.username, bureau=login.bureau, role=login.role,
                password=login.password,
            )  # fmt: skip
            logins.append(login)
    return logins


def new_logins(settings: Settings) -> list[Login]:
    """New passwords for every person (an imported sandbox: the old ones must not sign in);
    returns them all, to be shown once and kept in the logins file."""
    database = Database.from_settings(settings)
    shown = []
    try:
        with database.session(write=True) as session:
            for user in auth_service.list_users(session):
                password = secrets.token_urlsafe(12)
                auth_service.set_password(
                    session, user.username, password, temporary=False, actor="system:cli"
                )
                role, bureau = Role(user.role), user.bureau.country_code
                shown.append(Login(user.username, password, role, bureau))
    finally:
        database.dispose()
    return shown


def logins_of(sandbox: Sandbox) -> list[Login]:
    if not sandbox.logins_file.is_file():
        raise ConfigurationError(f"{sandbox.logins_file} is missing")
    return read_logins(sandbox.logins_file)
