"""Deadlines per case, reminders, escalation to the secretariat, and the figures per bureau,
with explicit clocks on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.errors import Forbidden, NotFound
from bordercheck.hits import cases
from bordercheck.hits.deadlines import sweep
from bordercheck.hits.figures import figures
from bordercheck.hits.models import Answer, Hit, Notification
from bordercheck.hits.service import Deadlines, NewHit, open_hits
from bordercheck.registry import service as registry
from tests.factories import centre_notes, fields, make_bureau, officer

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DEADLINES = Deadlines(
    answer=timedelta(hours=12), desk_answer=timedelta(minutes=30), reminder_share=0.75
)
SECRETARIAT = "XPO"


def viewer(country: str, role: Role = Role.BUREAU_OFFICER) -> cases.Viewer:
    return cases.Viewer(Actor(f"{role.value}.{country.lower()}", role, country), SECRETARIAT)


def open_cases(session: Session, *sources: str, at: datetime = T0) -> list[Hit]:
    for country in ("DEU", "FRA", "ITA"):
        make_bureau(session, country)
    record = registry.find_active(session, ("C01X00T47", "DEU", "passport"))
    if record is None:
        record = registry.create_record(session, officer("DEU"), fields())
    new = [
        NewHit(query_id=f"{n:032x}", record_id=record.id, owner_bureau="DEU",
               querying_bureau="FRA", queried_by="border.fra", match="exact", score=1.0,
               location="CDG-T2", operation_id=None, at=at, source=source,
               document_number=f"C01X00T{n:02d}")  # one case each: not sightings of one
        for n, source in enumerate(sources)
    ]  # fmt: skip
    assert open_hits(session, new, deadlines=DEADLINES, notes=centre_notes()) == len(sources)
    return list(session.scalars(select(Hit).order_by(Hit.id)))[-len(sources) :]


def notices(session: Session, bureau: str, kind: str) -> list[int | None]:
    query = select(Notification.hit_id).where(
        Notification.bureau_code == bureau, Notification.kind == kind
    )
    return list(session.scalars(query.order_by(Notification.id)))


def test_a_desk_hit_is_due_sooner_than_a_batch_hit(session: Session) -> None:
    desk, batch = open_cases(session, "desk", "batch")
    assert desk.due_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=30)
    assert batch.due_at.replace(tzinfo=UTC) == T0 + timedelta(hours=12)
    assert batch.remind_at.replace(tzinfo=UTC) == T0 + timedelta(hours=9)


def test_the_owner_is_reminded_once_then_the_case_is_escalated_once(session: Session) -> None:
    desk, batch = open_cases(session, "desk", "batch")
    assert sweep(session, T0 + timedelta(minutes=20), secretariat=SECRETARIAT).reminded == 0
    report = sweep(session, T0 + timedelta(minutes=23), secretariat=SECRETARIAT)
    assert (report.reminded, report.escalated) == (1, 0)
    assert notices(session, "DEU", "hit.reminder") == [desk.id]
    assert sweep(session, T0 + timedelta(minutes=24), secretariat=SECRETARIAT).reminded == 0

    report = sweep(session, T0 + timedelta(minutes=30), secretariat=SECRETARIAT)
    assert (report.reminded, report.escalated) == (0, 1)
    for bureau in ("DEU", "FRA", "XPO"):
        assert notices(session, bureau, "hit.escalated") == [desk.id]
    assert sweep(session, T0 + timedelta(hours=1), secretariat=SECRETARIAT).escalated == 0

    # The batch case: reminded at 9 h, escalated at 12 h, unless answered before.
    cases.answer_case(
        session,
        viewer("DEU"),
        batch.id,
        Answer.CONFIRMED,
        now=T0 + timedelta(hours=10),
        notes=centre_notes(),
    )
    report = sweep(session, T0 + timedelta(hours=13), secretariat=SECRETARIAT)
    assert (report.reminded, report.escalated) == (0, 0)


def test_the_secretariat_sees_escalated_cases_only(session: Session) -> None:
    make_bureau(session, SECRETARIAT)
    desk, batch = open_cases(session, "desk", "batch")
    centre = viewer(SECRETARIAT)
    assert cases.list_cases(session, centre) == []
    sweep(session, T0 + timedelta(hours=1), secretariat=SECRETARIAT)
    assert [h.id for h in cases.list_cases(session, centre)] == [desk.id]
    assert [h.id for h in cases.list_cases(session, centre, state="escalated")] == [desk.id]
    assert cases.get_case(session, centre, desk.id).id == desk.id
    for outsider in (viewer("ITA"), viewer(SECRETARIAT, Role.BORDER_OFFICER)):
        assert cases.list_cases(session, outsider) == []
        with pytest.raises(NotFound):
            cases.get_case(session, outsider, batch.id)
    # The bureaus' own people who do not work on cases: refused, and nothing in their lists.
    for wrong_role in (viewer("FRA", Role.ANALYST), viewer("DEU", Role.BORDER_OFFICER)):
        assert cases.list_cases(session, wrong_role) == []
        with pytest.raises(Forbidden):
            cases.get_case(session, wrong_role, batch.id)


def test_figures_per_bureau(session: Session) -> None:
    hits = open_cases(session, "batch", "batch", "batch", "batch", "desk")
    answers = [(Answer.CONFIRMED, 10), (Answer.CONFIRMED, 30), (Answer.NO_MATCH, 120)]
    for hit, (answer, minutes) in zip(hits, answers, strict=False):
        cases.answer_case(
            session,
            viewer("DEU"),
            hit.id,
            answer,
            now=T0 + timedelta(minutes=minutes),
            notes=centre_notes(),
        )
    now = T0 + timedelta(hours=1)
    (deu,) = figures(session, now, since=T0 - timedelta(days=1))
    assert (deu.bureau, deu.cases, deu.answered, deu.confirmed) == ("DEU", 5, 3, 2)
    assert deu.confirmed_share == 2 / 3
    assert (deu.median_answer_minutes, deu.p90_answer_minutes) == (30, 120)
    assert (deu.open, deu.overdue) == (2, 1)  # the desk case is past its 30 minutes
    assert figures(session, now, since=T0 - timedelta(days=1), bureau="ITA")[0].cases == 0
    assert figures(session, now, since=T0 + timedelta(minutes=1)) == []
