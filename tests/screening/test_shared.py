"""The snapshot ``serve`` shares between its workers: built once, then refreshed, never stale."""

from __future__ import annotations

from pathlib import Path

from bordercheck.auth import service as auth_service
from bordercheck.db import Database
from bordercheck.registry import service as registry_service
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.live import screening_key
from bordercheck.screening.shared import cached_snapshot_path, prepare_snapshot
from tests.conftest import FreshDatabases
from tests.factories import fields, keyed_database, officer


def _database_with(url: str, *numbers: str) -> Database:
    database = keyed_database(url)
    with database.session(write=True) as session:
        auth_service.add_bureau(session, "DEU", "NCB DEU")
    _record(database, *numbers)
    return database


def _record(database: Database, *numbers: str) -> None:
    with database.session(write=True) as session:
        for number in numbers:
            registry_service.create_record(session, officer("DEU"), fields(document_number=number))


def test_built_then_current_then_refreshed_and_rebuilt_when_it_cannot_be_trusted(
    backend: str, fresh_databases: FreshDatabases, tmp_path: Path
) -> None:
    key = screening_key("a-deployment-secret-" * 3)
    first = _database_with(fresh_databases.url(backend), "C01X00T47")
    second = _database_with(fresh_databases.url(backend))
    try:
        path = cached_snapshot_path(tmp_path / "cache", first.url, key)
        assert path != cached_snapshot_path(tmp_path / "cache", second.url, key)
        built = prepare_snapshot(first, key, path)
        assert (built.how, built.records) == ("built", 1)
        assert path.stat().st_mode & 0o777 == 0o600
        assert prepare_snapshot(first, key, path).how == "current"
        _record(first, "C01X00T48")
        refreshed = prepare_snapshot(first, key, path)
        assert (refreshed.how, refreshed.records) == ("refreshed", 2)
        assert ScreeningIndex.load(path, key=key).size == 2
        # The same file before a database that has not had those changes (a restored backup):
        # catching up cannot take them back, so it is built again.
        restored = prepare_snapshot(second, key, path)
        assert (restored.how, restored.records) == ("built", 0)
        # Made with another key: built again rather than refused.
        other = screening_key("another-deployment-secret-" * 3)
        assert prepare_snapshot(second, other, path).how == "built"
    finally:
        first.dispose()
        second.dispose()
