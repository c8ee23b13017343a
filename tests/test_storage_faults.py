"""The disk under the database full, the database read-only: a clear refusal (one line from a
command, a 503 in the API's error shape, never a traceback), nothing half-written, and work
going on by itself once space or writability returns.

A real full disk is a small tmpfs mounted for the test (root only: the test is skipped where
mounting is refused); a read-only PostgreSQL is a role whose transactions are read-only from
its next connection on, as a standby's are; a read-only SQLite file is opened ``mode=ro``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.db import normalise_url
from bordercheck.registry.models import Record
from tests.conftest import POSTGRES_URL
from tests.factories import keyed_database
from tests.processes import command, environment, kill, server

pytestmark = pytest.mark.slow

DISK_MIB = 24  # the database (a few MiB) and room to write a little more
BULK = 2000  # records in one request: more than a filled disk's last free pages take
HEADER = "document_number,issuing_country,document_type,status,event_date\n"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m", "tmpfs", str(disk)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; the file to remove to make room again."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(descriptor)
    return filler


def prepare(url: str) -> tuple[str, str]:
    database = keyed_database(url)
    with database.session(write=True) as session:
        auth_service.add_bureau(session, "DEU", "NCB DEU")
        client, secret = auth_service.add_client(
            session, "registry-feed", bureau="DEU", role=Role.BUREAU_OFFICER
        )
        client_id = client.client_id
    database.dispose()
    return client_id, secret


def token(base: str, client_id: str, secret: str) -> dict[str, str]:
    response = httpx2.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def records(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"document_number": f"{prefix}{n:07d}", "issuing_country": "DEU",
         "document_type": "passport", "status": "stolen", "event_date": "2024-03-01",
         "circumstances": "taken from a car " * 20}
        for n in range(count)
    ]  # fmt: skip


def bulk_post(base: str, headers: dict[str, str], body: dict[str, Any]) -> httpx2.Response:
    return httpx2.post(f"{base}/api/v1/records/bulk", json=body, headers=headers, timeout=120)


def assert_refused(response: httpx2.Response, fault: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "unavailable"
    assert body["message"].startswith(f"{fault}: nothing was changed"), body
    assert set(body) >= {"error", "message", "errors"}
    assert "Traceback" not in response.text
    assert int(response.headers["Retry-After"]) > 0


def imported(env: dict[str, str], path: Path) -> subprocess.CompletedProcess[str]:
    process = command("records", "import", "--bureau", "DEU", str(path), env=env)
    try:
        out, errors = process.communicate(timeout=120)
    finally:
        kill(process)  # if it hangs: its transaction would hold the schema's drop
    return subprocess.CompletedProcess(
        process.args, process.returncode, out.decode(), errors.decode()
    )


def assert_command_refused(done: subprocess.CompletedProcess[str], fault: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith(f"error: {fault}: nothing of this command's changes"), lines
    assert "Traceback" not in done.stderr


def counted(url: str, prefix: str) -> int:
    database = keyed_database(url)
    with database.session() as session:
        found = select(func.count()).where(Record.document_number.startswith(prefix))
        count = session.scalar(found) or 0
    database.dispose()
    return count


def csv_file(path: Path, prefix: str, rows: int) -> Path:
    path.write_text(
        HEADER + "".join(f"{prefix}{n:07d},DEU,passport,stolen,2024-03-01\n" for n in range(rows))
    )
    return path


def test_a_full_disk_refuses_writes_clearly_and_work_resumes_when_room_returns(
    fresh_databases: Any, small_disk: Path, tmp_path: Path
) -> None:
    made = Path(make_url(fresh_databases.url("sqlite")).database or "")
    database_file = small_disk / "bordercheck.db"
    shutil.copyfile(made, database_file)
    url = f"sqlite:///{database_file}"
    client_id, secret = prepare(url)
    secret_key = secrets.token_urlsafe(48)
    env = environment(url, secret_key)
    journal = {"BORDERCHECK_QUERY_JOURNAL_DIR": str(small_disk / "journal")}
    with server(url, secret_key, journal) as (base, _process):
        headers = token(base, client_id, secret)
        bulk = {"records": records("FA", BULK)}
        filler = fill(small_disk)
        response = httpx2.post(
            f"{base}/api/v1/records/bulk", json=bulk, headers=headers, timeout=120
        )
        assert_refused(response, "the database's disk is full")
        assert_command_refused(
            imported(env, csv_file(tmp_path / "full.csv", "FB", BULK)),
            "the database's disk is full",
        )
        assert counted(url, "F") == 0, "a refused write left records behind"

        filler.unlink()  # room again: the same request and command now go through
        response = httpx2.post(
            f"{base}/api/v1/records/bulk", json=bulk, headers=headers, timeout=120
        )
        assert response.status_code == 200, response.text
        assert response.json()["created"] == BULK
        done = imported(env, tmp_path / "full.csv")
        assert done.returncode == 0, done.stderr
        assert httpx2.get(f"{base}/readyz", timeout=30).status_code == 200
    assert counted(url, "FA") == BULK
    assert counted(url, "FB") == BULK
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()


def test_a_read_only_sqlite_database_refuses_an_import_clearly(
    fresh_databases: Any, tmp_path: Path
) -> None:
    fresh_url = fresh_databases.url("sqlite")
    prepare(fresh_url)
    before = counted(fresh_url, "")
    path = make_url(fresh_url).database
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    env = environment(read_only, secrets.token_urlsafe(48))
    done = imported(env, csv_file(tmp_path / "ro.csv", "RO", 10))
    assert_command_refused(done, "the database is read-only")
    assert counted(fresh_url, "") == before


@pytest.fixture
def read_only_role() -> Iterator[tuple[str, str]]:
    """A PostgreSQL schema used through a role of its own; the admin URL and the role's."""
    if POSTGRES_URL is None:
        pytest.skip("PostgreSQL is not configured (BORDERCHECK_TEST_POSTGRES_URL)")
    from tests.conftest import FreshDatabases

    factory = FreshDatabases(Path("/nonexistent"))
    admin_url = factory.url("postgresql")
    schema = factory.schemas[0]
    role = f"ro_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        connection.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        connection.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
    role_url = make_url(admin_url).set(username=role).render_as_string(hide_password=False)
    try:
        yield admin_url, role_url
    finally:
        with admin.begin() as connection:
            _disconnect(connection, role)
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def _disconnect(connection: Any, role: str) -> None:
    """End the role's sessions, as a failover does: its next connections take the setting."""
    connection.execute(
        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
        {"role": role},
    )


def test_a_read_only_postgresql_refuses_writes_clearly_and_they_resume(
    read_only_role: tuple[str, str], tmp_path: Path
) -> None:
    admin_url, url = read_only_role
    role = make_url(url).username
    client_id, secret = prepare(admin_url)
    secret_key = secrets.token_urlsafe(48)
    env = environment(url, secret_key)
    admin = create_engine(normalise_url(admin_url))

    def read_only(on: bool) -> None:
        with admin.begin() as connection:
            setting = "SET default_transaction_read_only = on" if on else "RESET ALL"
            connection.execute(text(f"ALTER ROLE {role} {setting}"))
            _disconnect(connection, str(role))

    journal = {"BORDERCHECK_QUERY_JOURNAL_DIR": str(tmp_path / "journal")}
    try:
        with server(url, secret_key, journal) as (base, _process):
            headers = token(base, client_id, secret)
            bulk = {"records": records("PA", 50)}
            read_only(True)
            response = httpx2.post(
                f"{base}/api/v1/records/bulk", json=bulk, headers=headers, timeout=120
            )
            assert_refused(response, "the database is read-only")
            assert_command_refused(
                imported(env, csv_file(tmp_path / "ro.csv", "PB", 50)), "the database is read-only"
            )
            assert counted(admin_url, "P") == 0

            read_only(False)
            # A pooled connection the server opened before may outlive its backend's end by a
            # moment: writes resume within seconds (each refused one wrote nothing).
            deadline = time.monotonic() + 15
            while True:
                response = httpx2.post(
                    f"{base}/api/v1/records/bulk", json=bulk, headers=headers, timeout=120
                )
                if response.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert response.status_code == 200, response.text
            assert imported(env, tmp_path / "ro.csv").returncode == 0
            assert httpx2.get(f"{base}/readyz", timeout=30).status_code == 200
        assert counted(admin_url, "PA") == 50
        assert counted(admin_url, "PB") == 50
    finally:
        admin.dispose()
