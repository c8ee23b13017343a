"""Migration 0022 on a database with data: kits' uploads become the kit's own in the query log,
and two clients of one bureau with one name are named apart; down again, as they were."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from bordercheck.migrations import alembic_config, upgrade
from tests.conftest import FreshDatabases
from tests.factories import keyed_database, secret_key

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BUREAU = (
    "INSERT INTO bureaus (id, country_code, name, is_secretariat, created_at) "
    "VALUES (1, 'ESP', 'NCB', false, CURRENT_TIMESTAMP)"
)
CLIENT = (
    "INSERT INTO api_clients (id, client_id, secret_hash, name, role, bureau_id, active) "
    "VALUES (:id, :client_id, 'x', :name, 'border_officer', 1, true)"
)
KIT = (
    "INSERT INTO edge_kits (kit_id, client_id, bureau_code, secret_wrapped, registered_at) "
    "VALUES (:kit_id, 'c-one', 'ESP', 'x', :at)"
)
QUERY = (
    "INSERT INTO screening_queries (id, at, principal_kind, principal_name, bureau_code, "
    "source, document_number, result, match_count) VALUES (:id, :at, 'client', 'kit fco', "
    "'ESP', :source, 'C01X00T47', 'no_hit', 0)"
)
UPLOAD = "INSERT INTO edge_uploads (entry_id, kit_id, received_at) VALUES (:id, :kit_id, :at)"


def test_kits_uploads_become_the_kits_and_clients_are_named_apart(
    backend: str, fresh_databases: FreshDatabases
) -> None:
    url = fresh_databases.url(backend, migrate=False)
    upgrade(url, "0021", secret_key=secret_key())
    database = keyed_database(url)
    with database.session(write=True) as session:
        session.execute(text(BUREAU))
        for n, client_id in enumerate(("c-one", "c-two"), start=1):
            session.execute(text(CLIENT), {"id": n, "client_id": client_id, "name": "kit fco"})
        for kit_id in ("k-a", "k-b"):
            session.execute(text(KIT), {"kit_id": kit_id, "at": T0})
        for n, (source, kit_id) in enumerate((("kit", "k-a"), ("kit", "k-b"), ("number", None))):
            session.execute(text(QUERY), {"id": f"{n:032x}", "at": T0, "source": source})
            if kit_id:
                session.execute(text(UPLOAD), {"id": f"{n:032x}", "kit_id": kit_id, "at": T0})
    database.dispose()

    upgrade(url, secret_key=secret_key())
    logged = read(url, "SELECT principal_kind, principal_name FROM screening_queries ORDER BY id")
    assert logged == [("kit", "k-a"), ("kit", "k-b"), ("client", "kit fco")]
    names = read(url, "SELECT name FROM api_clients ORDER BY id")
    assert names == [("kit fco",), ("kit fco (c-two)",)]

    command.downgrade(alembic_config(url, secret_key=secret_key()), "0021")
    kinds = read(url, "SELECT principal_kind FROM screening_queries ORDER BY id")
    assert kinds == [("client",), ("client",), ("client",)]


def read(url: str, query: str) -> list[tuple[object, ...]]:
    database = keyed_database(url)
    try:
        with database.session() as session:
            return [tuple(row) for row in session.execute(text(query)).all()]
    finally:
        database.dispose()
