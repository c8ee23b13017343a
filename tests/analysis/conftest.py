"""A small synthetic world, loaded through the system once per backend for the module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from bordercheck.db import Database
from bordercheck.settings import Settings
from bordercheck.training.load import load_world
from bordercheck.training.world import WorldSpec, write_world
from tests.conftest import FreshDatabases

# Small enough to load in seconds, large enough that each network has a shift to find.
SPEC = WorldSpec(
    seed=11,
    start=date(2026, 1, 5),
    weeks=20,
    networks=3,
    lone_impostors=6,
    background_records=300,
    flights_per_leg_week=1,
    passengers=6,
    scheduled_legs=8,
)
KEY = "t" * 48


@dataclass
class LoadedWorld:
    url: str
    directory: Path
    truth: dict[str, Any]
    counts: dict[str, int]


@pytest.fixture(scope="session")
def world_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("world")
    write_world(SPEC, directory)
    return directory


def load_into(url: str, world_files: Path) -> LoadedWorld:
    settings = Settings(database_url=url, env="test", secret_key=KEY)
    database = Database(url, secret_key=KEY)
    try:
        counts = load_world(database, settings, world_files)
    finally:
        database.dispose()
    truth = orjson.loads((world_files / "truth.json").read_bytes())
    return LoadedWorld(url, world_files, truth, counts)


@pytest.fixture(scope="session")
def loaded_world(backend: str, fresh_databases: FreshDatabases, world_files: Path) -> LoadedWorld:
    """Shared by the tests that only read: none may add to it."""
    return load_into(fresh_databases.url(backend), world_files)


@pytest.fixture
def own_world(fresh_url: str, world_files: Path) -> LoadedWorld:
    """The world in a database of the test's own, for tests that add to it."""
    return load_into(fresh_url, world_files)
