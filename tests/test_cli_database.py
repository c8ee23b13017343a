"""A command that opens the database says in one line what is wrong with it, and creates none."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bordercheck.cli import app
from tests.conftest import FreshDatabases

# Commands of several domains: the check is made once, where every command opens the database.
READERS = [["records", "show", "1"], ["bureaus", "list"], ["audit", "verify"]]


def run(url: str, *args: str) -> Result:
    env = {
        "BORDERCHECK_DATABASE_URL": url,
        "BORDERCHECK_SETTINGS_FILE": "",
        "BORDERCHECK_ENV": "test",
    }
    return CliRunner().invoke(app, list(args), env=env)


def one_line(result: Result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("args", READERS)
def test_a_missing_sqlite_file_is_named_and_not_created(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "bordercheck.db"
    result = run(f"sqlite:///{path}", *args)
    assert result.exit_code == 2
    line = one_line(result)
    assert f"no database file at {path}" in line
    assert "`bordercheck db upgrade`" in line
    assert "BORDERCHECK_DATABASE_URL" in line
    assert not path.exists()
    assert run(f"sqlite:///{path}", "db", "upgrade").exit_code == 0  # what the line says to run
    assert run(f"sqlite:///{path}", "records", "show", "1").output.startswith("error: there is no")


def test_an_empty_sqlite_file_asks_for_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    result = run(f"sqlite:///{path}", "records", "show", "1")
    assert result.exit_code == 2
    assert "has no bordercheck schema: run `bordercheck db upgrade`" in one_line(result)


def test_an_unmigrated_database_asks_for_the_upgrade(
    backend: str, fresh_databases: FreshDatabases
) -> None:
    url = fresh_databases.url(backend, migrate=False)
    if backend == "sqlite":
        sqlite3.connect(url.removeprefix("sqlite:///")).close()
    result = run(url, "bureaus", "list")
    assert result.exit_code == 2
    assert "has no bordercheck schema: run `bordercheck db upgrade`" in one_line(result)


@pytest.mark.parametrize("args", [["records", "show", "1"], ["db", "upgrade"]])
def test_an_unreachable_postgresql_is_named_by_host_and_port(args: list[str]) -> None:
    port = closed_port()
    result = run(f"postgresql://bordercheck:s3cret@127.0.0.1:{port}/bordercheck", *args)
    assert result.exit_code == 1
    line = one_line(result)
    assert f"cannot connect to the database at 127.0.0.1:{port}" in line
    assert "s3cret" not in line


@pytest.mark.parametrize(
    ("url", "told"),
    [
        ("bordercheck.db", "is malformed: expected sqlite:///PATH or postgresql://"),
        ("postgresql://user:pw@db.example:fivefour/x", "is malformed: its port is not a number"),
        ("mysql://user@db.example/x", "names 'mysql', which is neither sqlite nor postgresql"),
    ],
)
@pytest.mark.parametrize("args", [["records", "show", "1"], ["db", "upgrade"]])
def test_a_malformed_url_is_a_configuration_error(url: str, told: str, args: list[str]) -> None:
    result = run(url, *args)
    assert result.exit_code == 2
    assert f"BORDERCHECK_DATABASE_URL {told}" in one_line(result)
