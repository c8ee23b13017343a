"""``bordercheck demo``: a fresh synthetic world, the logins printed, a real server answering."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.db import Database
from bordercheck.registry.importer import export_rows

LOGIN = re.compile(r"^(\S+) / (\S+) \((\w+), ([A-Z]{3})\)$")


def test_demo_builds_a_world_and_prints_one_login_per_line(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    result = CliRunner().invoke(
        app, ["demo", "--records", "300", "--database", str(database), "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    logins = [LOGIN.match(line) for line in result.output.splitlines()]
    found = [m.groups() for m in logins if m]
    roles = {role for _, _, role, _ in found}
    assert roles == {"admin", "bureau_officer", "border_officer", "analyst", "trainer", "partner"}
    assert "http://127.0.0.1:8000/" in result.output
    db = Database(f"sqlite:///{database}")
    with db.session() as session:
        rows = list(export_rows(session))
    db.dispose()
    # The demo's records, and those of the small world of flights planted for the analysts.
    assert len(rows) >= 300
    planted = re.search(
        r"with 3 smuggling networks planted among them and ([\d,]+) hits", result.output
    )
    assert planted is not None, result.output
    assert int(planted.group(1).replace(",", "")) > 0
    assert any(row["serial_end"] for row in rows)  # a few blank ranges
    # Documents to try: recorded, active, issued passports of a bureau with a login to answer
    # the hit, not the border officer's own.
    tries = next(line for line in result.output.splitlines() if "to check" in line)
    border_bureau = next(bureau for _, _, role, bureau in found if role == "border_officer")
    owners = {bureau for _, _, role, bureau in found if role == "bureau_officer"}
    printed = [part.split() for part in tries.split(": ", 1)[1].split(", ")]
    assert len(printed) == 3
    recorded = {(r["document_number"], r["issuing_country"]): r for r in rows}
    for number, country in printed:
        row = recorded[(number, country)]
        assert row["document_type"] == "passport"
        assert str(row["blank"]).lower() == "false"
        assert country != border_bureau
        assert country in owners
    # Running it again starts afresh rather than failing on what is there.
    again = CliRunner().invoke(
        app, ["demo", "--records", "10", "--database", str(database), "--no-serve"]
    )
    assert again.exit_code == 0, again.output


def test_demo_keeps_its_keys_and_database_in_a_settings_file_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "bordercheck-demo.db"
    demo = ["demo", "--records", "20", "--database", str(database), "--no-serve"]
    result = CliRunner().invoke(app, demo)
    assert result.exit_code == 0, result.output
    path = tmp_path / "bordercheck.env"
    assert f"export BORDERCHECK_SETTINGS_FILE={path}" in result.output
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert text.startswith("# bordercheck demo settings")
    assert f"BORDERCHECK_DATABASE_URL=sqlite:///{database}" in text
    assert "BORDERCHECK_SECRET_KEY=" in text
    # Another command finds the demo's database: by the file's name, or in its directory.
    named = CliRunner().invoke(
        app, ["bureaus", "list"], env={"BORDERCHECK_SETTINGS_FILE": str(path)}
    )
    assert named.exit_code == 0, named.output
    assert "DEU" in named.output
    # What it wrote is protected by the keys it wrote: the audit chain verifies with them.
    env = {**os.environ, "BORDERCHECK_SETTINGS_FILE": str(path), "BORDERCHECK_ENV": "dev"}
    verified = subprocess.run(
        [sys.executable, "-m", "bordercheck", "audit", "verify"], env=env, capture_output=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERCHECK_SETTINGS_FILE")
    monkeypatch.setenv("BORDERCHECK_ENV", "dev")
    here = CliRunner().invoke(app, ["bureaus", "list"])
    assert here.exit_code == 0, here.output
    assert "DEU" in here.output
    # Its own file it replaces, with new keys; a file it did not write it leaves alone.
    assert CliRunner().invoke(app, demo).exit_code == 0
    assert path.read_text() != text
    path.write_text("BORDERCHECK_DATABASE_URL=sqlite:///production.db\n")
    again = CliRunner().invoke(app, demo)
    assert again.exit_code == 0, again.output
    assert path.read_text() == "BORDERCHECK_DATABASE_URL=sqlite:///production.db\n"
    assert "bordercheck-demo.env" in again.output
    assert (tmp_path / "bordercheck-demo.env").stat().st_mode & 0o777 == 0o600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_serves_on_the_port_it_prints(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable, "-m", "bordercheck", "demo", "--records", "200", "--port", str(port),
        "--database", str(tmp_path / "demo.db"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as server:
        try:
            deadline = time.monotonic() + 180  # a whole world is built first
            while True:
                try:
                    response = httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                    break
                except httpx2.TransportError:
                    assert server.poll() is None, "the demo server exited"
                    assert time.monotonic() < deadline, "the demo server did not come up"
                    time.sleep(0.2)
            assert response.json() == {"status": "ready"}
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_keep_serves_the_same_demo_again_with_the_same_logins(tmp_path: Path) -> None:
    # A long directory, on a narrow terminal: the paths are printed whole, never broken.
    folder = tmp_path / ("a-rather-long-folder-name-" * 3)
    folder.mkdir()
    database = folder / "bordercheck-demo.db"
    narrow = {"COLUMNS": "40"}
    made = CliRunner().invoke(
        app, ["demo", "--records", "20", "--database", str(database), "--no-serve"], env=narrow
    )
    assert made.exit_code == 0, made.output
    assert f"in {database}\n" in made.output
    logins = [line for line in made.output.splitlines() if LOGIN.match(line)]
    assert len(logins) == 7
    assert any(line.endswith("(partner, EBA)") for line in logins)
    kept_file = folder / "bordercheck-demo.logins"
    assert kept_file.stat().st_mode & 0o777 == 0o600
    assert "demo passwords by design" in kept_file.read_text()
    assert "demo passwords by design" in made.output
    keep = ["demo", "--keep", "--database", str(database), "--no-serve"]
    kept = CliRunner().invoke(app, keep, env=narrow)
    assert kept.exit_code == 0, kept.output
    assert [line for line in kept.output.splitlines() if LOGIN.match(line)] == logins
    assert f"in {database}\n" in kept.output
    assert f"export BORDERCHECK_SETTINGS_FILE={folder / 'bordercheck.env'}" in kept.output
    # The same world: its records and keys, not a new one.
    assert re.search(r"\(kept\): [\d,]+ records in", kept.output), kept.output
    env = {**os.environ, "BORDERCHECK_SETTINGS_FILE": str(folder / "bordercheck.env")}
    verified = subprocess.run(
        [sys.executable, "-m", "bordercheck", "audit", "verify"], env=env, capture_output=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_keep_without_a_demo_says_how_to_make_one(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(app, ["demo", "--keep", "--database", str(missing), "--no-serve"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert f"there is no demo database at {missing}" in result.output
    assert "bordercheck demo" in result.output
    assert "Traceback" not in result.output
