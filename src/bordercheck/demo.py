"""``bordercheck demo``: a fresh SQLite database with a synthetic world, served on localhost."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.console import err, out
from bordercheck.db import Database
from bordercheck.directory.synthetic import add_demo_entries
from bordercheck.documents.countries import country_name
from bordercheck.errors import BordercheckError
from bordercheck.keys.cli import how_it_is_found
from bordercheck.keys.files import (
    DEMO_MARK,
    PRIVATE,
    as_settings,
    generate_keys,
    write_settings,
    written_by_demo,
)
from bordercheck.migrations import upgrade
from bordercheck.registry.importer import Importer
from bordercheck.registry.models import Record
from bordercheck.settings import Settings, load_settings
from bordercheck.training.load import load_world
from bordercheck.training.synthetic import SyntheticRegistry
from bordercheck.training.world import WorldSpec, write_world


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: Role
    bureau: str

    def __str__(self) -> str:
        return f"{self.username} / {self.password} ({self.role.value}, {self.bureau})"


LOGINS_MARK = "# bordercheck demo logins"
LOGIN_LINE = re.compile(r"^(\S+) / (\S+) \((\w+), ([A-Z]{3})\)$")


# Who the demo lets you sign in as: one of each role, bureaus that own records.
DEMO_USERS: tuple[tuple[str, Role, str | None], ...] = (
    ("admin", Role.ADMIN, None),
    ("officer.deu", Role.BUREAU_OFFICER, "DEU"),
    ("officer.fra", Role.BUREAU_OFFICER, "FRA"),
    ("border.fra", Role.BORDER_OFFICER, "FRA"),
    ("analyst", Role.ANALYST, None),
    ("trainer", Role.TRAINER, None),
    ("partner.eba", Role.PARTNER, "EBA"),
)
# A partner organisation, invented: its account sees only operations it is invited to (the
# demo has none; a coordinator invites it from an operation's page).
DEMO_PARTNER = ("EBA", "EUBA, European border agency (synthetic)")


def fresh_sqlite(path: Path) -> str:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def build_world(database: Database, settings: Settings, records: int, seed: int) -> list[Login]:
    """Bureaus, one user per role and ``records`` synthetic records; returns the logins."""
    synthetic = SyntheticRegistry(seed)
    with database.session(write=True) as session:
        auth_service.ensure_secretariat(
            session, settings.secretariat_code, settings.secretariat_name
        )
        for code in synthetic.countries:
            auth_service.add_bureau(session, code, f"NCB {country_name(code)}")
        auth_service.add_partner(session, *DEMO_PARTNER)
        logins = []
        for username, role, bureau in DEMO_USERS:
            login = Login(
                username, secrets.token_urlsafe(12), role, bureau or settings.secretariat_code
            )
            auth_service.add_user(
                session, login.username, bureau=login.bureau, role=role, password=login.password
            )
            logins.append(login)
        system = Actor(name="demo", role=Role.ADMIN, bureau_code=settings.secretariat_code)
        add_demo_entries(session, system, synthetic.countries, seed)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with (
        database.session(write=True) as session,
        Progress(*columns, console=err, transient=True) as bar,
    ):
        task = bar.add_task("synthetic records", total=records)
        importer = Importer(session, system, batch_size=settings.import_batch_size)
        for line, row in enumerate(synthetic.records(records, ranges=min(12, records // 100)), 1):
            importer.add(line, row)
            if line % 1000 == 0:
                bar.update(task, completed=line)
        importer.finish()
    return logins


def demo_settings_file(directory: Path) -> Path:
    """Where the demo keeps its settings: ``bordercheck.env`` unless another tool wrote it."""
    for name in ("bordercheck.env", "bordercheck-demo.env"):
        path = directory / name
        if not path.exists() or written_by_demo(path):
            return path
    raise BordercheckError(
        f"{directory} holds settings files the demo did not write (bordercheck.env and "
        "bordercheck-demo.env); give the demo another --database directory"
    )


def logins_file(database: Path) -> Path:
    """Where the demo keeps its logins: beside its database, so ``--keep`` can print them."""
    return database.with_name(database.stem + ".logins")


def write_logins(
    path: Path, database: Path, logins: list[Login], *, header: str | None = None
) -> None:
    header = header or (
        f"{LOGINS_MARK} for {database}: demo passwords by design (a synthetic world on "
        "localhost); `bordercheck demo` replaces this file"
    )
    path.unlink(missing_ok=True)
    # Created private, like the settings file beside it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    with os.fdopen(descriptor, "w") as file:
        file.write(header + "\n")
        file.writelines(f"{login}\n" for login in logins)


def read_logins(path: Path) -> list[Login]:
    logins = []
    for line in path.read_text().splitlines():
        match = LOGIN_LINE.match(line)
        if match:
            username, password, role, bureau = match.groups()
            logins.append(Login(username, password, Role(role), bureau))
    return logins


def run_demo(*, database: str, records: int, port: int, seed: int, serve: bool) -> None:
    path = Path(database).resolve()
    settings_path = demo_settings_file(path.parent)
    url = fresh_sqlite(path)
    # Keys of its own, kept beside its database, so that other commands can open what it made.
    values = {**generate_keys(), "BORDERCHECK_DATABASE_URL": url}
    header = f"{DEMO_MARK} for {path}; `bordercheck demo` replaces this file"
    write_settings(settings_path, values, header=header, replace=True)
    settings = load_settings(env="dev", **as_settings(values))
    upgrade(url, secret_key=settings.secret_key)
    db = Database.from_settings(settings)
    try:
        logins = build_world(db, settings, records, seed)
        planted = plant_networks(db, settings, seed)
    finally:
        db.dispose()
    write_logins(logins_file(path), path, logins)
    out.print(f"bordercheck demo: {records:,} synthetic records in {path}", soft_wrap=True)
    out.print(
        f"and, for the analysts, {planted['manifests']:,} passenger lists "
        f"({planted['travellers']:,} travellers) with {NETWORKS} smuggling networks planted "
        f"among them and {planted['hits']:,} hits answered",
        soft_wrap=True,
    )
    _present(settings, settings_path, logins, port=port, serve=serve)


def keep_demo(*, database: str, port: int, serve: bool) -> None:
    """Serve the demo database made before, with its settings file and the same logins."""
    path = Path(database).resolve()
    remake = "make one with `bordercheck demo` (or `make demo`)"
    if not path.is_file():
        raise BordercheckError(f"there is no demo database at {path}; {remake}")
    settings_path = _settings_file_of(path)
    logins_path = logins_file(path)
    if settings_path is None or not logins_path.is_file():
        missing = "settings file" if settings_path is None else f"logins ({logins_path})"
        raise BordercheckError(
            f"{path} has no demo {missing} beside it, so it cannot be served as it was; {remake}"
        )
    values = {
        name: value for name, value in dotenv_values(settings_path).items() if value is not None
    }
    settings = load_settings(env="dev", **as_settings(values))
    # A demo made by an older version may lag the schema.
    upgrade(settings.database_url, secret_key=settings.secret_key)
    db = Database.from_settings(settings)
    try:
        with db.session() as session:
            count = session.scalar(select(func.count()).select_from(Record)) or 0
    finally:
        db.dispose()
    out.print(f"bordercheck demo (kept): {count:,} records in {path}", soft_wrap=True)
    _present(settings, settings_path, read_logins(logins_path), port=port, serve=serve)


def _settings_file_of(database: Path) -> Path | None:
    """The demo settings file beside ``database`` that names it, if there is one."""
    url = f"sqlite:///{database}"
    for name in ("bordercheck.env", "bordercheck-demo.env"):
        path = database.parent / name
        if (
            path.is_file()
            and written_by_demo(path)
            and dotenv_values(path).get("BORDERCHECK_DATABASE_URL") == url
        ):
            return path
    return None


# A small world of flights for the analysis pages: 12 weeks, a few networks (``synth world``
# makes larger ones); about ten seconds on a laptop.
NETWORKS = 3
WORLD_WEEKS = 12


def plant_networks(database: Database, settings: Settings, seed: int) -> dict[str, int]:
    """Flights with smuggling networks hidden among them, loaded through the system's own
    paths (records import, passenger lists, screening): the analysis has something to find."""
    spec = WorldSpec(
        seed=seed, weeks=WORLD_WEEKS, networks=NETWORKS, background_records=0, passengers=12
    )
    with tempfile.TemporaryDirectory(prefix="bordercheck-demo-world-") as folder:
        write_world(spec, Path(folder))
        with err.status("loading flights and networks for the analysts"):
            return load_world(database, settings, Path(folder))


def documents_to_try(settings: Settings, of: set[str], count: int = 3) -> list[tuple[str, str]]:
    """A few recorded, issued passports of the countries ``of``, whose details no one
    withholds: a first check that answers HIT and opens a case their bureau answers."""
    db = Database.from_settings(settings)
    try:
        with db.session() as session:
            rows = session.execute(
                select(Record.document_number, Record.issuing_country)
                .where(Record.withdrawn_key == 0, Record.blank.is_(False))
                .where(Record.document_type == "passport", Record.withheld_from.is_(None))
                .where(Record.issuing_country.in_(of))
                .order_by(Record.id)
                .limit(count)
            ).all()
    finally:
        db.dispose()
    return [(number, country) for number, country in rows]


def _present(
    settings: Settings, settings_path: Path, logins: list[Login], *, port: int, serve: bool
) -> None:
    out.print(f"settings: {settings_path}; {how_it_is_found(settings_path)}", soft_wrap=True)
    out.print(
        f"console: http://127.0.0.1:{port}/  (API docs: http://127.0.0.1:{port}/docs)",
        soft_wrap=True,
    )
    out.print(
        "logins (demo passwords by design, for this synthetic world only; they sign in to the "
        "console without a second factor, which production requires of everyone; "
        "`bordercheck demo --keep` prints them again):",
        soft_wrap=True,
    )
    for login in logins:
        out.print(str(login), markup=False, highlight=False, soft_wrap=True)
    # Another country's documents, whose bureau has a login here to answer the hit.
    screeners = {login.bureau for login in logins if login.role is Role.BORDER_OFFICER}
    owners = {login.bureau for login in logins if login.role is Role.BUREAU_OFFICER}
    tries = documents_to_try(settings, owners - screeners)
    if tries:
        out.print(
            "documents recorded in this world, to check as the border officer (their bureau's "
            "officer then answers the hit): "
            + ", ".join(f"{number} {country}" for number, country in tries),
            soft_wrap=True,
        )
    if serve:
        import uvicorn

        from bordercheck.api.app import create_app
        from bordercheck.api.server import announce_when_ready
        from bordercheck.memory import return_freed_memory

        return_freed_memory()
        announce_when_ready("127.0.0.1", port, 1)
        uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
