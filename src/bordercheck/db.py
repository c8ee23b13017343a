"""Engines and sessions for SQLite and PostgreSQL; one transaction per request or command.

SQLite runs in WAL mode with one writer at a time: write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing half-way.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from bordercheck.errors import ConfigurationError
from bordercheck.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: how long to wait for a new connection before giving up (a host that does not
# answer at all, rather than refusing), and, once one attempt failed, how long every other
# attempt fails at once instead of waiting as well (requests answer 503 meanwhile).
CONNECT_TIMEOUT_SECONDS = 5
REFUSE_AFTER_FAILURE_SECONDS = 0.25
# Page cache per connection. A server's connections see the database change under them at
# nearly every transaction (the query log commits many times a second), which empties their
# caches, so a larger one would mostly hold pages that are dropped: it would only grow each
# process's memory, per connection, as the query log's new pages pass through it.
SQLITE_CACHE_KIB = 16_384
# For a bulk import's transaction: writing into indexed tables slows down badly with less.
SQLITE_BULK_CACHE_KIB = 131_072


class Base(DeclarativeBase):
    """Declarative base of every table; each domain's ``models.py`` adds its own."""


_BULK_CACHE = "bordercheck.bulk_page_cache"


def bulk_page_cache(session: Session) -> None:
    """Give the session's connection the bulk import's page cache (SQLite) until it goes back
    to the pool, at the end of the transaction."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
        connection.connection.info[_BULK_CACHE] = True


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (``postgres://`` included)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if not is_sqlite(url):
        if "connect_timeout" not in make_url(url).query:
            connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
            kwargs["connect_args"] = {**connect_args, **kwargs.get("connect_args", {})}
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        _fail_fast(engine)
        return engine
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        # A connection lent to a bulk import goes back with its usual cache (and the pages
        # above it freed), however the import ended.
        if record.info.pop(_BULK_CACHE, False) and dbapi_connection is not None:
            dbapi_connection.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _fail_fast(engine: Engine) -> None:
    """While the database is unreachable, fail new connections at once for a moment after
    each failed attempt, rather than let every request wait for its own attempt to fail."""
    failed_at = [float("-inf")]

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        if time.monotonic() - failed_at[0] < REFUSE_AFTER_FAILURE_SECONDS:
            raise dialect.dbapi.OperationalError(
                "the database did not answer a moment ago; not trying again yet"
            )
        try:
            connection = dialect.connect(*cargs, **cparams)
        except dialect.dbapi.OperationalError:
            failed_at[0] = time.monotonic()
            raise
        failed_at[0] = float("-inf")
        return connection


# Where a session carries the installation's secret key (``Session.info``).
_KEY_INFO = "bordercheck.secret_key"


def keyed(secret_key: str) -> dict[str, Any]:
    """A session's ``info`` carrying ``secret_key``, for sessions not made by a ``Database``."""
    return {_KEY_INFO: secret_key}


def secret_key_of(session: Session) -> str:
    """The installation's secret key, as given to the ``Database`` the session came from.

    The audit trail is written from every domain's services, which are handed a session: the
    key that chains its entries travels with the session, from the app's or the command's
    settings, never from the process's environment.
    """
    key = session.info.get(_KEY_INFO)
    if not isinstance(key, str) or not key:
        raise ConfigurationError(
            "this session carries no secret key: open it from Database.from_settings(settings) "
            "(or Database(url, secret_key=...)) to write or check the audit trail"
        )
    return key


class Database:
    """The system of record: an engine and the sessions made from it.

    ``secret_key`` (the installation's, from settings) goes with every session, for the
    parts that sign or chain what they write (the audit trail): see ``secret_key_of``.
    """

    def __init__(self, url: str, *, secret_key: str | None = None) -> None:
        self.url = normalise_url(url)
        self.engine = create_db_engine(self.url)
        self.secret_key = secret_key
        info = keyed(secret_key) if secret_key else {}
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._writer_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"),
            expire_on_commit=False,
            info=info,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.database_url, secret_key=settings.secret_key)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        factory = self._writer_sessions if write else self._sessions
        with factory() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


# What the database or the disk under it says when it cannot take a write, and how a person
# is told: nothing of the failed change was kept, and the service comes back by itself once
# space (or writability) returns.
_FULL = "the database's disk is full"
_READ_ONLY = "the database is read-only"
# What to wait for before trying again, by fault.
UNTIL = {_FULL: "there is room on its disk again", _READ_ONLY: "the database takes writes again"}
_SQLSTATES = {"53100": _FULL, "25006": _READ_ONLY, "53000": _FULL}
_ERRNOS = {errno.ENOSPC: _FULL, errno.EDQUOT: _FULL, errno.EFBIG: _FULL, errno.EROFS: _READ_ONLY}
_SQLITE_CODES = {
    13: _FULL,  # SQLITE_FULL
    8: _READ_ONLY,  # SQLITE_READONLY, and its extended codes (low byte)
}


def storage_fault(exc: BaseException) -> str | None:
    """Why a write failed when the cause is the storage (disk full, read-only), else None."""
    original: BaseException | None
    if isinstance(exc, DBAPIError):
        original = exc.orig
    elif isinstance(exc, OSError) or exc.__cause__ is None:
        original = exc
    else:
        return storage_fault(exc.__cause__)
    if original is None:
        return None
    if isinstance(original, OSError):
        return _ERRNOS.get(original.errno or 0)
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _SQLSTATES.get(sqlstate)
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        if (reason := _SQLITE_CODES.get(code & 0xFF)) is not None:
            return reason
        if code & 0xFF == 10 and "disk" in str(original).lower():  # SQLITE_IOERR on a write
            return _FULL
    return None
