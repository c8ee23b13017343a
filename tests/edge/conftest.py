"""A centre running for real (uvicorn on a free port, in a thread) and kits against it."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bordercheck.api.app import create_app
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.registry import service as registry_service
from bordercheck.registry.models import Record
from bordercheck.settings import Settings
from tests.factories import fields, keyed_database, officer

STOLEN = ("C01X00T47", "X7K2P9Q4R", "PA0012345")


class _Server(uvicorn.Server):
    """Tells the test when it is listening (no polling)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class Centre:
    """The API on a database of the test's own, served on 127.0.0.1:PORT until ``stop``."""

    def __init__(self, url: str, cache: Path, port: int = 0, **settings: Any) -> None:
        self.settings = Settings(
            database_url=url, env="test", edge_cache_dir=cache, revocation_refresh_seconds=0,
            **settings,
        )  # fmt: skip
        self.database = Database.from_settings(self.settings)
        self.app = create_app(self.settings, self.database)
        self._socket = socket.socket()
        # A centre restarted on its old port: the kits know it by its address.
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        assert self._server.ready.wait(30), "the centre did not start"
        assert self.app.state.live_index.wait_ready(30), "the screening index did not load"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(30)
            self._socket.close()

    def add_client(self, bureau: str = "FRA", role: Role = Role.BORDER_OFFICER) -> tuple[str, str]:
        with self.database.session(write=True) as session:
            # Names are unique in a bureau: a client per kit, as a deployment has.
            client, secret = auth_service.add_client(
                session, f"kit {bureau} {secrets.token_hex(4)}", bureau=bureau, role=role
            )
            return client.client_id, secret

    def report(self, number: str, country: str = "DEU", **extra: Any) -> Record:
        with self.database.session(write=True) as session:
            return registry_service.create_record(
                session, officer(country), fields(document_number=number,
                                                  issuing_country=country, **extra)
            )  # fmt: skip

    def withdraw(self, record: Record) -> None:
        with self.database.session(write=True) as session:
            registry_service.withdraw_record(
                session, officer(record.issuing_country), record.id, record.version, "recovered"
            )

    def catch_up(self) -> None:
        self.app.state.live_index.catch_up()


@pytest.fixture
def centre(fresh_url: str, tmp_path: Path) -> Iterator[Centre]:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        for country in ("DEU", "FRA", "ITA"):
            auth_service.add_bureau(session, country, f"NCB {country}")
    database.dispose()
    running = Centre(fresh_url, tmp_path / "cache")
    for number in STOLEN:
        running.report(number)
    yield running
    running.stop()
    running.database.dispose()
