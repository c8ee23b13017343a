"""Migration 0012 on a database with cases: each case seen once, and the newest case still
open for a document takes its next sightings."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from bordercheck.hits.models import Hit, HitSighting
from bordercheck.migrations import upgrade
from tests.conftest import FreshDatabases
from tests.factories import keyed_database, secret_key

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
QUERY = (
    "INSERT INTO screening_queries (id, at, principal_kind, principal_name, bureau_code, "
    "source, document_number, result, match_count) VALUES (:id, :at, 'user', 'border.fra', "
    "'FRA', 'number', 'C01X00T47', 'hit', 1)"
)
BUREAU = (
    "INSERT INTO bureaus (id, country_code, name, is_secretariat, created_at) "
    "VALUES (:id, :country, 'NCB', false, CURRENT_TIMESTAMP)"
)
RECORD = (
    "INSERT INTO records (bureau_id, document_number, issuing_country, document_type, "
    "type_family, status, blank, withdrawn_key, version, last_change, review_due, created_at, "
    "created_by, updated_at, updated_by) VALUES (1, 'C01X00T47', 'DEU', 'passport', "
    "'passport', 'stolen', false, 0, 1, 'created', '2036-01-01', :at, 'test', :at, 'test') "
    "RETURNING id"
)
CASE = (
    "INSERT INTO hits (query_id, record_id, owner_bureau, querying_bureau, queried_by, match, "
    "score, location, state, created_at, source, due_at, remind_at, withheld) VALUES (:id, "
    ":record, 'DEU', :querying, 'border.fra', 'exact', 1.0, 'CDG-T2', :state, :at, 'desk', "
    ":at, :at, false)"
)


def test_existing_cases_are_each_seen_once(backend: str, fresh_databases: FreshDatabases) -> None:
    url = fresh_databases.url(backend, migrate=False)
    upgrade(url, "0011", secret_key=secret_key())
    database = keyed_database(url)
    with database.session(write=True) as session:
        # Written as the schema of 0011 has them: the models are today's, and later
        # revisions add columns to these tables.
        for n, country in enumerate(("DEU", "FRA"), start=1):
            session.execute(text(BUREAU), {"id": n, "country": country})
        record = session.execute(text(RECORD), {"at": T0}).scalar_one()
        cases = [("closed", "FRA"), ("open", "FRA"), ("answered", "FRA"), ("open", "DEU")]
        for n, (state, querying) in enumerate(cases):
            values = {"id": f"{n:032x}", "at": T0, "record": record}
            session.execute(text(QUERY), values)
            session.execute(text(CASE), values | {"state": state, "querying": querying})
    database.dispose()
    upgrade(url, secret_key=secret_key())
    database = keyed_database(url)
    with database.session() as session:
        hits = list(session.scalars(select(Hit).order_by(Hit.id)))
        assert [h.open_key for h in hits] == [
            None, None, f"{record}:FRA:C01X00T47", f"{record}:DEU:C01X00T47"
        ]  # fmt: skip
        assert [(h.sightings, h.domestic) for h in hits] == [(1, False)] * 3 + [(1, True)]
        assert all(h.last_seen_at is not None for h in hits)
        seen = session.scalars(select(HitSighting.hit_id).order_by(HitSighting.hit_id))
        assert list(seen) == [h.id for h in hits]
    database.dispose()
