"""The ``bordercheck`` command end to end, on a database of the test's own."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bordercheck.cli import app


@pytest.fixture
def run(fresh_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(
            app, list(args), input=stdin, env={"BORDERCHECK_DATABASE_URL": fresh_url}
        )

    return invoke


def test_db_upgrade_is_repeatable_and_creates_the_secretariat(run) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "upgrade").exit_code == 0
    listing = run("bureaus", "list")
    assert "XPO" in listing.output


def test_bureaus_and_users_are_added_with_clear_refusals(run) -> None:  # type: ignore[no-untyped-def]
    assert run("bureaus", "add", "de").exit_code == 0
    again = run("bureaus", "add", "DEU", "--name", "NCB Wiesbaden")
    assert again.exit_code == 1
    assert "a bureau for DEU already exists" in again.output
    unknown = run("bureaus", "add", "XX", "--name", "Nowhere")
    assert unknown.exit_code == 1
    assert "'XX' is not a country code" in unknown.output
    added = run(
        "users", "add", "anna.k", "--bureau", "DEU", "--role", "bureau_officer",
        "--password-stdin", stdin="correct horse battery\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "user anna.k added (bureau_officer, DEU)" in added.output
    short = run(
        "users", "add", "ben", "--bureau", "DEU", "--role", "admin", "--password-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output


def test_records_add_show_update_withdraw(run) -> None:  # type: ignore[no-untyped-def]
    run("bureaus", "add", "DEU")
    added = run(
        "records", "add", "--number", "C01X-00T47", "--country", "DEU", "--type", "passport",
        "--status", "stolen", "--bureau", "DEU", "--set", "event_date=2024-05-01",
        "--set", "event_place=Berlin", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    record = json.loads(added.output)
    assert (record["document_number"], record["version"]) == ("C01X00T47", 1)
    other = run(
        "records", "update", str(record["id"]), "--version", "1", "--set", "status=lost",
        "--bureau", "FRA",
    )  # fmt: skip
    assert other.exit_code == 1
    assert "bureau FRA may not change records issued by DEU" in other.output
    updated = run("records", "update", str(record["id"]), "--version", "1", "--set", "status=lost")
    assert updated.exit_code == 0, updated.output
    stale = run("records", "update", str(record["id"]), "--version", "1", "--set", "status=stolen")
    assert stale.exit_code == 1
    assert "at version 2, not 1" in stale.output
    withdrawn = run(
        "records", "withdraw", str(record["id"]), "--version", "2", "--reason", "recovered"
    )
    assert withdrawn.exit_code == 0
    shown = run("records", "show", "c01x00t47", "--country", "DEU", "--history", "--json")
    lines = [json.loads(line) for line in shown.output.splitlines()]
    assert lines[0]["active"] is False
    assert [entry["kind"] for entry in lines[1:]] == ["created", "updated", "withdrawn"]


def test_records_add_refuses_bad_fields_without_a_traceback(run) -> None:  # type: ignore[no-untyped-def]
    run("bureaus", "add", "DEU")
    result = run(
        "records", "add", "--number", "C01X00T47", "--country", "DEU", "--type", "spaceship",
        "--status", "stolen", "--set", "holder_birth_date=1990-02-30",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "document_type: 'spaceship' is not one of" in result.output
    assert "holder_birth_date" in result.output
    assert "Traceback" not in result.output


def test_import_of_a_bad_file_lists_every_bad_line_and_writes_nothing(
    run,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    run("bureaus", "add", "DEU")
    path = tmp_path / "records.csv"
    path.write_text(
        "document_number,issuing_country,document_type,status\n"
        "C01X00T47,DEU,passport,stolen\n"
        "C01X00T48,XX,passport,stolen\n"
        "C01X00T49,DEU,passport,gone\n"
    )
    result = run("records", "import", str(path))
    assert result.exit_code == 1
    assert "line 3: issuing_country: 'XX' is not a country code" in result.output
    assert "line 4: status:" in result.output
    assert "2 of 3 rows are invalid; nothing was imported" in result.output
    exported = tmp_path / "out.csv"
    assert run("records", "export", str(exported)).exit_code == 0
    assert exported.read_text().count("\n") == 1  # the header only


def test_import_skip_invalid_then_export_round_trips(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("bureaus", "add", "DEU")
    path = tmp_path / "records.jsonl"
    path.write_text(
        '{"document_number": "C01X00T47", "issuing_country": "DEU", "document_type": "passport",'
        ' "status": "stolen", "event_date": "2024-01-02"}\n'
        '{"document_number": "C01X00T48", "issuing_country": "DEU", "document_type": "visa",'
        ' "status": "nope"}\n'
    )
    result = run("records", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected" in result.output
    rejected = tmp_path / "records.rejected.jsonl"
    assert json.loads(rejected.read_text())["document_number"] == "C01X00T48"
    again = run("records", "import", str(path), "--skip-invalid")
    assert "0 created, 0 updated, 1 unchanged, 1 rejected" in again.output
    exported = tmp_path / "exported.jsonl"
    run("records", "export", str(exported))
    reexported = tmp_path / "reexported.jsonl"
    assert run("records", "import", str(exported)).exit_code == 0
    run("records", "export", str(reexported))
    assert reexported.read_text() == exported.read_text()
    assert json.loads(exported.read_text())["event_date"] == "2024-01-02"


def test_rejects_file_says_why_and_imports_again_once_corrected(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("bureaus", "add", "DEU")
    path = tmp_path / "november.csv"
    path.write_text(
        "document_number,issuing_country,document_type,status\n"
        "C01X00T47,DEU,passport,stolen\n"
        "C01X00T48,XX,passport,stolen\n"
        "C01X00T49,DEU,passport,gone\n"
    )
    result = run("records", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    rejects = tmp_path / "november.rejected.csv"
    assert f"rejected rows written to {rejects}" in result.output.replace("\n", "")
    rows = list(csv.DictReader(rejects.open()))
    assert [row["document_number"] for row in rows] == ["C01X00T48", "C01X00T49"]
    assert rows[0]["rejected_because"] == "issuing_country: 'XX' is not a country code"
    assert rows[1]["rejected_because"].startswith("status: ")
    # The bureau corrects the two rows and imports the rejects file as it is.
    rejects.write_text(rejects.read_text().replace(",XX,", ",DEU,").replace(",gone,", ",lost,"))
    again = run("records", "import", str(rejects))
    assert again.exit_code == 0, again.output
    assert "2 rows: 2 created, 0 updated, 0 unchanged, 0 rejected" in again.output
    exported = tmp_path / "all.csv"
    assert run("records", "export", str(exported)).exit_code == 0
    numbers = [row["document_number"] for row in csv.DictReader(exported.open())]
    assert sorted(numbers) == ["C01X00T47", "C01X00T48", "C01X00T49"]
    assert "rejected_because" not in exported.read_text()


@pytest.mark.parametrize("mode", ["dev", "production"])
def test_commands_refuse_to_run_without_a_secret_key(fresh_url: str, mode: str) -> None:
    for command in (["bureaus", "list"], ["serve", "--port", "0"], ["db", "upgrade"]):
        result = CliRunner().invoke(
            app, command, env={"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_ENV": mode}
        )
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1, result.output
        assert "BORDERCHECK_SECRET_KEY is not set" in result.output
        assert "bordercheck keys init" in result.output
        assert "Traceback" not in result.output


def test_index_build_writes_a_snapshot_the_api_can_map(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("bureaus", "add", "DEU")
    run("records", "add", "--number", "C01X00T47", "--country", "DEU", "--type", "passport",
        "--status", "stolen")  # fmt: skip
    snapshot = tmp_path / "index.snap"
    built = run("index", "build", "--output", str(snapshot))
    assert built.exit_code == 0, built.output
    assert "1 records, sequence 1" in built.output
    info = run("index", "info", str(snapshot))
    assert info.exit_code == 0, info.output
    assert "1 records, sequence 1" in info.output
    other_key = CliRunner().invoke(
        app, ["index", "info", str(snapshot)],
        env={"BORDERCHECK_SECRET_KEY": "another-key-of-at-least-32-characters!!"},
    )  # fmt: skip
    assert other_key.exit_code == 1
    assert "Traceback" not in other_key.output


def test_records_list_and_search_find_what_was_imported(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("bureaus", "add", "DEU")
    run("bureaus", "add", "FRA")
    rows = tmp_path / "records.csv"
    rows.write_text(
        "document_number,issuing_country,document_type,status,blank\n"
        "C01X00T47,DEU,passport,stolen,false\n"
        "C01X00T48,DEU,passport,lost,false\n"
        "B0000001,DEU,passport,stolen,true\n"
        "F0000001,FRA,identity_card,stolen,false\n"
    )
    assert run("records", "import", str(rows)).exit_code == 0
    listed = run("records", "list", "--country", "deu", "--json")
    assert listed.exit_code == 0, listed.output
    found = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["document_number"] for r in found] == ["B0000001", "C01X00T48", "C01X00T47"]
    lost = run("records", "list", "--status", "lost")
    assert "C01X00T48" in lost.stdout
    assert "C01X00T47" not in lost.stdout
    blank = run("records", "list", "--blank", "--json")
    assert [json.loads(line)["document_number"] for line in blank.stdout.splitlines()] == [
        "B0000001"
    ]
    search = run("records", "search", "c01x-00t4")
    assert search.exit_code == 0
    assert "C01X00T47" in search.stdout
    assert "C01X00T48" in search.stdout
    exact = run("records", "search", "C01X00T47", "--exact", "--json")
    [shown] = [json.loads(line) for line in exact.stdout.splitlines()]
    assert shown["document_number"] == "C01X00T47"
    # Times say their zone, whichever database holds them.
    assert shown["created_at"].endswith("+00:00")
    assert shown["updated_at"].endswith("+00:00")
    first = run("records", "list", "--limit", "2", "--json")
    assert len(first.stdout.splitlines()) == 2
    cursor = first.stderr.split("--cursor ")[1].strip()
    rest = run("records", "list", "--limit", "2", "--cursor", cursor, "--json")
    assert [json.loads(line)["document_number"] for line in rest.stdout.splitlines()] == [
        "C01X00T48", "C01X00T47"
    ]  # fmt: skip
    nothing = run("records", "search", "ZZZ")
    assert nothing.exit_code == 0
    assert "no record matches" in nothing.stderr


def test_records_list_names_a_bad_option_without_a_traceback(run) -> None:  # type: ignore[no-untyped-def]
    for args, named in (
        (("records", "list", "--country", "XX"), "'XX' is not a country code"),
        (("records", "list", "--cursor", "nonsense"), "not the cursor of a previous page"),
        (("records", "search", "<<<"), "document number is empty"),
    ):
        result = run(*args)
        assert result.exit_code in (1, 2), result.output
        assert named in result.output
        assert "Traceback" not in result.output


def test_help_shows_flags_as_flags() -> None:
    result = CliRunner().invoke(app, ["records", "import", "--help"])
    assert result.exit_code == 0
    assert "--skip-invalid / --no-skip-invalid" in result.output
    assert "<bool>" not in result.output  # a flag takes no value to describe


def test_an_error_quoting_brackets_keeps_them(fresh_url: str) -> None:
    """What a refusal quotes (a pattern, a path) is printed as it is, not read as markup."""
    result = CliRunner().invoke(
        app, ["bureaus", "list"],
        env={"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_TRAINING_SANDBOX": "Class A"},
    )  # fmt: skip
    assert result.exit_code != 0
    assert "[a-z0-9][a-z0-9-]{0,39}" in result.output
