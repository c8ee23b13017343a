"""Opening the system of record from a command, with what is wrong told in one line.

Reading never creates a database: SQLite would make an empty file for a path that does not
exist, and the command would then fail on a missing table. Only ``bordercheck db upgrade``
(and the demo) create one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from bordercheck.db import Database, normalise_url
from bordercheck.errors import ConfigurationError, ServiceUnavailable
from bordercheck.installation import check_database

HOW_TO_CREATE = "run `bordercheck db upgrade`"
WHERE_ELSE = (
    "or set BORDERCHECK_DATABASE_URL (or BORDERCHECK_SETTINGS_FILE, e.g. the demo's "
    "bordercheck.env)"
)


class DatabaseUnavailable(ServiceUnavailable):
    """The database is configured but does not answer (a server down, a file unreadable)."""

    code = "database_unavailable"


def parse_database_url(url: str) -> URL:
    """The URL of BORDERCHECK_DATABASE_URL, or what is malformed in it (never the URL itself,
    which may hold a password)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise ConfigurationError(
            "BORDERCHECK_DATABASE_URL is malformed: expected sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/NAME"
        ) from None
    except ValueError as exc:
        what = "its port is not a number" if "int()" in str(exc) else str(exc)
        raise ConfigurationError(f"BORDERCHECK_DATABASE_URL is malformed: {what}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"BORDERCHECK_DATABASE_URL names {parsed.get_backend_name()!r}, which is neither "
            "sqlite nor postgresql"
        )
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite database, or None for other databases and in-memory ones."""
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if url.query.get("uri") or name.startswith("file:"):
        return None  # a URI filename: SQLite's own rules say where, and whether it is made
    return Path(name)


def place(url: URL) -> str:
    """Where a database is, as a person would name it: a file, or a server's host and port."""
    path = sqlite_file(url)
    if url.get_backend_name() == "sqlite":
        return str(path) if path is not None else "an in-memory SQLite database"
    host = url.host or url.query.get("host") or "localhost"
    return f"{host}:{url.port or 5432}"


def reachable(url: str, *, secret_key: str | None = None) -> Database:
    """The database at ``url``, once a connection to it has been made."""
    parsed = parse_database_url(url)
    try:
        database = Database(url, secret_key=secret_key)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigurationError(f"BORDERCHECK_DATABASE_URL is malformed: {exc}") from None
    try:
        with database.engine.connect():
            pass
    except DBAPIError as exc:
        database.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot connect to the database at {place(parsed)}: {reason}"
        ) from None
    return database


def open_database(url: str, *, secret_key: str, sandbox: str | None = None) -> Database:
    """The database at ``url`` for a command to read and write: it must exist and be upgraded,
    and be what the settings are for (``sandbox``: their BORDERCHECK_TRAINING_SANDBOX)."""
    parsed = parse_database_url(url)
    path = sqlite_file(parsed)
    if path is not None and not path.exists():
        raise ConfigurationError(
            f"no database file at {path}: {HOW_TO_CREATE} to create it, {WHERE_ELSE}"
        )
    database = reachable(url, secret_key=secret_key)
    if not _has_schema(database):
        database.dispose()
        raise ConfigurationError(
            f"the database at {place(parsed)} has no bordercheck schema: {HOW_TO_CREATE}"
        )
    try:
        with database.engine.connect() as connection:
            check_database(connection, sandbox, place(parsed))
    except ConfigurationError:
        database.dispose()
        raise
    return database


def _has_schema(database: Database) -> bool:
    # Alembic's table, with a revision in it, is there once `db upgrade` has run; which
    # revision is not compared here, as reading the migrations costs every command ~0.2 s.
    with database.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        return (
            connection.execute(text("SELECT version_num FROM alembic_version")).first() is not None
        )
