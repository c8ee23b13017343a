"""``bordercheck audit verify`` and ``audit search`` end to end."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from bordercheck.cli import app
from bordercheck.db import Database
from tests.audit.conftest import append, edit_directly


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"BORDERCHECK_DATABASE_URL": url})


def test_verify_exits_0_on_a_whole_chain(fresh_url: str, database: Database) -> None:
    append(database, 3)
    result = run(fresh_url, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "audit trail intact: 4 entries" in result.output


def test_verify_exits_1_naming_the_altered_entry(fresh_url: str, database: Database) -> None:
    append(database, 4)
    edit_directly(database, "UPDATE audit_entries SET subject = 'record:999' WHERE seq = 3")
    result = run(fresh_url, "audit", "verify")
    assert result.exit_code == 1
    assert "audit trail broken at entry 3" in result.output
    assert "altered" in result.output


def test_verify_exits_1_naming_a_removed_entry(fresh_url: str, database: Database) -> None:
    append(database, 4)
    edit_directly(database, "DELETE FROM audit_entries WHERE seq = 2")
    result = run(fresh_url, "audit", "verify")
    assert result.exit_code == 1
    assert "audit trail broken at entry 2: removed" in result.output


def test_commands_leave_entries_that_search_finds(fresh_url: str) -> None:
    assert run(fresh_url, "bureaus", "add", "DEU").exit_code == 0
    result = run(fresh_url, "audit", "search", "--action", "bureau.added", "--bureau", "deu")
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    entry = json.loads(line)
    assert entry["subject"] == "bureau:DEU"
    assert entry["actor"].startswith("cli")
