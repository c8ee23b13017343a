"""A document screened again while its case is open: a sighting of that case, not a new
case; the owner told again only at a new place or after a quiet period; domestic hits by
the bureau's own rule."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditFilter, search
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.hits import cases
from bordercheck.hits.models import Answer, Delivery, Hit, HitSighting, Notification, Outcome
from bordercheck.hits.service import Deadlines, NewHit, hits_for_query, open_hits
from bordercheck.registry import service as registry
from bordercheck.settings import Settings
from tests.factories import centre_notes, fields, keyed_database, make_bureau, officer
from tests.signin import Api, open_api

SCREEN = "/api/v1/screen"
RECORDS = "/api/v1/records"
HITS = "/api/v1/hits"
RULES = "/api/v1/hits/rules"
NOTIFICATIONS = "/api/v1/notifications"
NUMBER = "C01X00T47"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DEADLINES = Deadlines(timedelta(hours=12), timedelta(minutes=30), 0.75, timedelta(minutes=60))


# Over HTTP, as the border post and the bureaus see it.


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        yield api


def deu(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")


def report(api: Api) -> None:
    body = {"document_number": NUMBER, "issuing_country": "DEU", "document_type": "passport",
            "status": "stolen"}  # fmt: skip
    response = api.client.post(RECORDS, json=body, headers=deu(api))
    assert response.status_code == 201, response.text
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]


def screen(api: Api, headers: dict[str, str], location: str = "CDG-T2") -> dict[str, Any]:
    body = {"document_number": NUMBER, "issuing_country": "DEU", "location": location}
    response = api.client.post(SCREEN, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def kinds(api: Api, headers: dict[str, str]) -> list[str]:
    told = api.client.get(NOTIFICATIONS, headers=headers).json()["notifications"]
    return [n["kind"] for n in reversed(told)]


def cases_of(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = api.client.get(HITS, headers=headers)
    assert page.status_code == 200, page.text
    return list(page.json()["hits"])


def test_three_screenings_in_a_row_make_one_case_seen_three_times(api: Api) -> None:
    report(api)
    border = api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")
    answers = [screen(api, border) for _ in range(3)]
    assert [a["result"] for a in answers] == ["hit"] * 3

    (case,) = cases_of(api, deu(api))
    assert (case["sightings"], case["domestic"]) == (3, False)
    assert case["recent_sightings"] is None  # the list is on the case's own page
    assert kinds(api, deu(api)) == ["hit.opened"]  # told once
    detail = api.client.get(f"{HITS}/{case['id']}", headers=border).json()
    seen = detail["recent_sightings"]
    assert [s["query_id"] for s in seen] == [a["query_id"] for a in reversed(answers)]
    assert [s["notified"] for s in seen] == [False, False, True]
    assert {(s["location"], s["queried_by"], s["source"]) for s in seen} == {
        ("CDG-T2", "border.fra", "desk")
    }
    assert detail["last_seen_at"] == seen[0]["seen_at"]
    # Each answer's query leads to the one case.
    with api.database.session() as session:
        for answer in answers:
            assert [h.id for h in hits_for_query(session, answer["query_id"])] == [case["id"]]
        entries = search(session, AuditFilter(subject=f"hit:{case['id']}")).entries
        assert [e.action for e in entries] == ["hit.sighted", "hit.sighted", "hit.opened"]


def test_a_new_place_tells_the_owner_again(api: Api) -> None:
    report(api)
    border = api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")
    screen(api, border, "CDG-T2")
    screen(api, border, "ORY-S")
    screen(api, border, "CDG-T2")  # seen there before: not news
    (case,) = cases_of(api, deu(api))
    assert case["sightings"] == 3
    assert kinds(api, deu(api)) == ["hit.opened", "hit.sighted"]
    assert kinds(api, api.bearer(Role.BUREAU_OFFICER, "FRA")) == ["hit.opened"]
    thread = api.client.get(f"{HITS}/{case['id']}/messages", headers=deu(api)).json()
    assert thread["message_count"] == 2  # opened, seen at ORY-S


def test_a_closed_case_takes_no_more_sightings(api: Api) -> None:
    report(api)
    border = api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")
    screen(api, border)
    (first,) = cases_of(api, deu(api))
    answered = api.client.post(f"{HITS}/{first['id']}/answer", json={"answer": "confirmed"},
                               headers=deu(api))  # fmt: skip
    assert answered.status_code == 200, answered.text
    screen(api, border)  # answered, not closed: still this case
    assert [c["sightings"] for c in cases_of(api, deu(api))] == [2]
    closed = api.client.post(f"{HITS}/{first['id']}/outcome", json={"outcome": "released"},
                             headers=border)  # fmt: skip
    assert closed.status_code == 200, closed.text
    screen(api, border)
    second, again = cases_of(api, deu(api))
    assert (again["id"], again["state"], again["sightings"]) == (first["id"], "closed", 2)
    assert (second["state"], second["sightings"]) == ("open", 1)


def test_another_querying_bureau_gets_its_own_case(api: Api) -> None:
    report(api)
    screen(api, api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra"))
    screen(api, api.bearer(Role.BORDER_OFFICER, "ITA", name="border.ita"))
    assert [(c["querying_bureau"], c["sightings"]) for c in cases_of(api, deu(api))] == [
        ("ITA", 1), ("FRA", 1)
    ]  # fmt: skip


def test_the_same_document_twice_in_one_batch_opens_one_case(api: Api) -> None:
    report(api)
    one = {"document_number": NUMBER, "issuing_country": "DEU", "location": "CDG-T2"}
    answer = api.client.post(f"{SCREEN}/batch", json={"documents": [one, one]},
                             headers=api.bearer(Role.BORDER_OFFICER, "FRA"))  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert [r["result"] for r in answer.json()["results"]] == ["hit", "hit"]
    (case,) = cases_of(api, deu(api))
    assert (case["sightings"], case["source"]) == (2, "batch")
    assert kinds(api, deu(api)) == ["hit.opened"]


def test_domestic_hits_follow_the_bureaus_rule(api: Api) -> None:
    report(api)
    own = api.bearer(Role.BORDER_OFFICER, "DEU", name="border.deu")
    assert api.client.get(RULES, headers=deu(api)).json()["domestic"] == "case"

    screen(api, own)
    (case,) = cases_of(api, deu(api))
    assert (case["domestic"], case["owner_bureau"], case["querying_bureau"]) == (
        True, "DEU", "DEU"
    )  # fmt: skip
    api.client.post(f"{HITS}/{case['id']}/answer", json={"answer": "confirmed"}, headers=deu(api))
    api.client.post(f"{HITS}/{case['id']}/outcome", json={"outcome": "other"}, headers=own)

    refused = api.client.put(RULES, json={"domestic": "ignore"}, headers=own)
    assert refused.status_code == 403
    bad = api.client.put(RULES, json={"domestic": "sometimes"}, headers=deu(api))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "domestic"

    set_rule = api.client.put(RULES, json={"domestic": "notify_only"}, headers=deu(api))
    assert set_rule.status_code == 200, set_rule.text
    assert (set_rule.json()["domestic"], set_rule.json()["updated_by"]) == (
        "notify_only", "officer.deu"
    )  # fmt: skip
    before = kinds(api, deu(api))
    screen(api, own)
    assert len(cases_of(api, deu(api))) == 1  # no new case
    assert kinds(api, deu(api)) == [*before, "hit.domestic"]

    admin = api.bearer(Role.ADMIN, "XPO", name="root")
    set_rule = api.client.put(RULES, params={"bureau": "DEU"}, json={"domestic": "ignore"},
                              headers=admin)  # fmt: skip
    assert set_rule.status_code == 200, set_rule.text
    screen(api, own)
    assert len(cases_of(api, deu(api))) == 1
    assert kinds(api, deu(api)) == [*before, "hit.domestic"]
    # Another country's hits on DEU records are cases whatever DEU's domestic rule.
    screen(api, api.bearer(Role.BORDER_OFFICER, "FRA"))
    assert len(cases_of(api, deu(api))) == 2
    with api.database.session() as session:
        entries = search(session, AuditFilter(subject="hit_rules:DEU")).entries
        assert [(e.action, e.actor) for e in entries] == [
            ("hit.rules_set", "root"), ("hit.rules_set", "officer.deu")
        ]  # fmt: skip


# On a session, with the time given.


def seen(session: Session, n: int, at: datetime, location: str = "CDG-T2",
         querying: str = "FRA") -> NewHit:  # fmt: skip
    record = registry.find_active(session, (NUMBER, "DEU", "passport"))
    if record is None:
        for country in ("DEU", "FRA", "ITA"):
            make_bureau(session, country)
        record = registry.create_record(session, officer("DEU"), fields())
    return NewHit(
        query_id=f"{n:032x}", record_id=record.id, owner_bureau="DEU", querying_bureau=querying,
        queried_by=f"border.{querying.lower()}", match="exact", score=1.0, location=location,
        operation_id=None, at=at, source="desk", document_number=NUMBER,
    )  # fmt: skip


def told_deu(session: Session) -> list[str]:
    query = select(Notification.kind).where(Notification.bureau_code == "DEU")
    return list(session.scalars(query.order_by(Notification.id)))


def test_after_a_quiet_period_the_owner_is_told_again(session: Session) -> None:
    minutes = (0, 30, 89, 150)  # quiet for 59 minutes, then 61
    for n, after in enumerate(minutes):
        open_hits(
            session,
            [seen(session, n, T0 + timedelta(minutes=after))],
            deadlines=DEADLINES,
            notes=centre_notes(),
        )
    (hit,) = session.scalars(select(Hit))
    assert (hit.sightings, hit.last_seen_at.replace(tzinfo=UTC)) == (4, T0 + timedelta(hours=2.5))
    assert told_deu(session) == ["hit.opened", "hit.sighted"]
    notified = session.scalars(select(HitSighting.notified).order_by(HitSighting.id))
    assert list(notified) == [True, False, False, True]


def test_a_sighted_event_reaches_the_owners_webhook(session: Session) -> None:
    from bordercheck.hits.webhooks import set_webhook

    open_hits(session, [seen(session, 0, T0)], deadlines=DEADLINES, notes=centre_notes())
    set_webhook(session, Actor("officer.deu", Role.BUREAU_OFFICER, "DEU"), "DEU",
                "https://ncb-deu.example/hooks", secret_key=Settings(env="test").secret_key,
                production=False, now=T0)  # fmt: skip
    open_hits(session, [seen(session, 1, T0, "ORY-S")], deadlines=DEADLINES, notes=centre_notes())
    events = session.scalars(select(Delivery.event).where(Delivery.bureau_code == "DEU"))
    assert list(events) == ["hit.sighted"]


def test_a_withheld_sighting_withholds_the_case(session: Session) -> None:
    open_hits(session, [seen(session, 0, T0)], deadlines=DEADLINES, notes=centre_notes())
    hidden = seen(session, 1, T0)
    open_hits(
        session,
        [NewHit(**{**hidden.__dict__, "withheld": True})],
        deadlines=DEADLINES,
        notes=centre_notes(),
    )
    (hit,) = session.scalars(select(Hit))
    assert (hit.sightings, hit.withheld) == (2, True)


def test_a_case_closed_by_its_answer_and_outcome_frees_the_document(session: Session) -> None:
    open_hits(session, [seen(session, 0, T0)], deadlines=DEADLINES, notes=centre_notes())
    (hit,) = session.scalars(select(Hit))
    centre = "XPO"
    owner = cases.Viewer(Actor("officer.deu", Role.BUREAU_OFFICER, "DEU"), centre)
    querying = cases.Viewer(Actor("border.fra", Role.BORDER_OFFICER, "FRA"), centre)
    cases.answer_case(session, owner, hit.id, Answer.CONFIRMED, now=T0, notes=centre_notes())
    cases.record_outcome(session, querying, hit.id, Outcome.SEIZED, now=T0, notes=centre_notes())
    assert (
        open_hits(session, [seen(session, 1, T0)], deadlines=DEADLINES, notes=centre_notes()) == 1
    )
    assert (
        open_hits(
            session,
            [seen(session, 2, T0, querying="ITA")],
            deadlines=DEADLINES,
            notes=centre_notes(),
        )
        == 1
    )


def test_two_processes_screening_the_same_document_at_once_open_one_case(
    fresh_url: str, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two transactions cannot overlap")
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        seen(session, 0, T0)  # the bureaus and the record
    first = database.session(write=True)
    session = first.__enter__()
    assert (
        open_hits(session, [seen(session, 1, T0)], deadlines=DEADLINES, notes=centre_notes()) == 1
    )
    opened: list[int] = []

    def second() -> None:
        with database.session(write=True) as other:
            # Waits on the first transaction's case (the unique open key), then joins it.
            opened.append(
                open_hits(other, [seen(other, 2, T0)], deadlines=DEADLINES, notes=centre_notes())
            )

    thread = threading.Thread(target=second)
    thread.start()
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    deadline = time.monotonic() + 30
    with database.engine.connect() as watch:
        while not watch.execute(text(waiting)).scalar() and time.monotonic() < deadline:
            watch.rollback()
            time.sleep(0.01)  # polling the server, bounded by the deadline
        assert watch.execute(text(waiting)).scalar(), "the second transaction did not wait"
    first.__exit__(None, None, None)  # commit
    thread.join(30)
    assert not thread.is_alive()
    assert opened == [0]
    with database.session() as session:
        (hit,) = session.scalars(select(Hit))
        assert hit.sightings == 2
    database.dispose()
