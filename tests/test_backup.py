"""`db backup` and `db restore`, and the disaster-recovery path: a backup taken while a server
writes, restored into a new database, serves the same answers, verifies, and kits sync on."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner, Result

from bordercheck import backup
from bordercheck.audit.models import AuditEntry
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.backup import MANIFEST, read_manifest
from bordercheck.cli import app
from bordercheck.db import normalise_url
from bordercheck.edge import sync
from bordercheck.installation import mark_sandbox
from bordercheck.migrations import head_revision
from bordercheck.registry import service as registry_service
from bordercheck.registry.models import Record
from tests.backups import Targets
from tests.conftest import POSTGRES_URL, FreshDatabases
from tests.edge.conftest import STOLEN, Centre
from tests.edge.test_kit import ask, kit_for
from tests.factories import fields, keyed_database, officer
from tests.signin import mint_bearer


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    made = Targets(tmp_path_factory.mktemp("targets"))
    yield made
    made.drop_all()


def run(url: str, *args: str, code: int = 0, **env: str) -> Result:
    result = CliRunner().invoke(app, list(args), env={"BORDERCHECK_DATABASE_URL": url, **env})
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def add_records(url: str, *numbers: str) -> None:

    database = keyed_database(url)
    with database.session(write=True) as session:
        if not session.scalar(select(func.count()).select_from(Record)):
            for country in ("DEU", "FRA"):
                auth_service.add_bureau(session, country, f"NCB {country}")
        for number in numbers:
            registry_service.create_record(session, officer("DEU"), fields(document_number=number))
    database.dispose()


def records_and_creations(url: str) -> tuple[int, int]:
    database = keyed_database(url)
    with database.session() as session:
        records = session.scalar(select(func.count()).select_from(Record)) or 0
        created = session.scalar(select(func.count()).where(AuditEntry.action == "record.created"))
    database.dispose()
    return records, created or 0


def test_a_backup_restores_into_a_new_database_whole(
    fresh_url: str, targets: Targets, tmp_path: Path
) -> None:
    add_records(fresh_url, *STOLEN)
    out = tmp_path / "bordercheck.backup"
    said = run(fresh_url, "db", "backup", "--out", str(out)).output
    assert f"backup of the live database (schema revision {head_revision()})" in said
    assert out.stat().st_mode & 0o777 == 0o600
    manifest = read_manifest(out)
    assert manifest.schema_revision == head_revision()
    assert manifest.installation["kind"] == "live"
    target = targets.url(fresh_url)
    run(fresh_url, "db", "restore", str(out), "--database-url", target)
    assert records_and_creations(target) == (3, 3)
    verified = run(target, "audit", "verify").output
    assert "audit trail intact" in verified
    # The restore and the backup are in the restored trail.
    database = keyed_database(target)
    with database.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    database.dispose()
    assert actions[-2:] == ["db.backed_up", "db.restored"]


@pytest.mark.skipif(POSTGRES_URL is None, reason="pg_dump's lock wait is PostgreSQL's")
def test_a_backup_behind_a_table_held_exclusively_is_refused_not_left_waiting(
    fresh_databases: FreshDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_databases.url("postgresql")
    monkeypatch.setattr(backup, "LOCK_WAIT_SECONDS", 1)
    engine = create_engine(normalise_url(url))
    with engine.connect() as migrating, migrating.begin():
        migrating.execute(text("LOCK TABLE records IN ACCESS EXCLUSIVE MODE"))
        out = tmp_path / "bordercheck.backup"
        refused = run(url, "db", "backup", "--out", str(out), code=1).output
    engine.dispose()
    assert "pg_dump waited 1 s for a table another session holds exclusively" in refused
    assert not out.exists()
    run(url, "db", "backup", "--out", str(out))  # and goes through once it is free


def test_restore_refuses_what_is_not_a_backup_or_not_empty_or_too_new(
    fresh_url: str, targets: Targets, tmp_path: Path
) -> None:
    other = tmp_path / "records.tar"
    with tarfile.open(other, "w") as archive:
        archive.add(__file__, arcname="notes.txt")
    for path, says in (
        (other, "is not a bordercheck backup (no manifest.json first)"),
        (tmp_path / "missing.backup", "there is no file at"),
    ):
        refused = run(fresh_url, "db", "restore", str(path), code=1).output
        assert says in refused
        assert len(refused.strip().splitlines()) == 1
    out = tmp_path / "b.backup"
    run(fresh_url, "db", "backup", "--out", str(out))
    refused = run(fresh_url, "db", "restore", str(out), code=1).output  # onto itself
    assert "is not empty" in refused
    assert "--force" in refused
    # A backup from a later bordercheck, whose schema this one does not know.
    newer = tmp_path / "newer.backup"
    with tarfile.open(out) as source, tarfile.open(newer, "w") as archive:
        for member in source.getmembers():
            data = source.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == MANIFEST:
                manifest: dict[str, Any] = json.loads(content)
                content = json.dumps({**manifest, "schema_revision": "0099"}).encode()
                member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    refused = run(fresh_url, "db", "restore", str(newer), "--database-url",
                  targets.url(fresh_url), code=1).output  # fmt: skip
    assert "schema revision 0099, which this bordercheck" in refused
    # --force replaces what the target holds: the database as the backup had it.
    add_records(fresh_url, "L8998877")
    run(fresh_url, "db", "restore", str(out), "--force")
    assert records_and_creations(fresh_url) == (0, 0)


def test_a_sandbox_backup_never_restores_as_live_data(
    fresh_url: str, targets: Targets, tmp_path: Path
) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        mark_sandbox(session, "class-a")
    database.dispose()
    out = tmp_path / "sandbox.backup"
    run(fresh_url, "db", "backup", "--out", str(out), BORDERCHECK_TRAINING_SANDBOX="class-a")
    refused = run(fresh_url, "db", "restore", str(out), "--database-url",
                  targets.url(fresh_url), code=1).output  # fmt: skip
    assert "is a backup of the training sandbox 'class-a': it never becomes live data" in refused
    # Nor is a live backup restored with a sandbox's settings; nor live data replaced by one.
    live = tmp_path / "live.backup"
    other = targets.url(fresh_url)
    run(other, "db", "upgrade")
    run(other, "db", "backup", "--out", str(live))
    refused = run(other, "db", "restore", str(live), "--force", code=1,
                  BORDERCHECK_TRAINING_SANDBOX="class-a").output  # fmt: skip
    assert "is a backup of live data" in refused


# The disaster-recovery path --------------------------------------------------------------------

QUERIES = [*STOLEN, "ZZ0000001", "C01X00T4T", "PA0O12345"]  # recorded, absent, OCR slips


def verdict(answer: dict[str, Any]) -> tuple[Any, Any]:
    """What a kit's answer says, without which kit, when and which query."""
    return answer["result"], answer.get("matches")


def answers(centre: Centre, headers: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    for number in QUERIES:
        response = httpx2.post(
            centre.url + "/api/v1/screen",
            headers=headers,
            json={"document_number": number, "issuing_country": "DEU"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        body.pop("query_id")
        found.append(body)
    return found


class Writer(threading.Thread):
    """Records created over HTTP, one after another, until stopped. A failure ends it and is
    kept, for the test's thread to say: it waits on what this one writes."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base, self.headers = base, headers
        self.stop = threading.Event()
        self.written: list[str] = []
        self.failed = ""

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                number = f"W{len(self.written):07d}"
                response = httpx2.post(
                    self.base + "/api/v1/records",
                    headers=self.headers,
                    json={"document_number": number, "issuing_country": "DEU",
                          "document_type": "passport", "status": "stolen"},
                    timeout=30,
                )  # fmt: skip
                if response.status_code != 201:
                    self.failed = f"{number}: {response.status_code} {response.text}"
                    return
                self.written.append(number)
        except Exception as exc:
            self.failed = f"{type(exc).__name__}: {exc}"

    def until(self, count: int, within: float = 60) -> None:
        """Wait until ``count`` records are written; fail if the writer failed or stalled."""
        deadline = time.monotonic() + within
        while len(self.written) < count:
            assert not self.failed, f"a write failed: {self.failed}"
            assert self.is_alive(), "the writer stopped"
            assert time.monotonic() < deadline, f"{len(self.written)} written, not {count}"
            self.stop.wait(0.05)


@pytest.mark.slow
def test_disaster_recovery_from_a_backup_taken_while_the_server_writes(
    backend: str, fresh_databases: FreshDatabases, targets: Targets, tmp_path: Path
) -> None:
    source = fresh_databases.url(backend)
    add_records(source, *STOLEN)
    centre = Centre(source, tmp_path / "cache")
    try:
        kit, late = tmp_path / "kit", tmp_path / "late"
        kit_for(centre, kit)
        kit_for(centre, late)  # this one syncs after the backup too
        screener = mint_bearer(centre.app.state.tokens, centre.database, Role.BORDER_OFFICER, "FRA")
        before = answers(centre, screener)
        assert [a["result"] for a in before][:3] == ["hit", "hit", "hit"]

        # Records created over HTTP, one after another, all through the backup.
        officer = mint_bearer(centre.app.state.tokens, centre.database, Role.BUREAU_OFFICER, "DEU")
        writer = Writer(centre.url, officer)
        writer.start()
        try:
            writer.until(5)
            out = tmp_path / "dr.backup"
            run(source, "db", "backup", "--out", str(out))
            writer.until(len(writer.written) + 5)  # the server went on writing after the backup
        finally:
            writer.stop.set()
            writer.join(30)
        assert not writer.failed, f"a write failed: {writer.failed}"
        written = writer.written
        sync.sync(late)
        held_late = ask(late, written[-1])  # a change the backup does not hold
        assert held_late["result"] != "no_hit"
    finally:  # stopped whatever happened: its connections would hold the schema's drop
        centre.stop()
        centre.database.dispose()
    port = centre.port

    target = targets.url(source)
    run(source, "db", "restore", str(out), "--database-url", target)
    assert "audit trail intact" in run(target, "audit", "verify").output
    records, created = records_and_creations(target)
    assert records == created  # every record with its audit entry: one moment, not a blend
    assert 3 + 5 <= records < 3 + len(written)

    # The restored centre, at the old address: its index is built from the restored database.
    restored = Centre(target, tmp_path / "cache2", port=port)
    try:
        screener = mint_bearer(
            restored.app.state.tokens, restored.database, Role.BORDER_OFFICER, "FRA"
        )
        assert answers(restored, screener) == before
        # The kit follows the restored feed, and what is recorded after the restore.
        sync.sync(kit)
        assert ask(kit, "W0000001")["result"] == "possible_hit"
        restored.report("N4W5R3C0D")
        assert sync.sync(kit).changed_rows == 1
        assert ask(kit, "N4W5R3C0D")["result"] == "possible_hit"
        # The kit that had gone past the backup is sent back to a new snapshot: it holds the
        # restored centre's records, not the changes the restore undid.
        assert sync.sync(late).snapshot
        assert verdict(ask(late, written[-1])) == verdict(ask(kit, written[-1]))
        assert verdict(ask(late, written[-1])) != verdict(held_late)
        assert ask(late, "N4W5R3C0D")["result"] == "possible_hit"
    finally:
        restored.stop()
        restored.database.dispose()
