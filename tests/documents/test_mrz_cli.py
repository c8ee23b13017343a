"""``bordercheck mrz parse`` and ``generate``, run through Typer as a user would."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from bordercheck.documents.cli import mrz_app
from bordercheck.documents.mrz import check_digit

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
MRV_B = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<")
BAD_CHECK = (TD3[0], TD3[1][:9] + "7" + TD3[1][10:])
FIELDS = [
    "format",
    "document_code",
    "issuing_country",
    "document_number",
    "nationality",
    "birth_date",
    "sex",
    "expiry_date",
    "surname",
    "given_names",
    "optional_data",
    "valid",
    "checks",
    "corrections",
    "problems",
    "notes",
]

# The main CLI mounts mrz_app as `bordercheck mrz`; do the same here.
app = typer.Typer()
app.add_typer(mrz_app, name="mrz")
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, list[dict[str, Any]], str]:
    result = runner.invoke(app, ["mrz", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    objects = [orjson.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, objects, result.stderr


def stdin_of(*mrzs: tuple[str, ...]) -> str:
    return "\n\n".join("\n".join(lines) for lines in mrzs) + "\n"


def test_parse_reads_several_mrzs_from_stdin() -> None:
    text = "\n" + stdin_of(TD3, TD1) + "\n  \n\n" + "\n".join(MRV_B) + "\n\n"
    code, objects, _ = run("parse", stdin=text)
    assert code == 0
    assert [o["format"] for o in objects] == ["TD3", "TD1", "MRV-B"]
    assert all(o["valid"] for o in objects)


def test_parse_prints_exactly_the_documented_fields() -> None:
    _, (obj,), _ = run("parse", *TD3)
    assert list(obj) == FIELDS
    assert obj == {
        "format": "TD3",
        "document_code": "P",
        "issuing_country": "UTO",
        "document_number": "L898902C3",
        "nationality": "UTO",
        "birth_date": "1974-08-12",
        "sex": "F",
        "expiry_date": "2012-04-15",
        "surname": "ERIKSSON",
        "given_names": "ANNA MARIA",
        "optional_data": "ZE184226B",
        "valid": True,
        "checks": {
            "document_number": True,
            "birth_date": True,
            "expiry_date": True,
            "optional_data": True,
            "composite": True,
        },
        "corrections": [],
        "problems": [],
        "notes": [],
    }


def test_parse_line_arguments_are_one_mrz() -> None:
    code, objects, _ = run("parse", *TD1)
    assert code == 0
    assert len(objects) == 1
    assert objects[0]["format"] == "TD1"


def test_unknown_birth_date_is_null() -> None:
    line = TD3[1][:13] + "<<<<<<" + check_digit("<<<<<<") + TD3[1][20:43]
    line += check_digit(line[0:10] + line[13:20] + line[21:43])
    code, (obj,), _ = run("parse", TD3[0], line)
    assert obj["birth_date"] is None
    assert code == 0


def test_exit_1_when_a_check_fails() -> None:
    code, objects, _ = run("parse", stdin=stdin_of(TD3, BAD_CHECK, TD1))
    assert code == 1
    assert [o["valid"] for o in objects] == [True, False, True]
    assert objects[1]["checks"]["document_number"] is False
    assert objects[1]["checks"]["composite"] is False


def test_exit_2_when_one_is_not_an_mrz_and_the_others_are_still_read() -> None:
    not_mrz = (TD3[0], TD3[1][:43])
    code, objects, _ = run("parse", stdin=stdin_of(TD3, not_mrz, BAD_CHECK))
    assert code == 2  # 2 wins over the failed check of the third
    assert objects[0]["valid"] is True
    assert objects[1] == {
        "error": "line 2 is 43 characters long; TD3 lines are 44",
        "input_index": 2,
    }
    assert objects[2]["valid"] is False


def test_exit_2_for_empty_input() -> None:
    code, objects, err = run("parse", stdin="\n\n")
    assert code == 2
    assert objects == []
    assert "no MRZ given" in err


def test_correct_repairs_and_reports() -> None:
    misread = (TD3[0], TD3[1][:15] + "O" + TD3[1][16:])
    code, (plain,), _ = run("parse", *misread)
    assert code == 1
    assert plain["valid"] is False
    code, (fixed,), _ = run("parse", "--correct", *misread)
    assert code == 0
    assert fixed["birth_date"] == "1974-08-12"
    assert fixed["corrections"] == [
        {"line": 2, "column": 16, "field": "birth_date", "from": "O", "to": "0"}
    ]


PASSPORT = [
    "--type",
    "passport",
    "--country",
    "UTO",
    "--number",
    "L898902C3",
    "--surname",
    "Eriksson",
    "--given-names",
    "Anna Maria",
    "--birth-date",
    "1974-08-12",
    "--sex",
    "F",
    "--expiry-date",
    "2012-04-15",
    "--optional-data",
    "ZE184226B",
]


def test_generate_prints_the_lines() -> None:
    result = runner.invoke(app, ["mrz", "generate", "--format", "TD3", *PASSPORT])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == list(TD3)


def test_generate_picks_the_format_from_the_type() -> None:
    args = [a if a != "passport" else "identity_card" for a in PASSPORT[:-2]]
    result = runner.invoke(app, ["mrz", "generate", *args])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [len(line) for line in lines] == [30, 30, 30]
    assert lines[0].startswith("IDUTOL898902C3")


def test_generated_mrz_parses() -> None:
    args = ["--type", "visa", "--format", "MRV-B", "--country", "D", "--nationality", "XXA"]
    args += ["--number", "X1", "--surname", "Müller", "--birth-date", "1990-01-31"]
    args += ["--sex", "X", "--expiry-date", "2030-01-31"]
    generated = runner.invoke(app, ["mrz", "generate", *args])
    assert generated.exit_code == 0, generated.output
    code, (obj,), _ = run("parse", stdin=generated.stdout)
    assert code == 0
    assert (obj["format"], obj["issuing_country"], obj["nationality"]) == ("MRV-B", "DEU", "XXA")
    assert (obj["surname"], obj["sex"]) == ("MUELLER", "X")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--birth-date", "12.08.1974"], "--birth-date must be a date as YYYY-MM-DD"),
        (["--format", "TD9"], "--format must be one of TD1, TD2, TD3, MRV-A, MRV-B"),
        (["--type", "spaceship"], "'spaceship' is not a document type"),
        (["--country", "ZZZ"], "'ZZZ' is not a country code"),
        (["--number", "L898902C3X"], "TD3 has room for 9"),
        (["--sex", "W"], "sex must be M, F or X"),
        (["--format", "MRV-A"], "MRV-A document codes start with V"),
        (["--type", "other"], "give --format for a document of type other"),
        (["--type", "other", "--format", "TD1"], "give --code for a document of type other"),
    ],
)
def test_generate_bad_input_is_one_line_on_stderr(change: list[str], message: str) -> None:
    result = runner.invoke(app, ["mrz", "generate", *PASSPORT, *change])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_generate_missing_option() -> None:
    args = [a for a in PASSPORT if a not in ("--surname", "Eriksson")]
    result = runner.invoke(app, ["mrz", "generate", *args])
    assert result.exit_code == 2
    assert result.stderr == "error: --surname is required\n"
