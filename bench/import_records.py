"""Benchmark ``bordercheck records import`` against the raw write ceiling of the same database.

For SQLite and PostgreSQL: a fresh database (``bordercheck db upgrade``, ``bordercheck bureaus
add`` for every synthetic country), then the real command in a subprocess, timed, with the peak
memory of its whole process tree (the reader process included), the row counts checked, and a
second import of the same file, which must find every row unchanged. The ceiling is the same
rows written by the bare driver into another fresh database of the same schema: sqlite3
``executemany`` of ready-made tuples, or a bare ``COPY``; records and changes-feed rows alike,
one transaction, only the database calls timed.

    .venv/bin/python bench/import_records.py [--records 1000000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, func, select
from sqlalchemy.dialects import sqlite as sqlite_dialect

from bordercheck.auth import service as auth_service
from bordercheck.db import Database, normalise_url
from bordercheck.documents.types import DocumentType, family_of
from bordercheck.migrations import upgrade
from bordercheck.registry.files import write_rows
from bordercheck.registry.models import Change, Record, records_table
from bordercheck.training.synthetic import SyntheticRegistry

BORDERCHECK = str(Path(sys.executable).with_name("bordercheck"))
COUNTRIES = SyntheticRegistry().countries
RECORD_COLUMNS = (
    "id, bureau_id, document_number, issuing_country, document_type, type_family, status, "
    "blank, serial_end, issue_date, expiry_date, event_date, event_place, event_country, "
    "circumstances, holder_surname, holder_given_names, holder_birth_date, holder_nationality, "
    "incident_ref, withdrawn_key, version, last_change, review_due, created_at, created_by, "
    "updated_at, updated_by"
)
CHANGE_COLUMNS = (
    "seq, record_id, version, kind, active, document_number, serial_end, issuing_country, "
    "document_type, status, blank, changed_at"
)
FAMILY = {t.value: family_of(t).value for t in DocumentType}
SUMMARY = re.compile(
    r"([\d,]+) rows: ([\d,]+) created, ([\d,]+) updated, ([\d,]+) unchanged, ([\d,]+) rejected"
)
BATCH = 10_000


@dataclass
class Run:
    seconds: float
    peak_mib: float
    summary: tuple[int, ...]


@dataclass
class Result:
    backend: str
    rows: int
    first: Run
    again: Run
    ceiling_seconds: float

    def rate(self, seconds: float) -> float:
        return self.rows / seconds


def main() -> None:
    # A key of this run, for it and the commands it starts: imports write audit entries, which
    # keys derived from the secret key protect.
    os.environ.setdefault("BORDERCHECK_SECRET_KEY", secrets.token_urlsafe(32))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, help="Keep the file and databases here.")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(machine())
        path = work / f"records-{args.records}.csv"
        started = time.perf_counter()
        if not path.exists():
            ranges = max(args.records // 10_000, 1)
            write_rows(path, SyntheticRegistry(1).records(args.records, ranges=ranges))
        size = path.stat().st_size / 2**20
        took = time.perf_counter() - started
        print(f"synthetic file: {args.records:,} rows, {size:,.0f} MiB, ready in {took:.1f} s")
        results = [bench(path, args.records, sqlite_url(work))]
        if not args.skip_postgres:
            with PostgresSchemas(args.postgres_url) as schemas:
                results.append(bench(path, args.records, schemas.new()))
        print(table(results))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def sqlite_url(work: Path) -> Iterator[str]:
    while True:
        path = work / f"{uuid.uuid4().hex[:8]}.db"
        yield f"sqlite:///{path}"


class PostgresSchemas:
    """Fresh schemas in the PostgreSQL database, dropped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.names: list[str] = []

    def new(self) -> Iterator[str]:
        while True:
            name = f"bench_import_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(self.url, autocommit=True) as connection:
                connection.execute(f"CREATE SCHEMA {name}")
            self.names.append(name)
            joiner = "&" if "?" in self.url else "?"
            yield f"{self.url}{joiner}options=-csearch_path%3D{name}"

    def __enter__(self) -> PostgresSchemas:
        return self

    def __exit__(self, *_exc: object) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            for name in self.names:
                connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def bench(path: Path, rows: int, urls: Iterator[str]) -> Result:
    url = next(urls)
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"{backend}: preparing the database with the command line")
    env = {**os.environ, "BORDERCHECK_DATABASE_URL": url}
    command(["db", "upgrade"], env)
    for country in COUNTRIES:
        command(["bureaus", "add", country], env)
    print(f"{backend}: bordercheck records import {path.name}")
    first = timed_import(path, env)
    check_counts(url, rows)
    assert first.summary == (rows, rows, 0, 0, 0), first.summary
    print(f"{backend}: {rows / first.seconds:,.0f} rows/s; again, to find every row unchanged")
    again = timed_import(path, env)
    assert again.summary == (rows, 0, 0, rows, 0), again.summary
    check_counts(url, rows)
    print(f"{backend}: the ceiling, the bare driver into a fresh database of the same schema")
    ceiling = ceiling_seconds(path, next(urls))
    return Result(backend, rows, first, again, ceiling)


def command(arguments: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [BORDERCHECK, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bordercheck {' '.join(arguments)} failed:\n{done.stderr}")
    return done.stdout


def timed_import(path: Path, env: dict[str, str]) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(
        [BORDERCHECK, "records", "import", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = PeakMemory(process.pid)
    peak.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    peak.stop()
    if process.returncode != 0:
        raise SystemExit(f"import failed:\n{stderr}")
    match = SUMMARY.search(stdout)
    if match is None:
        raise SystemExit(f"unexpected output: {stdout!r}")
    summary = tuple(int(group.replace(",", "")) for group in match.groups())
    return Run(seconds, peak.peak / 2**20, summary)


class PeakMemory(threading.Thread):
    """Polls /proc for the resident memory of a process and all its descendants, summed."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, sum(rss(pid) for pid in tree(self.pid)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += tree(int(child))
    return found


def rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def check_counts(url: str, rows: int) -> None:
    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        records = connection.scalar(select(func.count()).select_from(Record))
        changes = connection.scalar(select(func.count()).select_from(Change))
    engine.dispose()
    assert (records, changes) == (rows, rows), (records, changes)


def ceiling_seconds(path: Path, url: str) -> float:
    key = os.environ["BORDERCHECK_SECRET_KEY"]  # this run's (main sets it)
    upgrade(url, secret_key=key)
    database = Database(url, secret_key=key)
    with database.session(write=True) as session:
        auth_service.ensure_secretariat(session, "XPO", "General Secretariat")
        for country in COUNTRIES:
            auth_service.add_bureau(session, country, f"NCB {country}")
        bureaus = auth_service.bureau_ids_by_country(session)
    database.dispose()
    if url.startswith("sqlite"):
        return sqlite_ceiling(path, url.removeprefix("sqlite:///"), bureaus)
    return postgres_ceiling(path, url, bureaus)


def batches(
    path: Path, bureaus: dict[str, int], now: Any
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Records and changes rows, as tuples in column order, a batch at a time."""
    with path.open(newline="") as file:
        reader = csv.reader(file)
        next(reader)
        records: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        for record_id, values in enumerate(reader, start=1):
            number, country, kind, status = values[:4]
            blank = values[4] == "true"
            v = [value or None for value in values]
            records.append(
                (record_id, bureaus[country], number, country, kind, FAMILY[kind], status, blank,
                 *v[5:], 0, 1, "created", "2036-01-01", now, "bench", now, "bench")
            )  # fmt: skip
            changes.append(
                (record_id, record_id, 1, "created", True, number, v[5], country, kind, status,
                 blank, now)
            )  # fmt: skip
            if len(records) == BATCH:
                yield records, changes
                records, changes = [], []
        if records:
            yield records, changes


def sqlite_ceiling(path: Path, filename: str, bureaus: dict[str, int]) -> float:
    # Timestamps as text in SQLAlchemy's format, as bordercheck stores them.
    dialect = sqlite_dialect.dialect()
    process = records_table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    now = process(datetime.now(UTC))
    connection = sqlite3.connect(filename, isolation_level=None)
    # The same settings as bordercheck.db gives its own connections.
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("PRAGMA cache_size=-131072")
    connection.execute("BEGIN IMMEDIATE")
    spent = 0.0
    # Column lists are constants of this script.
    records_sql = f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({', '.join('?' * 28)})"  # noqa: S608
    changes_sql = f"INSERT INTO changes ({CHANGE_COLUMNS}) VALUES ({', '.join('?' * 12)})"  # noqa: S608
    for records, changes in batches(path, bureaus, now):
        started = time.perf_counter()
        connection.executemany(records_sql, records)
        connection.executemany(changes_sql, changes)
        spent += time.perf_counter() - started
    started = time.perf_counter()
    connection.execute("COMMIT")
    connection.close()
    return spent + time.perf_counter() - started


def postgres_ceiling(path: Path, url: str, bureaus: dict[str, int]) -> float:
    now = datetime.now(UTC)
    spent = 0.0
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for records, changes in batches(path, bureaus, now):
            started = time.perf_counter()
            with cursor.copy(f"COPY records ({RECORD_COLUMNS}) FROM STDIN") as copy:
                for row in records:
                    copy.write_row(row)
            with cursor.copy(f"COPY changes ({CHANGE_COLUMNS}) FROM STDIN") as copy:
                for row in changes:
                    copy.write_row(row)
            spent += time.perf_counter() - started
        started = time.perf_counter()
        connection.commit()
        spent += time.perf_counter() - started
    return spent


def table(results: list[Result]) -> str:
    lines = [
        "| database | import | rows/s | peak memory | ceiling rows/s | ours / ceiling "
        "| import again (all unchanged) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        lines.append(
            f"| {result.backend} | {result.first.seconds:.1f} s "
            f"| {result.rate(result.first.seconds):,.0f} "
            f"| {max(result.first.peak_mib, result.again.peak_mib):,.0f} MiB "
            f"| {result.rate(result.ceiling_seconds):,.0f} "
            f"| {result.ceiling_seconds / result.first.seconds:.2f} "
            f"| {result.again.seconds:.1f} s ({result.rate(result.again.seconds):,.0f} rows/s) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
