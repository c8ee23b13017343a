"""Backups of the system of record, consistent while the server writes, and their restore.

A backup is one tar file: ``manifest.json`` first (what it is: format, schema revision, when,
of which installation), then the database: a SQLite file copied with SQLite's online backup
API (one read transaction: in WAL mode writers go on meanwhile), or a PostgreSQL archive made
by ``pg_dump -Fc`` (its own snapshot). Restore refuses a file that is not such a backup, a
schema newer than this bordercheck knows, and a target that holds anything unless forced.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from bordercheck import __version__
from bordercheck.db_checks import parse_database_url, place, reachable, sqlite_file
from bordercheck.errors import BordercheckError, ConfigurationError
from bordercheck.installation import Installation, installation_of
from bordercheck.timestamps import utcnow

FORMAT = "bordercheck-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
POSTGRES_MEMBER = "database.pgdump"
PRIVATE = 0o600
# How long pg_dump waits for a table another session holds exclusively (a migration, a
# restore) before the backup is refused, rather than waiting for ever (seconds).
LOCK_WAIT_SECONDS = 60

Say = Callable[[str], None]


class NotABackup(BordercheckError):
    code = "not_a_backup"


@dataclass(frozen=True)
class Manifest:
    backend: str  # sqlite | postgresql
    schema_revision: str | None
    created_at: str
    installation: dict[str, Any]
    bordercheck: str
    pg_schema: str | None = None
    pg_server_major: int | None = None

    @property
    def sandbox_name(self) -> str | None:
        name = self.installation.get("sandbox_name")
        return str(name) if self.installation.get("kind") == "sandbox" and name else None

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **self.__dict__}

    @classmethod
    def of(cls, data: Any, where: Path) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise NotABackup(f"{where} is not a bordercheck backup (its manifest says otherwise)")
        if data.get("format_version") != FORMAT_VERSION:
            raise NotABackup(
                f"{where} is a bordercheck backup of format {data.get('format_version')!r}, "
                f"which this version ({__version__}) cannot read"
            )
        try:
            return cls(**{k: v for k, v in data.items() if k not in ("format", "format_version")})
        except TypeError as exc:
            raise NotABackup(f"{where}: its manifest is malformed ({exc})") from None


def _describe(installation: Installation) -> dict[str, Any]:
    return {
        "kind": installation.kind,
        "sandbox_name": installation.sandbox_name,
        "installation_id": installation.installation_id,
    }


# Backing up -----------------------------------------------------------------------------


def backup(url: str, out: Path, *, say: Say = lambda _: None) -> Manifest:
    """Write a backup of the database at ``url`` to ``out`` (mode 0600; replaced atomically)."""
    parsed = parse_database_url(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bordercheck-backup-", dir=out.parent) as folder:
        work = Path(folder)
        if parsed.get_backend_name() == "sqlite":
            member = work / SQLITE_MEMBER
            manifest = _sqlite_backup(parsed, member, say)
        else:
            member = work / POSTGRES_MEMBER
            manifest = _postgres_backup(url, parsed, member, say)
        say("writing the backup file")
        part = work / "backup.part"
        _write_archive(part, manifest, {member.name: member})
        os.replace(part, out)
    return manifest


def _write_archive(path: Path, manifest: Manifest, members: dict[str, Path]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    with os.fdopen(descriptor, "wb") as file, tarfile.open(fileobj=file, mode="w") as archive:
        add_bytes(archive, MANIFEST, json.dumps(manifest.as_json(), indent=2).encode())
        for name, member in members.items():
            archive.add(member, arcname=name, recursive=True)


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = PRIVATE
    archive.addfile(info, io.BytesIO(data))


def _sqlite_backup(url: URL, target: Path, say: Say) -> Manifest:
    path = sqlite_file(url)
    if path is None or not path.is_file():
        raise ConfigurationError(f"no SQLite database file at {place(url)} to back up")
    say(f"copying {path} ({path.stat().st_size / 1e6:,.1f} MB)")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # All pages in one step: one read transaction, so the copy is the database as it was
        # at one moment, whatever the server commits meanwhile (WAL lets it go on writing).
        source.backup(copy)
    finally:
        source.close()
    try:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        revision = _sqlite_revision(copy)
    finally:
        copy.close()
    database = reachable(f"sqlite:///{target}")
    try:
        with database.engine.connect() as connection:
            installation = installation_of(connection)
    finally:
        database.dispose()
    return Manifest(
        backend="sqlite",
        schema_revision=revision,
        created_at=utcnow().isoformat(timespec="seconds"),
        installation=_describe(installation),
        bordercheck=__version__,
    )


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _postgres_backup(url: str, parsed: URL, target: Path, say: Say) -> Manifest:
    database = reachable(url)
    try:
        with database.engine.connect() as connection:
            schema = str(connection.execute(text("SELECT current_schema()")).scalar())
            major = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
            before = _pg_revision(connection)
            installation = installation_of(connection)
    finally:
        database.dispose()
    pg_dump = _tool("pg_dump", major)
    say(f"pg_dump of schema {schema} at {place(parsed)}")
    try:
        _run([pg_dump, "-Fc", "--no-owner", "--no-privileges", "-n", schema, "-f", str(target),
              f"--lock-wait-timeout={LOCK_WAIT_SECONDS}s", "--dbname", libpq_uri(parsed)],
             parsed, "pg_dump")  # fmt: skip
    except BordercheckError as exc:
        if "statement timeout" not in str(exc) and "lock timeout" not in str(exc):
            raise
        raise BordercheckError(
            f"pg_dump waited {LOCK_WAIT_SECONDS} s for a table another session holds "
            "exclusively (a migration or a restore under way?): nothing was backed up; "
            "try again when it has finished"
        ) from None
    return Manifest(
        backend="postgresql",
        schema_revision=before,
        created_at=utcnow().isoformat(timespec="seconds"),
        installation=_describe(installation),
        bordercheck=__version__,
        pg_schema=schema,
        pg_server_major=major,
    )


def _pg_revision(connection: Any) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def libpq_uri(url: URL) -> str:
    """The URL as libpq reads it, without its password (given in PGPASSWORD instead)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _tool(name: str, server_major: int) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{name} is not installed (PostgreSQL's client programs): install the package "
            f"postgresql-client-{server_major}"
        )
    # The program found on PATH, with fixed arguments.
    answer = subprocess.run(  # noqa: S603
        [found, "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)(?:\.\d+)?", answer.stdout)
    major = int(match.group(1)) if match else 0
    if major < server_major:
        raise ConfigurationError(
            f"{found} is version {major}, older than the PostgreSQL {server_major} server: "
            f"install postgresql-client-{server_major}"
        )
    return found


def _run(command: list[str], url: URL, what: str) -> None:
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # A program found on PATH (``_tool``); the URL is passed as one argument, never to a shell.
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise BordercheckError(f"{what} failed: {reason}")


# Reading and restoring ------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest:
    """The manifest of the backup at ``path``; a file that is not one is refused in one line."""
    if not path.is_file():
        raise NotABackup(f"there is no file at {path}")
    try:
        with tarfile.open(path, mode="r:") as archive:
            first = archive.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise NotABackup(f"{path} is not a bordercheck backup (no {MANIFEST} first)")
            data = archive.extractfile(first)
            assert data is not None
            return Manifest.of(json.loads(data.read()), path)
    except (tarfile.TarError, ValueError, OSError) as exc:
        raise NotABackup(f"{path} is not a bordercheck backup ({exc})") from None


@contextmanager
def unpacked(path: Path) -> Iterator[tuple[Manifest, Path]]:
    """The backup's manifest and a directory its members are extracted into."""
    manifest = read_manifest(path)
    with tempfile.TemporaryDirectory(prefix="bordercheck-restore-") as folder:
        with tarfile.open(path, mode="r:") as archive:
            archive.extractall(folder, filter="data")
        yield manifest, Path(folder)


def check_revision(manifest: Manifest, where: Path) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from bordercheck.migrations import alembic_config

    if manifest.schema_revision is None:
        raise NotABackup(f"{where} holds a database with no bordercheck schema")
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        scripts.get_revision(manifest.schema_revision)
    except CommandError:
        raise BordercheckError(
            f"{where} has schema revision {manifest.schema_revision}, which this bordercheck "
            f"({__version__}, schema {scripts.get_current_head()}) does not know: restore it "
            "with the version that made it, or a newer one"
        ) from None


def restore(
    path: Path, url: str, *, force: bool = False, secret_key: str, say: Say = lambda _: None
) -> Manifest:
    """Restore the backup at ``path`` into the database at ``url``, then bring its schema up to
    date. The target must be empty (or ``force``: what it holds is replaced)."""
    parsed = parse_database_url(url)
    with unpacked(path) as (manifest, folder):
        check_revision(manifest, path)
        backend = parsed.get_backend_name()
        if backend != manifest.backend:
            raise BordercheckError(
                f"{path} is a {manifest.backend} backup; the target at {place(parsed)} is "
                f"{backend} (copy the records across with `records export` / `records import`)"
            )
        if not force:
            ensure_empty(url)
        if backend == "sqlite":
            _sqlite_restore(folder / SQLITE_MEMBER, parsed, say)
        else:
            _postgres_restore(folder / POSTGRES_MEMBER, manifest, url, parsed, say)
    from bordercheck.migrations import head_revision, upgrade

    if manifest.schema_revision != head_revision():
        say(f"upgrading the schema from {manifest.schema_revision} to {head_revision()}")
        upgrade(url, secret_key=secret_key)
    return manifest


def table_count(url: str) -> int:
    """How many tables the database at ``url`` holds (0: a new, empty one)."""
    path = sqlite_file(parse_database_url(url))
    if path is not None and not path.exists():
        return 0
    database = reachable(url)
    try:
        with database.engine.connect() as connection:
            return len(inspect(connection).get_table_names())
    finally:
        database.dispose()


def ensure_empty(url: str) -> None:
    parsed = parse_database_url(url)
    if tables := table_count(url):
        raise BordercheckError(
            f"the database at {place(parsed)} is not empty ({tables} tables): restore into "
            "a new, empty database, or give --force to replace what it holds"
        )


def _sqlite_restore(copy: Path, url: URL, say: Say) -> None:
    path = sqlite_file(url)
    if path is None:
        raise ConfigurationError("restore into a SQLite file, not an in-memory database")
    say(f"copying into {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(copy)
    target = sqlite3.connect(path, timeout=30)
    try:
        # Through SQLite's own locking, not a file copy: another connection open on the
        # target sees the old database or the new one, never half of each.
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        source.close()
        target.close()


def _postgres_restore(dump: Path, manifest: Manifest, url: str, parsed: URL, say: Say) -> None:
    database = reachable(url)
    try:
        with database.engine.connect() as connection:
            schema = str(connection.execute(text("SELECT current_schema()")).scalar())
            major = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        database.dispose()
    if schema != manifest.pg_schema:
        raise BordercheckError(
            f"the backup is of the schema {manifest.pg_schema!r}; the target's is {schema!r} "
            "(set the target's search_path to a schema of that name)"
        )
    pg_restore = _tool("pg_restore", major)
    database = reachable(url)
    try:
        with database.engine.begin() as connection:
            # Empty already unless forced; either way the schema is made afresh, then filled.
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        database.dispose()
    # The schema exists (a database's public schema always does): restore all but it.
    listing = subprocess.run(  # noqa: S603 (pg_restore from PATH, fixed arguments)
        [pg_restore, "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    wanted = [line for line in listing.splitlines() if not _is_schema_entry(line)]
    toc = dump.with_suffix(".list")
    toc.write_text("\n".join(wanted) + "\n")
    say(f"pg_restore into {place(parsed)}")
    command = [
        pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
        "-L", str(toc), "--dbname", libpq_uri(parsed), str(dump),
    ]  # fmt: skip
    _run(command, parsed, "pg_restore")


def _is_schema_entry(line: str) -> bool:
    """A TOC line making (or commenting on) the schema itself: ``4; 2615 2200 SCHEMA - public``."""
    return bool(re.match(r"^\d+; \d+ \d+ (SCHEMA|COMMENT) - (SCHEMA )?\S+ ", line))
