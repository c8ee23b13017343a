"""Every command that changes the system of record leaves an audit entry.

The commands are read from the ``bordercheck`` command itself: one added without a scenario
here, or a reason it changes nothing the trail should hold, fails the first test.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer.main
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.testing import CliRunner, Result

from bordercheck.audit.models import AuditEntry
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.cli import app
from bordercheck.edge import service as edge_service
from bordercheck.hits.service import Deadlines, NewHit, open_hits
from bordercheck.installation import mark_sandbox
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.messaging import service as messaging_service
from bordercheck.settings import Settings, load_settings
from tests.conftest import FreshDatabases
from tests.factories import centre_notes, keyed_database, officer
from tests.signin import PASSWORD

READ_ONLY = (
    "reads only; whoever runs a command already holds the database's address and "
    "credentials, so recording their reads would prove nothing"
)
NO_DATABASE = "does not touch the system of record"
KIT_SIDE = (
    "runs at a border post on the kit's own files; what reaches the centre (registration, "
    "snapshots, uploads) is audited by the API routes the kit calls"
)

# Commands that change nothing the trail should hold, and why.
NOT_AUDITED: dict[str, str] = {
    "version": NO_DATABASE,
    "serve": "serves the API: every route that writes is covered by test_every_write",
    "demo": "makes a new demo database of its own; each change goes through the audited "
    "services",
    "mrz parse": NO_DATABASE,
    "mrz generate": NO_DATABASE,
    "index build": "writes a snapshot file of the screening index from the records, "
    "changing none",
    "edge keygen": "writes a key file; " + NO_DATABASE,
    "edge init": KIT_SIDE,
    "edge sync": KIT_SIDE,
    "edge check": KIT_SIDE,
    "edge serve": KIT_SIDE,
    "edge status": KIT_SIDE,
    "keys init": "writes the installation's keys to a settings file; " + NO_DATABASE,
    "audit checkpoint": "writes a signed checkpoint outside the database: it is itself the "
    "record, and the database holds nothing new",
    "synth world": "writes a synthetic world's files; " + NO_DATABASE,
    "training sandbox create": "makes a sandbox database of its own, whose trail starts with "
    "training.sandbox_created; the configured database is not opened",
    "training sandbox import": "makes a sandbox database of its own, whose trail starts with "
    "training.sandbox_imported; the configured database is not opened",
    "training sandbox export": "writes training.sandbox_exported in the sandbox's own trail; "
    "the configured database is not opened",
    "training scenario validate": "checks a file; " + NO_DATABASE,
    "records imports": "lists imports; it marks failed those whose process has surely "
    "stopped (a state the import's own audited run would have set), and changes nothing else",
    "hits deliver": "sends webhook events of changes already audited, and notes each attempt "
    "on the outbox (GET /hits/deliveries lists them)",
    **dict.fromkeys(
        (
            "bureaus list", "users list", "clients list", "records export", "records show",
            "records list", "records search", "records overdue", "index info", "edge kits list",
            "messages keys",
            "audit verify", "audit search", "analysis report", "analysis networks",
            "analysis export", "operations list", "operations show", "operations report",
            "training sandbox list", "training sandbox show",
            "training scenario list", "training scenario export", "training exercise scores",
            "partners list",
        ),
        READ_ONLY,
    ),
}  # fmt: skip

OLD_KEY = "old:" + base64.b64encode(b"\x05" * 32).decode()
NEW_KEY = "new:" + base64.b64encode(b"\x06" * 32).decode()


def commands() -> set[str]:
    # Through list_commands and get_command: the domains' groups are imported on demand.
    def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
        if hasattr(command, "list_commands"):
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), (*path, name))
        else:
            yield " ".join(path)

    return set(walk(typer.main.get_command(app)))


@dataclass
class Shell:
    url: str
    tmp: Path
    made: dict[str, Any] = field(default_factory=dict)

    def run(self, *args: str, stdin: str | None = None, **env: str) -> Result:
        result = CliRunner().invoke(
            app, list(args), input=stdin, env={"BORDERCHECK_DATABASE_URL": self.url} | env
        )
        assert result.exit_code == 0, f"{' '.join(args)}: {result.output}"
        return result

    def in_sandbox(self) -> dict[str, str]:
        """The environment that runs a command in the training sandbox made beside the url."""
        return {"BORDERCHECK_DATABASE_URL": self.made["sandbox"],
                "BORDERCHECK_TRAINING_SANDBOX": SANDBOX}  # fmt: skip

    def session(self) -> Iterator[Any]:
        database = keyed_database(self.url)
        try:
            with database.session(write=True) as session:
                yield session
        finally:
            database.dispose()


Scenario = Callable[[Shell], object]


def _client(shell: Shell) -> None:
    added = shell.run("clients", "add", "gates", "--bureau", "FRA", "--role", "border_officer")
    shell.made["client"] = added.output.split("client_id:")[1].split()[0]


def _record(shell: Shell) -> None:
    added = shell.run(
        "records", "add", "--number", "C01X00T47", "--country", "DEU", "--type", "passport",
        "--status", "stolen", "--bureau", "DEU", "--json",
    )  # fmt: skip
    shell.made["record"] = json.loads(added.output)["id"]


def _import(shell: Shell) -> None:
    path = shell.tmp / "records.csv"
    path.write_text(
        "document_number,issuing_country,document_type,status\nC01X00T48,DEU,passport,lost\n"
    )
    shell.run("records", "import", str(path), "--bureau", "DEU")


def _revoke_kit(shell: Shell) -> None:
    for session in shell.session():
        client, _ = auth_service.add_client(session, "kit", bureau="FRA", role=Role.BORDER_OFFICER)
        principal = Principal(
            kind="client", id=client.client_id, name=client.client_id,
            role=Role.BORDER_OFFICER, bureau_code="FRA",
        )  # fmt: skip
        key = edge_service.wrapping_key(load_settings().secret_key)
        kit, _ = edge_service.register_kit(session, principal, key)
        kit_id = kit.kit_id
    shell.run("edge", "kits", "revoke", kit_id)


def _manifest(shell: Shell) -> None:
    path = shell.tmp / "xb77.edi"
    path.write_text(write_paxlst(synthetic_flight(3, seed=1, flight="XB77")))
    shell.run("manifests", "screen", str(path), "--bureau", "FRA")


def _rewrap(shell: Shell) -> None:
    for session in shell.session():
        messaging_service.create_thread(
            session, Settings(env="test", message_keys=OLD_KEY), officer("DEU"),
            subject="s", recipients=["FRA"], body="b",
        )  # fmt: skip
    shell.run("messages", "rewrap", BORDERCHECK_MESSAGE_KEYS=f"{NEW_KEY},{OLD_KEY}")


def _sweep(shell: Shell) -> None:
    now = datetime.now(UTC)
    # A desk's case is due in 30 minutes, its owner reminded after 22.5: one of each.
    for session in shell.session():
        open_hits(
            session,
            [
                NewHit(
                    query_id=f"{n:032x}", record_id=shell.made["record"], owner_bureau="DEU",
                    querying_bureau="FRA", queried_by="border.fra", match="exact", score=1.0,
                    location=None, operation_id=None, at=now - age, source="desk",
                    document_number=f"C01X00T{n:02d}",  # two documents: two cases
                )
                for n, age in enumerate((timedelta(minutes=25), timedelta(hours=1)))
            ],
            deadlines=Deadlines.from_settings(load_settings()),
            notes=centre_notes(),
        )  # fmt: skip
    assert "reminded 1, escalated 1" in shell.run("hits", "sweep").output


def _synth_load(shell: Shell) -> None:
    world = shell.tmp / "world"
    shell.run("synth", "world", "--out", str(world), "--seed", "3", "--weeks", "4",
              "--networks", "1", "--impostors", "1", "--records", "20", "--legs", "2",
              "--passengers", "4")  # fmt: skip
    shell.run("synth", "load", str(world))


def _import_scenario(shell: Shell, **env: str) -> None:
    path = shell.tmp / "drill.yaml"
    path.write_text(
        "id: drill\ntitle: {en: Drill}\nbriefing: {en: Check it.}\n"
        "documents:\n  - {ref: held, document_number: X1234567, issuing_country: FRA,\n"
        "     surname: DOE, nationality: FRA, birth_date: 1990-01-01, expiry_date: 2030-01-01}\n"
        "steps:\n  - {id: check, kind: screen, title: {en: Check}, document: held,\n"
        "     expect: no_hit, points: 5}\n"
    )
    shell.run("training", "scenario", "import", str(path), **env)


def _start_exercise(shell: Shell) -> None:
    """In the sandbox (exercises are planted nowhere else): a trainee, the scenario, the start."""
    database = keyed_database(shell.made["sandbox"])
    with database.session(write=True) as session:
        auth_service.add_bureau(session, "DEU", "NCB Wiesbaden")
        auth_service.add_user(
            session, "anna.k", bureau="DEU", role=Role.BUREAU_OFFICER, password=PASSWORD
        )
    database.dispose()
    _import_scenario(shell, **shell.in_sandbox())
    shell.run("training", "exercise", "start", "drill", "--trainees", "anna.k",
              **shell.in_sandbox())  # fmt: skip


def _create_operation(shell: Shell) -> None:
    made = shell.run("operations", "create", "Blue Gate", "--from", "2026-03-01",
                     "--to", "2026-03-04", "--post", "CDG", "--bureau", "FRA")  # fmt: skip
    found = re.match(r"operation (\d+):", made.output)
    assert found is not None, made.output
    shell.made["operation"] = int(found.group(1))


def _invite(shell: Shell) -> None:
    shell.run("partners", "add", "EBA", "--name", "EUBA, European border agency")
    shell.run("operations", "invite", str(shell.made["operation"]), "EBA")


def _upgrade(shell: Shell) -> None:
    shell.run("db", "upgrade", BORDERCHECK_DATABASE_URL=shell.made["unmigrated"])


SANDBOX = "drill"
# Commands whose scenario runs on a database of its own: where to look for their entry.
ELSEWHERE = {
    "db upgrade": "unmigrated",
    "training exercise start": "sandbox",
    "training exercise end": "sandbox",
}

# Each command, the action its scenario must leave, and the scenario; in order.
SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "bureaus add": ("bureau.added", lambda s: (s.run("bureaus", "add", "DEU"),
                                               s.run("bureaus", "add", "FRA"))),
    "users add": ("user.added", lambda s: s.run(
        "users", "add", "anna.k", "--bureau", "DEU", "--role", "bureau_officer",
        "--password-stdin", stdin="correct horse battery\n")),
    "users deactivate": ("user.deactivated", lambda s: s.run("users", "deactivate", "anna.k")),
    "users reactivate": ("user.reactivated", lambda s: s.run("users", "reactivate", "anna.k")),
    "users set-password": ("user.password_reset", lambda s: s.run(
        "users", "set-password", "anna.k", "--password-stdin",
        stdin="another long passphrase 7\n")),
    "clients add": ("client.added", _client),
    "clients deactivate": (
        "client.revoked", lambda s: s.run("clients", "deactivate", s.made["client"])),
    "records add": ("record.created", _record),
    "records update": ("record.updated", lambda s: s.run(
        "records", "update", str(s.made["record"]), "--version", "1", "--set", "status=lost")),
    "records review": ("record.reviewed", lambda s: s.run(
        "records", "review", str(s.made["record"]), "--version", "2")),
    # Before any hit case: opening one writes its thread with the development message key.
    "messages rewrap": ("messages.rewrapped", _rewrap),
    "hits sweep": ("hit.reminded", _sweep),
    "records withdraw": ("record.withdrawn", lambda s: s.run(
        "records", "withdraw", str(s.made["record"]), "--version", "3", "--reason", "found")),
    "records import": ("records.imported", _import),
    "edge kits revoke": ("edge.kit_revoked", _revoke_kit),
    "manifests screen": ("manifest.screened", _manifest),
    "manifests purge": (
        "manifests.purged", lambda s: s.run("manifests", "purge", "--older-than-days", "0")),
    "synth load": ("hit.answered", _synth_load),
    "db backup": ("db.backed_up", lambda s: s.run(
        "db", "backup", "--out", str(s.tmp / "all.backup"))),
    "db restore": ("db.restored", lambda s: s.run(
        "db", "restore", str(s.tmp / "all.backup"), "--force")),
    "training scenario import": ("training.scenario_imported", _import_scenario),
    "training exercise start": ("training.exercise_started", _start_exercise),
    "training exercise end": ("training.exercise_ended", lambda s: s.run(
        "training", "exercise", "end", "1", **s.in_sandbox())),
    "partners add": ("partner.added", lambda s: s.run("partners", "add", "UND", "--name", "U")),
    "operations create": ("operation.created", _create_operation),
    "operations invite": ("operation.partner_invited", _invite),
    "operations uninvite": ("operation.partner_uninvited", lambda s: s.run(
        "operations", "uninvite", str(s.made["operation"]), "EBA")),
    "db upgrade": ("bureau.added", _upgrade),
}  # fmt: skip


def test_every_command_has_a_scenario_or_a_reason() -> None:
    every = commands()
    missing = every - set(SCENARIOS) - set(NOT_AUDITED)
    assert not missing, (
        f"commands with no audit scenario: {sorted(missing)}; add one to SCENARIOS (and an "
        "audit entry to the command), or a reason to NOT_AUDITED"
    )
    assert not (set(SCENARIOS) | set(NOT_AUDITED)) - every, "listed, but not a command"
    assert not set(SCENARIOS) & set(NOT_AUDITED)


def last_seq(url: str) -> int:
    database = keyed_database(url)
    try:
        with database.session() as session:
            return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)
    except (OperationalError, ProgrammingError):  # not migrated yet: no trail at all
        return 0
    finally:
        database.dispose()


def actions_after(url: str, seq: int) -> list[str]:
    database = keyed_database(url)
    try:
        with database.session() as session:
            return list(session.scalars(select(AuditEntry.action).where(AuditEntry.seq > seq)))
    finally:
        database.dispose()


def test_each_command_that_writes_leaves_an_audit_entry(
    fresh_url: str, backend: str, fresh_databases: FreshDatabases, tmp_path: Path
) -> None:
    shell = Shell(fresh_url, tmp_path)
    shell.made["unmigrated"] = fresh_databases.url(backend, migrate=False)
    shell.made["sandbox"] = fresh_databases.url(backend)
    database = keyed_database(shell.made["sandbox"])
    with database.session(write=True) as session:
        mark_sandbox(session, SANDBOX)
    database.dispose()
    unaudited = []
    for command, (action, scenario) in SCENARIOS.items():
        url = shell.made[ELSEWHERE[command]] if command in ELSEWHERE else fresh_url
        before = last_seq(url)
        scenario(shell)
        if action not in actions_after(url, before):
            unaudited.append(f"{command} (expected {action}, got {actions_after(url, before)})")
    assert unaudited == []
