"""New, empty databases to restore backups into (SQLite files, PostgreSQL databases)."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bordercheck.db import normalise_url
from tests.conftest import POSTGRES_URL


class Targets:
    """New, empty databases to restore into: SQLite files, or PostgreSQL databases of their
    own whose schema has the source's name (a backup restores into a schema of its name)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.databases: list[str] = []

    def url(self, source: str) -> str:
        parsed = make_url(normalise_url(source))
        if parsed.get_backend_name() == "sqlite":
            return f"sqlite:///{self.tmp / f'{uuid.uuid4().hex}.db'}"
        assert POSTGRES_URL is not None
        name = f"r_{uuid.uuid4().hex[:16]}"
        admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        self.databases.append(name)
        target = parsed.set(database=name)
        schema = str(parsed.query.get("options", "")).partition("search_path=")[2]
        if schema:
            engine = create_engine(target)
            with engine.begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            engine.dispose()
        return target.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.databases:
            return
        assert POSTGRES_URL is not None
        admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.databases:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
