"""The hit workflow's lines (notifications, the centre's notes in a case's thread) shown in
the viewer's language: each is made here by the workflow itself, so that rewording one
there without its translation fails."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.hits import cases
from bordercheck.hits.deadlines import sweep
from bordercheck.hits.models import Action, Answer, Notification, Outcome
from bordercheck.hits.service import NewHit, open_hits
from bordercheck.messaging import reading
from bordercheck.messaging.models import Thread
from bordercheck.web.hits.notices import NOTICES, localise
from bordercheck.web.i18n import LANGUAGES
from tests.factories import centre_notes
from tests.hits.test_deadlines_and_figures import (
    DEADLINES,
    SECRETARIAT,
    T0,
    open_cases,
    viewer,
)
from tests.signin import Api
from tests.web.conftest import Console


def workflow_lines(session: Session) -> list[str]:
    """Every line a case's life writes: opened (plainly and withheld), seen again, reminded,
    escalated, answered (with and without an action), its outcome recorded."""
    desk, batch, third = open_cases(session, "desk", "batch", "batch")
    record_id = desk.record_id
    withheld = NewHit(
        query_id="f" * 32, record_id=record_id, owner_bureau="DEU", querying_bureau="ITA",
        queried_by="border.ita", match="exact", score=1.0, location=None, operation_id=None,
        at=T0, source="desk", withheld=True, document_number="C01X00TW1",
    )  # fmt: skip
    again = NewHit(
        query_id="e" * 32, record_id=record_id, owner_bureau="DEU", querying_bureau="FRA",
        queried_by="border.fra", match="exact", score=1.0, location="ORY", operation_id=None,
        at=T0 + timedelta(minutes=5), source="batch", document_number="C01X00T01",
    )  # fmt: skip
    open_hits(session, [withheld, again], deadlines=DEADLINES, notes=centre_notes())
    sweep(session, T0 + timedelta(minutes=23), secretariat=SECRETARIAT)
    sweep(session, T0 + timedelta(minutes=30), secretariat=SECRETARIAT)
    owner, querying = viewer("DEU"), viewer("FRA")
    notes = centre_notes()
    now = T0 + timedelta(hours=1)
    cases.answer_case(session, owner, batch.id, Answer.CONFIRMED,
                      action=Action.SEIZE_DOCUMENT, now=now, notes=notes)  # fmt: skip
    cases.answer_case(session, owner, third.id, Answer.NO_MATCH, now=now, notes=notes)
    cases.record_outcome(session, querying, batch.id, Outcome.REFUSED_ENTRY, now=now, notes=notes)
    lines = list(session.scalars(select(Notification.text)))
    crypto = notes.crypto
    for thread in session.scalars(select(Thread)):
        for item in reading.thread_messages(session, crypto, thread.id):
            if item.message.system and item.body is not None:
                lines.append(item.body)
    return lines


def test_every_line_of_a_cases_life_reads_in_french_spanish_and_arabic(session: Session) -> None:
    lines = workflow_lines(session)
    assert len(lines) > 20
    for code in ("fr", "es", "ar"):
        untranslated = [line for line in lines if not localise(LANGUAGES[code], line).translated]
        assert untranslated == [], code
    shown = {localise(LANGUAGES["fr"], line).text for line in lines}
    assert any("le bureau DEU a répondu : Confirmé ; il demande : Saisir le document" in s
               for s in shown), shown  # fmt: skip
    made = {
        pattern.pattern for pattern, _, _ in NOTICES if any(pattern.fullmatch(t) for t in lines)
    }
    assert made == {pattern.pattern for pattern, _, _ in NOTICES}


def test_a_line_not_recognised_is_shown_as_written_and_marked_english() -> None:
    shown = localise(LANGUAGES["fr"], "Hit 12: something new happened")
    assert (shown.text, shown.translated) == ("Hit 12: something new happened", False)


def test_the_notifications_page_speaks_the_officers_language(api: Api, browser: Console) -> None:
    with api.database.session(write=True) as session:
        open_cases(session, "batch")
    browser.sign_in("officer.deu")
    assert browser.post("/language", {"language": "fr", "next": "/home"}, page="/home")
    page = browser.client.get("/notifications").text
    assert "correspond à votre signalement" in page
    assert 'class="notification-text" lang="en"' not in page
