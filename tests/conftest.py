"""Test fixtures: a real database (SQLite always, PostgreSQL when configured), migrated once,
rolled back after each test; databases of a test's own, copied from one migrated per process;
small factories for the rows tests need."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bordercheck.auth import passwords
from bordercheck.auth import service as auth_service
from bordercheck.db import Database, create_db_engine, keyed, normalise_url
from bordercheck.migrations import upgrade
from bordercheck.settings import load_settings

POSTGRES_URL = os.environ.get("BORDERCHECK_TEST_POSTGRES_URL")

# Tests see only the settings they give: none of the developer's BORDERCHECK_* variables, no
# settings file (not even a ./bordercheck.env), and the test mode, whose process makes a
# random key of its own. Set before any test module builds its settings.
for _name in [name for name in os.environ if name.startswith("BORDERCHECK_")]:
    if not _name.startswith("BORDERCHECK_TEST_"):
        del os.environ[_name]
os.environ["BORDERCHECK_SETTINGS_FILE"] = ""
os.environ["BORDERCHECK_ENV"] = "test"
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
# Set to 1 to migrate every database and hash every password afresh, as the tests did
# before the two shortcuts below (to check that neither hides anything; much slower).
FULL_COST = os.environ.get("BORDERCHECK_TEST_FULL_COST") == "1"


class RememberingHasher(PasswordHasher):
    """argon2 with the production parameters, which remembers what it has worked out.

    Each hash or check costs about 0.25 s of CPU, and the tests add the same few passwords
    and sign in with them thousands of times. A password's first hash is its hash in every
    later account (as if the salt were the same), and a check of the same password against
    the same hash gives the answer it gave before; a new pair is checked for real.
    """

    def __init__(self) -> None:
        super().__init__()
        self._hashes: dict[str | bytes, str] = {}
        self._checked: dict[tuple[str | bytes, str | bytes], bool] = {}

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if salt is not None:
            return super().hash(password, salt=salt)
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        key = (hash, password)
        if key not in self._checked:
            try:
                super().verify(hash, password)
            except VerifyMismatchError:
                self._checked[key] = False
            else:
                self._checked[key] = True
        if not self._checked[key]:
            raise VerifyMismatchError("The password does not match the supplied hash")
        return True


if not FULL_COST:
    passwords._hasher = RememberingHasher()


class FreshDatabases:
    """Makes empty, migrated databases: SQLite files, or PostgreSQL schemas of their own.

    The migrations run once per process, backend and secret key; each database after that
    is a copy of the first one as it was just migrated (the SQLite file copied; the
    PostgreSQL schema recreated from ``pg_dump`` of it), which is what a migrated database
    is, in a fraction of the time. Without ``pg_dump`` each PostgreSQL schema is migrated.
    """

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.schemas: list[str] = []
        # By backend and secret key (the migrations seal the audit trail's head with it): a
        # SQLite file, or a PostgreSQL schema's name and dump.
        self._templates: dict[tuple[str, str], Path | tuple[str, str] | None] = {}

    def url(self, backend: str, *, migrate: bool = True) -> str:
        key = load_settings().secret_key
        template = self._templates.get((backend, key)) if migrate and not FULL_COST else None
        if backend == "sqlite":
            path = self.tmp / f"{uuid.uuid4().hex}.db"
            if isinstance(template, Path):
                shutil.copyfile(template, path)
                return f"sqlite:///{path}"
            url = f"sqlite:///{path}"
        else:
            schema = f"t_{uuid.uuid4().hex[:16]}"
            with _admin_engine().begin() as connection:
                if isinstance(template, tuple):
                    connection.exec_driver_sql(template[1].replace(template[0], schema))
                else:
                    connection.execute(text(f"CREATE SCHEMA {schema}"))
            self.schemas.append(schema)
            url = _schema_url(schema)
            if isinstance(template, tuple):
                return url
        if migrate:
            upgrade(url, secret_key=key)
            database = Database(url, secret_key=key)
            with database.session(write=True) as session:
                auth_service.ensure_secretariat(session, "XPO", "General Secretariat")
            database.dispose()
            if (backend, key) not in self._templates:
                self._templates[backend, key] = self._template_of(backend, url)
        return url

    def _template_of(self, backend: str, url: str) -> Path | tuple[str, str] | None:
        """What the next databases are copied from: this one, just migrated (None: migrate
        each, as without ``pg_dump``)."""
        if backend == "sqlite":
            source = Path(url.removeprefix("sqlite:///"))
            with contextlib.closing(sqlite3.connect(source)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            template = self.tmp / f"template-{uuid.uuid4().hex}.db"
            shutil.copyfile(source, template)
            return template
        schema = self.schemas[-1]
        dump = _schema_dump(schema)
        return None if dump is None else (schema, dump)

    def drop_all(self) -> None:
        if not self.schemas:
            return
        assert POSTGRES_URL is not None
        engine = create_engine(normalise_url(POSTGRES_URL))
        # One transaction per schema: dropping them all in one takes a lock per table and
        # runs out of PostgreSQL's lock table (max_locks_per_transaction) past a hundred or so.
        # A transaction left open on a schema (a server a failed test did not stop) would hold
        # its drop for ever: the drop gives up after a minute, and the run says which.
        held = []
        for schema in self.schemas:
            try:
                with engine.begin() as connection:
                    connection.execute(text("SET LOCAL lock_timeout = '60s'"))
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            except OperationalError:
                held.append(schema)
        engine.dispose()
        assert not held, f"schemas still in use at the end of the run, left: {held}"


def _schema_url(schema: str) -> str:
    assert POSTGRES_URL is not None
    joiner = "&" if "?" in POSTGRES_URL else "?"
    return f"{normalise_url(POSTGRES_URL)}{joiner}options=-csearch_path%3D{schema}"


@functools.cache
def _admin_engine() -> Any:
    """Creates and fills schemas; no pool, as each use sets its own search path."""
    assert POSTGRES_URL is not None
    return create_engine(normalise_url(POSTGRES_URL), poolclass=NullPool)


def _schema_dump(schema: str) -> str | None:
    """A migrated schema as SQL (tables, indexes, triggers, rows), or None without a
    ``pg_dump`` that can read the server."""
    assert POSTGRES_URL is not None
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    done = subprocess.run(
        [pg_dump, "--dbname", POSTGRES_URL, "--schema", schema, "--no-owner",
         "--no-privileges", "--inserts"],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        return None
    # psql's meta-commands (\restrict) are not SQL; the schema name is unique to it.
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("\\"))


@pytest.fixture(scope="session")
def fresh_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshDatabases]:
    factory = FreshDatabases(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, fresh_databases: FreshDatabases) -> str:
    """One migrated database per backend for the whole run; tests roll back what they do."""
    return fresh_databases.url(backend)


@pytest.fixture
def fresh_url(backend: str, fresh_databases: FreshDatabases) -> str:
    """A database of the test's own, for tests that commit or run commands."""
    return fresh_databases.url(backend)


@pytest.fixture(scope="session")
def shared_engine(database_url: str) -> Iterator[Any]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(shared_engine: Any) -> Iterator[Connection]:
    with shared_engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    with Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        info=keyed(load_settings().secret_key),
    ) as session:
        yield session
