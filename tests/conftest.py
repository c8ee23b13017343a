"""Test fixtures: a real database (SQLite always, PostgreSQL when configured), migrated once,
rolled back after each test; small factories for the rows tests need."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

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


class FreshDatabases:
    """Makes empty, migrated databases: SQLite files, or PostgreSQL schemas of their own."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.schemas: list[str] = []

    def url(self, backend: str, *, migrate: bool = True) -> str:
        if backend == "sqlite":
            url = f"sqlite:///{self.tmp / f'{uuid.uuid4().hex}.db'}"
        else:
            assert POSTGRES_URL is not None
            schema = f"t_{uuid.uuid4().hex[:16]}"
            with create_engine(normalise_url(POSTGRES_URL)).begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            self.schemas.append(schema)
            joiner = "&" if "?" in POSTGRES_URL else "?"
            url = f"{normalise_url(POSTGRES_URL)}{joiner}options=-csearch_path%3D{schema}"
        if migrate:
            key = load_settings().secret_key
            upgrade(url, secret_key=key)
            database = Database(url, secret_key=key)
            with database.session(write=True) as session:
                auth_service.ensure_secretariat(session, "XPO", "General Secretariat")
            database.dispose()
        return url

    def drop_all(self) -> None:
        if not self.schemas:
            return
        assert POSTGRES_URL is not None
        engine = create_engine(normalise_url(POSTGRES_URL))
        # One transaction per schema: dropping them all in one takes a lock per table and
        # runs out of PostgreSQL's lock table (max_locks_per_transaction) past a hundred or so.
        for schema in self.schemas:
            with engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


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
