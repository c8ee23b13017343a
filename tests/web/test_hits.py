"""The hits pages over HTTP, as a browser uses them: each side's inbox, a case, the owner's
answer and the querying side's outcome, the thread, notifications, and the refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bordercheck.auth.models import Role
from bordercheck.hits.models import Hit
from tests.signin import Api
from tests.web.conftest import Console


def _record(api: Api, number: str, withheld_from: list[str] | None = None) -> int:
    deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
    response = api.client.post(
        "/api/v1/records",
        headers=deu,
        json={
            "document_number": number,
            "issuing_country": "DEU",
            "document_type": "passport",
            "status": "stolen",
        },
    )
    assert response.status_code == 201, response.text
    record = response.json()
    if withheld_from:
        response = api.client.put(
            f"/api/v1/records/{record['id']}/withheld-from",
            headers=deu,
            json={"version": record["version"], "countries": withheld_from},
        )
        assert response.status_code == 200, response.text
    return int(record["id"])


def _check(browser: Console, number: str) -> int:
    """A check on /check that hits: the case it opened."""
    answer = browser.post(
        "/check",
        {"mode": "number", "document_number": number, "issuing_country": "DEU"},
        page="/check",
    )
    assert answer.status_code == 200, answer.text
    found = re.search(r'href="/hits/(\d+)"', answer.text)
    assert found, answer.text
    return int(found.group(1))


def _version(html: str) -> str:
    found = re.search(r'/status\?v=([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def _live(browser: Console, path: str) -> object:
    return browser.client.get(path, headers={"HX-Request": "true"})


def test_the_owner_answers_and_the_querying_side_sees_it_then_records_the_outcome(
    api: Api, browser: Console
) -> None:
    _record(api, "C01X00T47")
    browser.sign_in("border.fra")
    hit_id = _check(browser, "C01X00T47")
    case = browser.client.get(f"/hits/{hit_id}")
    assert case.status_code == 200
    assert "C01X00T47" in case.text
    assert f'action="/hits/{hit_id}/outcome"' in case.text, "the querying side records outcomes"
    assert f'action="/hits/{hit_id}/answer"' not in case.text, "only the owner answers"
    assert 'data-answer=""' in case.text
    seen = _version(case.text)
    assert _live(browser, f"/hits/{hit_id}/status?v={seen}").status_code == 204

    owner = Console(api)
    owner.sign_in("officer.deu")
    inbox = owner.client.get("/hits")
    assert inbox.status_code == 200
    assert f'href="/hits/{hit_id}"' in inbox.text
    assert "left" in inbox.text, "the time left to answer, in words"
    page = owner.client.get(f"/hits/{hit_id}")
    assert f'action="/hits/{hit_id}/answer"' in page.text
    assert f'action="/hits/{hit_id}/outcome"' not in page.text
    answered = owner.post(
        f"/hits/{hit_id}/answer",
        {"answer": "confirmed", "action": "seize_document", "note": "Stolen in Bonn."},
        page=f"/hits/{hit_id}",
    )
    assert answered.status_code == 303
    assert answered.headers["location"] == f"/hits/{hit_id}"
    assert 'data-answer="confirmed"' in owner.client.get(f"/hits/{hit_id}").text

    # The querying side's open page asks for news: the answer, without a reload.
    news = _live(browser, f"/hits/{hit_id}/status?v={seen}")
    assert news.status_code == 200
    assert "<html" not in news.text
    assert 'data-answer="confirmed"' in news.text
    assert "Seize the document" in news.text
    assert "Stolen in Bonn." in news.text

    done = browser.post(f"/hits/{hit_id}/outcome", {"outcome": "seized"}, page=f"/hits/{hit_id}")
    assert done.status_code == 303
    closed = browser.client.get(f"/hits/{hit_id}").text
    assert 'data-outcome="seized"' in closed
    assert f'action="/hits/{hit_id}/outcome"' not in closed
    assert "Closed" in closed


def test_the_inbox_puts_the_nearest_deadline_first_and_marks_the_overdue(
    api: Api, browser: Console
) -> None:
    for number in ("D01X00T47", "D02X00T47", "D03X00T47"):
        _record(api, number)
    browser.sign_in("border.fra")
    first, second, third = (_check(browser, n) for n in ("D01X00T47", "D02X00T47", "D03X00T47"))
    now = datetime.now(UTC)
    with api.database.session(write=True) as session:
        for hit_id, due in ((first, now + timedelta(hours=5)), (second, now - timedelta(hours=1)),
                            (third, now + timedelta(minutes=30))):  # fmt: skip
            session.execute(update(Hit).where(Hit.id == hit_id).values(due_at=due))
    owner = Console(api)
    owner.sign_in("officer.deu")
    inbox = owner.client.get("/hits?side=owner").text
    order = [int(n) for n in re.findall(r'<a href="/hits/(\d+)">', inbox)]
    assert order == [second, third, first]
    overdue_row = re.search(rf'<tr class="overdue">\s*<td><a href="/hits/{second}">', inbox)
    assert overdue_row, "the overdue case is marked"
    assert "Overdue" in inbox, "in words, not by colour alone"
    assert "overdue by 1 hour" in inbox
    assert "30 minutes left" in inbox
    # The querying side's tab lists what its checks opened; a filter narrows the states.
    asked = browser.client.get("/hits?side=querying").text
    assert {int(n) for n in re.findall(r'<a href="/hits/(\d+)">', asked)} == {first, second, third}
    assert browser.client.get("/hits?side=querying&state=closed").text.count('<a href="/hits/') == 0
    assert "To answer" not in asked, "a border officer has no records to answer for"


def test_the_inbox_refreshes_only_when_something_changed(api: Api, browser: Console) -> None:
    _record(api, "E01X00T47")
    owner = browser
    owner.sign_in("officer.deu")
    page = owner.client.get("/hits").text
    version = re.search(r'&amp;v=([0-9a-f]+)"', page)
    assert version
    live = f"/hits?side=owner&state=open&page=1&v={version.group(1)}"
    assert _live(owner, live).status_code == 204
    querying = Console(api)
    querying.sign_in("border.fra")
    hit_id = _check(querying, "E01X00T47")
    news = _live(owner, live)
    assert news.status_code == 200
    assert f'href="/hits/{hit_id}"' in news.text
    assert 'id="inbox-news" hx-swap-oob="innerHTML"' in news.text
    assert "(1 to answer)" in owner.client.get("/hits/badge").text


def test_a_withheld_record_shows_the_querying_side_only_the_notice(
    api: Api, browser: Console
) -> None:
    _record(api, "F01X00T47", withheld_from=["FRA"])
    browser.sign_in("border.fra")
    hit_id = _check(browser, "F01X00T47")
    for page in (browser.client.get(f"/hits/{hit_id}").text, browser.client.get("/hits").text):
        assert "F01X00T47" not in page
    case = browser.client.get(f"/hits/{hit_id}").text
    assert "restricted, contact the owning bureau (DEU)" in case
    owner = Console(api)
    owner.sign_in("officer.deu")
    assert "F01X00T47" in owner.client.get(f"/hits/{hit_id}").text


def test_each_side_only_does_its_part_and_other_bureaus_see_nothing(
    api: Api, browser: Console
) -> None:
    _record(api, "G01X00T47")
    browser.sign_in("border.fra")
    hit_id = _check(browser, "G01X00T47")
    refused = browser.post(f"/hits/{hit_id}/answer", {"answer": "no_match"}, page=f"/hits/{hit_id}")
    assert refused.status_code == 403
    assert "owns the record" in refused.text
    owner = Console(api)
    owner.sign_in("officer.deu")
    wrong_side = owner.post(
        f"/hits/{hit_id}/outcome", {"outcome": "seized"}, page=f"/hits/{hit_id}"
    )
    assert wrong_side.status_code == 403
    api.add_user("officer.ita", Role.BUREAU_OFFICER, "ITA")
    other = Console(api)
    other.sign_in("officer.ita")
    assert other.client.get(f"/hits/{hit_id}").status_code == 404
    assert other.client.get(f"/hits/{hit_id}/status").status_code == 404
    assert f'href="/hits/{hit_id}"' not in other.client.get("/hits").text
    # A form without its page's token is refused, and nothing is answered.
    forged = owner.client.post(f"/hits/{hit_id}/answer", data={"answer": "confirmed"})
    assert forged.status_code == 403
    assert 'data-answer=""' in owner.client.get(f"/hits/{hit_id}").text
    # Notifications are the bureaus' (bureau officers), not a border officer's.
    assert browser.client.get("/notifications").status_code == 403


def test_a_wrong_answer_form_says_what_is_wrong_where(api: Api, browser: Console) -> None:
    _record(api, "H01X00T47")
    querying = Console(api)
    querying.sign_in("border.fra")
    hit_id = _check(querying, "H01X00T47")
    browser.sign_in("officer.deu")
    empty = browser.post(f"/hits/{hit_id}/answer", {"note": "Looked."}, page=f"/hits/{hit_id}")
    assert empty.status_code == 422
    assert 'href="#answer"' in empty.text
    assert "Choose an answer" in empty.text
    assert "Looked." in empty.text, "what was typed is kept"
    long = browser.post(
        f"/hits/{hit_id}/answer",
        {"answer": "confirmed", "note": "x" * 2001},
        page=f"/hits/{hit_id}",
    )
    assert long.status_code == 422
    assert 'href="#answer_note"' in long.text
    # Answered once: a second answer (another officer, an old page) is refused, not applied.
    assert (
        browser.post(
            f"/hits/{hit_id}/answer", {"answer": "no_match"}, page=f"/hits/{hit_id}"
        ).status_code
        == 303
    )
    again = browser.post(f"/hits/{hit_id}/answer", {"answer": "confirmed"}, page=f"/hits/{hit_id}")
    assert again.status_code == 409
    with api.database.session() as session:
        assert session.scalar(select(Hit.answer).where(Hit.id == hit_id)) == "no_match"


def test_the_two_bureaus_write_in_the_case_thread_and_it_updates_in_place(
    api: Api, browser: Console
) -> None:
    _record(api, "J01X00T47")
    border = Console(api)
    border.sign_in("border.fra")
    hit_id = _check(border, "J01X00T47")
    api.add_user("officer.fra", Role.BUREAU_OFFICER, "FRA")
    querying = Console(api)
    querying.sign_in("officer.fra")
    page = querying.client.get(f"/hits/{hit_id}").text
    assert "opened" in page, "the system's note of the case opening is in the thread"
    last = re.search(r'/thread\?after=(\d+)"', page)
    assert last
    poll = f"/hits/{hit_id}/thread?after={last.group(1)}"
    assert _live(querying, poll).status_code == 204
    browser.sign_in("officer.deu")
    token = browser.csrf(f"/hits/{hit_id}")
    sent = browser.client.post(
        f"/hits/{hit_id}/messages",
        data={"body": "Is the holder still with you?"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert sent.status_code == 200
    assert sent.headers["HX-Trigger"] == "thread-changed"
    news = _live(querying, poll)
    assert news.status_code == 200
    assert "Is the holder still with you?" in news.text
    assert 'hx-swap-oob="beforeend:#thread-messages"' in news.text
    empty = querying.post(f"/hits/{hit_id}/messages", {"body": "  "}, page=f"/hits/{hit_id}")
    assert empty.status_code == 422
    reply = querying.post(f"/hits/{hit_id}/messages", {"body": "Yes."}, page=f"/hits/{hit_id}")
    assert reply.status_code == 303
    assert "Yes." in browser.client.get(f"/hits/{hit_id}").text
    # A border officer follows the case, not the bureaus' correspondence.
    assert "Is the holder still with you?" not in border.client.get(f"/hits/{hit_id}").text


def test_notifications_are_listed_counted_and_marked_read(api: Api, browser: Console) -> None:
    _record(api, "K01X00T47")
    querying = Console(api)
    querying.sign_in("border.fra")
    hit_id = _check(querying, "K01X00T47")
    browser.sign_in("officer.deu")
    page = browser.client.get("/notifications").text
    assert f'href="/hits/{hit_id}"' in page
    assert "New" in page
    assert "(1 unread)" in browser.client.get("/notifications/badge").text
    marked = browser.post("/notifications/read", {}, page="/notifications")
    assert marked.status_code == 303
    assert browser.client.get("/notifications/badge").text.strip() == ""
    assert "read by officer.deu" in browser.client.get("/notifications").text


def test_an_administrator_sees_the_case_but_neither_answers_nor_reads_the_thread(
    api: Api, browser: Console
) -> None:
    _record(api, "M01X00T47")
    querying = Console(api)
    querying.sign_in("border.fra")
    hit_id = _check(querying, "M01X00T47")
    browser.sign_in("admin.xpo")
    case = browser.client.get(f"/hits/{hit_id}")
    assert case.status_code == 200
    assert f'action="/hits/{hit_id}/answer"' not in case.text
    assert f'action="/hits/{hit_id}/outcome"' not in case.text
    assert "Only the two bureaus read their messages. Messages so far: 1." in case.text
    assert "opened: a FRA screening" not in case.text
    # Though of the case's bureau here, an administrator sends no police messages.
    written = browser.post(f"/hits/{hit_id}/messages", {"body": "Hello."}, page=f"/hits/{hit_id}")
    assert written.status_code == 403
