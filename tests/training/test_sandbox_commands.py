"""`training sandbox create|list|show|export|import`: what they make, and what they refuse."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from dotenv import dotenv_values
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bordercheck.api.app import create_app
from bordercheck.cli import app
from bordercheck.demo import LOGIN_LINE
from bordercheck.keys.files import as_settings
from bordercheck.settings import load_settings
from tests.backups import Targets
from tests.conftest import FreshDatabases

TOKEN = "/api/v1/auth/token"


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    made = Targets(tmp_path_factory.mktemp("targets"))
    yield made
    made.drop_all()


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env={"BORDERCHECK_SETTINGS_FILE": ""})
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says", "code"),
    [
        (["Class_A"], "sandbox name 'Class_A' is not valid", 2),
        (["-x"], "", 2),  # not even a name: typer's usage error
        (["a" * 41], "is not valid: 1 to 40", 2),
    ],
)
def test_a_bad_name_is_refused(tmp_path: Path, args: list[str], says: str, code: int) -> None:
    result = run("training", "sandbox", "create", *args, "--dir", str(tmp_path), code=code)
    assert says in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_database_that_is_not_empty_is_refused(fresh_url: str, tmp_path: Path) -> None:
    result = run("training", "sandbox", "create", "class-a", "--dir", str(tmp_path),
                 "--database-url", fresh_url, code=1)  # fmt: skip
    assert "is not empty" in one_line(result)
    assert "a sandbox is made only in a new, empty database" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing half-made


def test_an_existing_directory_is_refused_unless_replaced(tmp_path: Path) -> None:
    (tmp_path / "class-a").mkdir()
    result = run("training", "sandbox", "create", "class-a", "--dir", str(tmp_path), code=1)
    assert "exists already" in one_line(result)
    replaced = run("training", "sandbox", "create", "class-a", "--dir", str(tmp_path),
                   "--replace", code=1)  # fmt: skip
    assert "is not a sandbox; --replace only replaces sandboxes" in one_line(replaced)
    listed = run("training", "sandbox", "list", "--dir", str(tmp_path))
    assert "class-a" not in listed.stdout  # the directory is not listed as a sandbox


def sign_in(settings_file: Path, username: str, password: str) -> tuple[int, str]:
    values = {k: v for k, v in dotenv_values(settings_file).items() if v is not None}
    settings = load_settings(env="test", **as_settings(values))
    with TestClient(create_app(settings)) as client:
        answer = client.post(
            TOKEN, data={"grant_type": "password", "username": username, "password": password}
        )
        token = answer.json().get("access_token", "") if answer.status_code == 200 else ""
        return answer.status_code, token


def bearer_works(settings_file: Path, token: str) -> int:
    values = {k: v for k, v in dotenv_values(settings_file).items() if v is not None}
    settings = load_settings(env="test", **as_settings(values))
    with TestClient(create_app(settings)) as client:
        return client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code


@pytest.mark.slow
def test_create_list_show_export_and_import(
    backend: str, fresh_databases: FreshDatabases, targets: Targets, tmp_path: Path
) -> None:
    root = tmp_path / "sandboxes"
    extra = ["--database-url", fresh_databases.url(backend, migrate=False)]
    if backend == "sqlite":
        extra = []
    made = run("training", "sandbox", "create", "class-a", "--dir", str(root), "--records", "50",
               "--weeks", "4", "--networks", "1", "--trainees", "2", *extra).output  # fmt: skip
    logins = [LOGIN_LINE.match(line) for line in made.splitlines()]
    found = {m.group(1): m.group(2) for m in logins if m}
    assert {"trainer", "trainee01", "trainee02"} <= set(found)
    directory = root / "class-a"
    for private in ("bordercheck.env", "sandbox.logins"):
        assert (directory / private).stat().st_mode & 0o077 == 0
    settings_file = directory / "bordercheck.env"
    assert dotenv_values(settings_file)["BORDERCHECK_TRAINING_SANDBOX"] == "class-a"
    assert (directory / "world" / "truth.json").is_file()
    assert run("training", "sandbox", "list", "--dir", str(root)).output.startswith("class-a  ")
    shown = run("training", "sandbox", "show", "class-a", "--dir", str(root)).output
    assert "login: trainer (trainer, XPO)" in shown
    assert found["trainer"] not in shown  # passwords are printed once, at creation
    again = run("training", "sandbox", "create", "class-a", "--dir", str(root), code=1)
    assert "exists already" in again.output

    status, old_token = sign_in(settings_file, "trainer", found["trainer"])
    assert status == 200
    # A trainee added after the sandbox was made: the import gives them a password too.
    late = CliRunner().invoke(
        app, ["users", "add", "late.trainee", "--bureau", "BEL", "--role", "bureau_officer",
              "--password-stdin"],
        input="Quiet-harbour-lantern-29\n",
        env={"BORDERCHECK_SETTINGS_FILE": str(settings_file)},
    )  # fmt: skip
    assert late.exit_code == 0, late.output
    (directory / "scenarios").mkdir()
    (directory / "scenarios" / "first.yaml").write_text("title: first\n")
    export = tmp_path / "class-a.export"
    run("training", "sandbox", "export", "class-a", "--dir", str(root), "--out", str(export))
    assert export.stat().st_mode & 0o077 == 0

    # A PostgreSQL backup restores into a schema of its name: a new database, here.
    source = str(dotenv_values(settings_file)["BORDERCHECK_DATABASE_URL"])
    extra = [] if backend == "sqlite" else ["--database-url", targets.url(source)]
    imported = run("training", "sandbox", "import", str(export), "class-b", "--dir", str(root),
                   *extra).output  # fmt: skip
    new = {m.group(1): m.group(2) for m in map(LOGIN_LINE.match, imported.splitlines()) if m}
    assert set(new) == set(found) | {"late.trainee"}
    copy = root / "class-b"
    assert (copy / "scenarios" / "first.yaml").read_text() == "title: first\n"
    new_settings = copy / "bordercheck.env"
    old_values, new_values = dotenv_values(settings_file), dotenv_values(new_settings)
    for key in ("BORDERCHECK_SECRET_KEY", "BORDERCHECK_AUDIT_SIGNING_KEY"):
        assert old_values[key] != new_values[key]
    # Nothing of the old sandbox's signs in to the new one: its token, its passwords.
    assert bearer_works(new_settings, old_token) == 401
    assert sign_in(new_settings, "trainer", found["trainer"])[0] == 401
    assert sign_in(new_settings, "trainer", new["trainer"])[0] == 200
    verified = CliRunner().invoke(
        app, ["audit", "verify"], env={"BORDERCHECK_SETTINGS_FILE": str(new_settings)}
    )
    assert verified.exit_code == 0, verified.output
    assert "class-b" in run("training", "sandbox", "show", "class-b", "--dir", str(root)).output


def test_import_refuses_what_is_not_a_sandbox_export(tmp_path: Path, fresh_url: str) -> None:
    backup = tmp_path / "live.backup"
    CliRunner().invoke(
        app, ["db", "backup", "--out", str(backup)],
        env={"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_SETTINGS_FILE": ""},
    )  # fmt: skip
    result = run("training", "sandbox", "import", str(backup), "--dir", str(tmp_path / "s"),
                 code=1)  # fmt: skip
    assert "is not a sandbox export" in one_line(result)


def small_world(out: Path) -> Path:
    run("synth", "world", "--out", str(out), "--seed", "41", "--weeks", "4", "--networks", "1",
        "--impostors", "1", "--records", "20", "--passengers", "4", "--legs", "2")  # fmt: skip
    return out


@pytest.mark.slow
def test_a_world_made_beforehand_fills_the_sandbox(tmp_path: Path) -> None:
    world = small_world(tmp_path / "their-world")
    root = tmp_path / "sandboxes"
    made = run("training", "sandbox", "create", "class-w", "--dir", str(root), "--world",
               str(world), "--records", "30", "--trainees", "1").output  # fmt: skip
    found = {m.group(1): m.group(2) for m in map(LOGIN_LINE.match, made.splitlines()) if m}
    directory = root / "class-w"
    assert (directory / "world" / "truth.json").read_bytes() == (world / "truth.json").read_bytes()
    shown = run("training", "sandbox", "show", "class-w", "--dir", str(root)).output
    assert f"copied from {world.resolve()} (seed 41, 4 weeks" in shown
    # The world's own records are the sandbox's: a trainee's check finds one.
    first = orjson.loads((world / "records.jsonl").read_bytes().splitlines()[0])
    status, token = sign_in(directory / "bordercheck.env", "trainee01", found["trainee01"])
    assert status == 200
    values = {k: v for k, v in dotenv_values(directory / "bordercheck.env").items() if v}
    with TestClient(create_app(load_settings(env="test", **as_settings(values)))) as client:
        answer = client.post(
            "/api/v1/screen",
            json={k: first[k] for k in ("document_number", "issuing_country")},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == "hit"
    assert answer.headers["X-Bordercheck-Training"] == "class-w"


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda w: shutil.rmtree(w), "is not a directory"),
        (lambda w: (w / "world.json").write_text('{"posts": 3}'), "world.json: expected an"),
        (lambda w: (w / "world.json").write_text("{"), "world.json is not JSON"),
        (lambda w: (w / "records.jsonl").write_text('{"a": 1}\n[1]\n'), "records.jsonl: line 2"),
        (
            lambda w: (w / "records.jsonl").write_text('{"document_number": "X1"}\n'),
            "records.jsonl: line 1: issuing_country",
        ),
        (
            lambda w: (w / "screenings.jsonl").write_text('{"issuing_country": "FRA"}\n'),
            "screenings.jsonl: line 1: send document_number and issuing_country, or mrz",
        ),
        (
            lambda w: (w / "screenings.jsonl").write_text(
                '{"document_number": "X1", "issuing_country": "FRA", "at": "soon"}\n'
            ),
            "screenings.jsonl: line 1: at: 'soon' is not a time",
        ),
    ],
)
def test_a_world_that_cannot_be_read_is_refused_by_file_and_line(
    tmp_path: Path, spoil: Callable[[Path], object], says: str
) -> None:
    world = tmp_path / "world"
    world.mkdir()
    (world / "records.jsonl").write_text("")
    spoil(world)
    root = tmp_path / "sandboxes"
    result = run("training", "sandbox", "create", "class-w", "--dir", str(root), "--world",
                 str(world), "--records", "0", "--trainees", "0", code=1)  # fmt: skip
    assert says in one_line(result)
    assert str(world) in result.output  # the file named is the trainer's, not a copy
    assert not (root / "class-w").exists()  # nothing half-made


def test_replace_replaces_only_what_a_sandbox_made(tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "sandbox.json").write_text("{}")
    (fake / "keep.txt").write_text("mine")
    result = run("training", "sandbox", "create", "fake", "--dir", str(tmp_path), "--replace",
                 code=1)  # fmt: skip
    assert "which a sandbox does not make; --replace only replaces sandboxes" in one_line(result)
    assert (fake / "keep.txt").read_text() == "mine"


def test_an_export_reaching_out_of_its_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    export = tmp_path / "evil.export"
    manifest = orjson.dumps({"format": "bordercheck-sandbox-export", "format_version": 1,
                             "name": "evil", "seed": 1, "weeks": 4, "records": 0})  # fmt: skip
    with tarfile.open(export, "w") as archive:
        for name, data in (("sandbox-export.json", manifest), ("../escaped.txt", b"x")):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    result = run("training", "sandbox", "import", str(export), "--dir", str(tmp_path / "s"),
                 code=1)  # fmt: skip
    assert "is not a sandbox export" in one_line(result)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "s" / "evil").exists()


def test_replace_replaces_a_sandbox_its_server_has_written_beside(tmp_path: Path) -> None:
    from bordercheck.training.sandbox import SETTINGS_MARK, prepare_directory

    served = tmp_path / "class-a"
    for folder in ("cache", "journal", "world", "scenarios"):
        (served / folder).mkdir(parents=True)
    (served / "sandbox.json").write_text("{}")
    (served / "bordercheck.env").write_text(f"{SETTINGS_MARK} for 'class-a'\n")
    for name in ("sandbox.db", "sandbox.db-wal", "sandbox.logins"):
        (served / name).write_text("")
    made = prepare_directory(tmp_path, "class-a", replace=True)
    assert made == served
    assert list(made.iterdir()) == []
