"""Handing a sandbox over: ``export`` packs it (a backup of its database, its world, its
scenarios), ``import`` makes a new sandbox of it, with new keys, logins and installation.

What the old sandbox's keys protected is made anew or put beyond use on import: tokens and
console sessions (new secret key; sessions deleted), API clients (deactivated), kits
(revoked) and webhooks (removed); passwords are replaced. Its messages stay readable: the
archive carries its message keys, which the new sandbox keeps behind keys of its own (as a
rotation does). Its audit trail was chained under the old secret key, which is not handed
over, so the new sandbox's trail starts at the import, its first entry saying what came before.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, select, text, update

from bordercheck.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from bordercheck.audit.service import record_event
from bordercheck.auth.models import ApiClient
from bordercheck.backup import PRIVATE, add_bytes, backup, read_manifest, restore
from bordercheck.db import Database
from bordercheck.db_checks import open_database
from bordercheck.demo import Login, fresh_sqlite, write_logins
from bordercheck.edge.models import EdgeKit
from bordercheck.errors import BordercheckError
from bordercheck.hits.models import Delivery, Webhook
from bordercheck.installation import InstallationRow, check_sandbox_name
from bordercheck.keys.files import as_settings, write_settings
from bordercheck.settings import Settings, load_settings
from bordercheck.timestamps import utcnow
from bordercheck.training.sandbox import (
    DATABASE,
    SCENARIOS,
    SETTINGS,
    SETTINGS_MARK,
    WORLD,
    Sandbox,
    Say,
    describe,
    ensure_empty,
    logins_header,
    logins_of,
    new_logins,
    prepare_directory,
    sandbox_settings,
    settings_of,
)

FORMAT = "bordercheck-sandbox-export"
MANIFEST = "sandbox-export.json"
BACKUP = "database.backup"


def export_sandbox(sandbox: Sandbox, out: Path, *, say: Say = lambda _: None) -> dict[str, Any]:
    """Pack ``sandbox`` into ``out`` (mode 0600): what ``import_sandbox`` needs, no secret key."""
    settings = settings_of(sandbox)
    database = open_database(
        settings.database_url, secret_key=settings.secret_key, sandbox=sandbox.name
    )
    try:
        with database.session(write=True) as session:
            record_event(
                session, actor="system:cli", bureau_code=settings.secretariat_code,
                action="training.sandbox_exported", subject=f"sandbox:{sandbox.name}",
                details={"file": out.name},
            )  # fmt: skip
    finally:
        database.dispose()
    manifest = {
        "format": FORMAT,
        "format_version": 1,
        "name": sandbox.name,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "installation_id": sandbox.installation_id,
        "seed": sandbox.seed,
        "weeks": sandbox.weeks,
        "records": sandbox.records,
        # Only what keeps its messages readable: no secret key, no audit or kit key.
        "message_keys": settings.message_keys,
        "message_signing_keys": settings.message_signing_keys,
        "logins": [login.username for login in logins_of(sandbox)],
    }
    with tempfile.TemporaryDirectory(prefix=".bordercheck-export-", dir=out.parent) as folder:
        dump = Path(folder) / BACKUP
        say("backing up its database")
        backup(settings.database_url, dump, say=say)
        say("packing")
        part = Path(folder) / "export.part"
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
        with os.fdopen(descriptor, "wb") as file, tarfile.open(fileobj=file, mode="w") as archive:
            add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(dump, arcname=BACKUP)
            for name in (WORLD, SCENARIOS):
                if (sandbox.directory / name).exists():
                    archive.add(sandbox.directory / name, arcname=name)
        part.replace(out)
    return manifest


def read_export(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BordercheckError(f"there is no file at {path}")
    try:
        with tarfile.open(path, mode="r:") as archive:
            first = archive.next()
            data = archive.extractfile(first) if first is not None else None
            if first is None or first.name != MANIFEST or data is None:
                raise BordercheckError(f"{path} is not a sandbox export (no {MANIFEST} first)")
            manifest: dict[str, Any] = json.loads(data.read())
    except (tarfile.TarError, ValueError, OSError) as exc:
        raise BordercheckError(f"{path} is not a sandbox export ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != 1:
        raise BordercheckError(f"{path} is not a sandbox export this version can read")
    return manifest


def import_sandbox(
    path: Path,
    root: Path,
    name: str | None = None,
    *,
    database_url: str | None = None,
    replace: bool = False,
    say: Say = lambda _: None,
) -> tuple[Sandbox, list[Login]]:
    """A new sandbox (``name``, else the exported one's) from the export at ``path``."""
    manifest = read_export(path)
    name = check_sandbox_name(name or str(manifest["name"]))
    if database_url is not None:
        ensure_empty(database_url)
    directory = prepare_directory(root, name, replace=replace)
    try:
        with tempfile.TemporaryDirectory(prefix="bordercheck-import-") as folder:
            try:
                with tarfile.open(path, mode="r:") as archive:
                    archive.extractall(folder, filter="data")
            except tarfile.TarError as exc:  # a path out of the folder, a link, a cut file
                raise BordercheckError(f"{path} is not a sandbox export: {exc}") from None
            for part in (WORLD, SCENARIOS):
                if (Path(folder) / part).exists():
                    shutil.copytree(Path(folder) / part, directory / part)
            if read_manifest(Path(folder) / BACKUP).sandbox_name is None:
                raise BordercheckError(
                    f"{path} does not hold a training sandbox's database: refusing to make a "
                    "sandbox of live data"
                )
            url = database_url or fresh_sqlite((directory / DATABASE).resolve())
            settings = _new_settings(directory.resolve(), name, url, manifest)
            say("restoring its database")
            restore(Path(folder) / BACKUP, url, secret_key=settings.secret_key, say=say)
        say("new installation, keys and logins")
        installation = _make_anew(settings, manifest)
        # Everyone gets a new password, shown here and kept in the logins file: the trainees
        # added after the sandbox was made as well as those it was made with.
        logins = new_logins(settings)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    sandbox = Sandbox(
        name=name, directory=directory, database_url=url, installation_id=installation,
        created_at=utcnow().isoformat(timespec="seconds"), seed=int(manifest["seed"]),
        weeks=int(manifest["weeks"]), records=int(manifest["records"]),
    )  # fmt: skip
    describe(sandbox)
    write_logins(sandbox.logins_file, directory / DATABASE, logins, header=logins_header(name))
    return sandbox, logins


def _new_settings(directory: Path, name: str, url: str, manifest: dict[str, Any]) -> Settings:
    values = sandbox_settings(directory, name, url)
    # New keys under names of their own, first; the old ones after, to open older messages.
    suffix = secrets.token_hex(3)
    for setting, old in (
        ("BORDERCHECK_MESSAGE_KEYS", manifest.get("message_keys") or ""),
        ("BORDERCHECK_MESSAGE_SIGNING_KEYS", manifest.get("message_signing_keys") or ""),
    ):
        key_id, _, key = values[setting].partition(":")
        values[setting] = ",".join(filter(None, [f"{key_id}-{suffix}:{key}", old]))
    header = f"{SETTINGS_MARK} for {name!r}; keys of its own, made on import, {utcnow():%Y-%m-%d}"
    write_settings(directory / SETTINGS, values, header=header, replace=True)
    return load_settings(env="dev", **as_settings(values))


def _make_anew(settings: Settings, manifest: dict[str, Any]) -> str:
    """New installation id and name; the old keys' secrets put beyond use; a new trail."""
    assert settings.training_sandbox is not None
    installation_id = secrets.token_hex(16)
    database = Database.from_settings(settings)
    try:
        with database.engine.begin() as connection:
            entries = connection.scalar(select(func.count()).select_from(AuditEntry)) or 0
            _clear_trail(connection)
        with database.session(write=True) as session:
            session.execute(
                update(InstallationRow).values(
                    sandbox_name=settings.training_sandbox,
                    installation_id=installation_id,
                    created_at=utcnow(),
                )
            )
            session.execute(delete(Delivery))
            session.execute(delete(Webhook))
            session.execute(text("DELETE FROM console_sessions"))
            session.execute(update(EdgeKit).values(revoked_at=utcnow()))
            session.execute(update(ApiClient).values(active=False))
            record_event(
                session, actor="system:cli", bureau_code=settings.secretariat_code,
                action="training.sandbox_imported", subject=f"sandbox:{settings.training_sandbox}",
                details={"from_sandbox": manifest["name"],
                         "from_installation": manifest["installation_id"],
                         "entries_before_import": entries},
            )  # fmt: skip
    finally:
        database.dispose()
    return installation_id


def _clear_trail(connection: Connection) -> None:
    """Empty the append-only trail (its triggers lifted for this one transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        connection.execute(delete(AuditEntry))
        connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
    else:
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                 "AND tbl_name = 'audit_entries'")
        ).all()  # fmt: skip
        for trigger_name, _ in triggers:
            connection.execute(text(f'DROP TRIGGER "{trigger_name}"'))
        connection.execute(delete(AuditEntry))
        for _, sql in triggers:
            connection.execute(text(sql))
    connection.execute(update(AuditHead).values(last_seq=0, last_hash=GENESIS_HASH, seal=""))
