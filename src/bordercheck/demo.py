"""``bordercheck demo``: a fresh SQLite database with a synthetic world, served on localhost."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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
    as_settings,
    generate_keys,
    write_settings,
    written_by_demo,
)
from bordercheck.migrations import upgrade
from bordercheck.registry.importer import Importer
from bordercheck.settings import Settings, installed, load_settings
from bordercheck.training.synthetic import SyntheticRegistry


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: Role
    bureau: str

    def __str__(self) -> str:
        return f"{self.username} / {self.password} ({self.role.value}, {self.bureau})"


# Who the demo lets you sign in as: one of each role, bureaus that own records.
DEMO_USERS: tuple[tuple[str, Role, str | None], ...] = (
    ("admin", Role.ADMIN, None),
    ("officer.deu", Role.BUREAU_OFFICER, "DEU"),
    ("officer.fra", Role.BUREAU_OFFICER, "FRA"),
    ("border.fra", Role.BORDER_OFFICER, "FRA"),
    ("analyst", Role.ANALYST, None),
    ("trainer", Role.TRAINER, None),
)


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


def run_demo(*, database: str, records: int, port: int, seed: int, serve: bool) -> None:
    path = Path(database).resolve()
    settings_path = demo_settings_file(path.parent)
    url = fresh_sqlite(path)
    # Keys of its own, kept beside its database, so that other commands can open what it made.
    values = {**generate_keys(), "BORDERCHECK_DATABASE_URL": url}
    header = f"{DEMO_MARK} for {path}; `bordercheck demo` replaces this file"
    write_settings(settings_path, values, header=header, replace=True)
    settings = load_settings(env="dev", **as_settings(values))
    with installed(settings):
        upgrade(url)
        db = Database(url)
        try:
            logins = build_world(db, settings, records, seed)
        finally:
            db.dispose()
        out.print(f"bordercheck demo: {records:,} synthetic records in {path}")
        out.print(f"settings: {settings_path}; {how_it_is_found(settings_path)}", soft_wrap=True)
        out.print(f"console: http://127.0.0.1:{port}/  (API docs: http://127.0.0.1:{port}/docs)")
        out.print("logins:")
        for login in logins:
            out.print(str(login), markup=False, highlight=False)
        if serve:
            import uvicorn

            from bordercheck.api.app import create_app

            uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
