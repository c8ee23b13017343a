"""Messages in the console over HTTP: threads, replies with files, reading, and refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import update

from bordercheck.auth.models import Role
from bordercheck.hits.models import Hit
from bordercheck.messaging import service
from tests.factories import centre_notes
from tests.messaging.conftest import make_hit
from tests.signin import Api
from tests.web.conftest import Console

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _signed_in(api: Api, username: str, bureau: str, role: Role = Role.BUREAU_OFFICER) -> Console:
    api.add_user(username, role, bureau)
    browser = Console(api)
    assert browser.sign_in(username).status_code == 303
    return browser


def _thread(browser: Console, to: str = "FRA", subject: str = "Stolen blanks") -> int:
    response = browser.post(
        "/messages",
        {"recipients": to, "subject": subject, "body": "Have you seen series C01?"},
        page="/messages/new",
        files=[("attachments", ("scan.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/messages/(\d+)", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def test_a_bureau_writes_to_another_which_reads_replies_and_downloads(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    fra = _signed_in(api, "marc.fra", "FRA")
    thread = _thread(deu)

    listing = fra.client.get("/messages")
    assert listing.status_code == 200
    assert "Stolen blanks" in listing.text
    assert 'class="thread-unread"' in listing.text
    page = fra.client.get(f"/messages/{thread}")
    assert "Have you seen series C01?" in page.text
    assert "anna.deu" in page.text
    assert 'data-verified="yes"' in page.text
    link = re.search(r'href="(/messages/\d+/messages/\d+/attachments/\d+)"', page.text)
    assert link is not None
    download = fra.client.get(link.group(1))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")

    read = fra.post(f"/messages/{thread}/read", {}, page=f"/messages/{thread}")
    assert read.status_code == 303
    assert 'class="thread-unread"' not in fra.client.get("/messages").text

    answer = fra.post(f"/messages/{thread}", {"body": "Not here."}, page=f"/messages/{thread}")
    assert answer.status_code == 303
    assert "Not here." in deu.client.get(f"/messages/{thread}").text


def test_the_thread_page_polls_for_new_messages_only(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    fra = _signed_in(api, "marc.fra", "FRA")
    thread = _thread(deu)
    page = fra.client.get(f"/messages/{thread}")
    poll = re.search(r'hx-get="(/messages/\d+\?after=(\d+))"', page.text)
    assert poll is not None
    assert 'aria-live="polite"' in page.text
    quiet = fra.client.get(poll.group(1), headers={"HX-Request": "true"})
    assert quiet.status_code == 200
    assert "data-message=" not in quiet.text
    deu.post(f"/messages/{thread}", {"body": "Any news?"}, page=f"/messages/{thread}")
    news = fra.client.get(poll.group(1), headers={"HX-Request": "true"})
    assert "Any news?" in news.text
    assert "<html" not in news.text


def test_a_file_that_is_not_what_it_claims_is_refused_by_the_form(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    thread = _thread(deu)
    refused = deu.post(
        f"/messages/{thread}",
        {"body": "Here is the scan"},
        page=f"/messages/{thread}",
        files=[("attachments", ("scan.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))],
    )
    assert refused.status_code == 422
    assert "error-summary" in refused.text
    assert "scan.pdf: executable" in refused.text  # the file named, not its field's path
    assert "attachments.0" not in refused.text
    assert "Here is the scan" in refused.text  # what was typed is kept
    empty = deu.post(f"/messages/{thread}", {"body": "  "}, page=f"/messages/{thread}")
    assert empty.status_code == 422
    no_bureau = deu.post(
        "/messages", {"recipients": "", "subject": "x", "body": "y"}, page="/messages/new"
    )
    assert no_bureau.status_code == 422
    assert "Choose the bureau" in no_bureau.text


def test_a_bureau_outside_a_thread_cannot_read_or_write_it(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    ita = _signed_in(api, "luca.ita", "ITA")
    thread = _thread(deu)
    assert "Stolen blanks" not in ita.client.get("/messages").text
    assert ita.client.get(f"/messages/{thread}").status_code == 404
    attachment = f"/messages/{thread}/messages/1/attachments/1"
    assert ita.client.get(attachment).status_code == 404
    refused = ita.post(f"/messages/{thread}", {"body": "Let me in"}, page="/messages")
    assert refused.status_code == 404
    assert "Let me in" not in deu.client.get(f"/messages/{thread}").text


def test_border_officers_have_no_messages_and_forms_need_their_token(
    api: Api, browser: Console
) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    thread = _thread(deu)
    browser.sign_in("border.fra")
    assert browser.client.get("/messages").status_code == 403
    assert "/messages" not in browser.client.get("/home").text
    forged = deu.client.post(f"/messages/{thread}", data={"body": "forged"})
    assert forged.status_code == 403
    assert "forged" not in deu.client.get(f"/messages/{thread}").text


def test_an_administrator_sees_metadata_only_and_cannot_write(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    thread = _thread(deu, subject="Confidential subject")
    admin = _signed_in(api, "root.adm", "ITA", Role.ADMIN)
    listing = admin.client.get("/messages")
    assert listing.status_code == 200
    assert f'data-thread="{thread}"' in listing.text
    assert "Confidential subject" not in listing.text
    page = admin.client.get(f"/messages/{thread}")
    assert page.status_code == 200
    assert "Have you seen" not in page.text
    refused = admin.post(f"/messages/{thread}", {"body": "hello"}, page="/messages")
    assert refused.status_code == 403


def test_a_hits_thread_links_to_its_case(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    with api.database.session(write=True) as session:
        hit = make_hit(session, owner="DEU", querying="FRA")
        service.post_hit_event(
            session, centre_notes(), hit_id=hit, bureaus=["DEU", "FRA"], text="A hit"
        )
    listing = deu.client.get("/messages").text
    assert f'href="/hits/{hit}"' in listing


def test_the_secretariat_sees_a_cases_thread_but_a_link_to_the_case_only_once_escalated(
    api: Api,
) -> None:
    secretariat = api.client.app.state.settings.secretariat_code  # type: ignore[attr-defined]
    with api.database.session(write=True) as session:
        hit = make_hit(session, owner="DEU", querying="FRA")
        service.post_hit_event(
            session, centre_notes(), hit_id=hit, bureaus=["DEU", "FRA", secretariat], text="A hit"
        )
    analyst = _signed_in(api, "eve.analyst", secretariat, Role.ANALYST)
    listing = analyst.client.get("/messages").text
    assert f"Case {hit}" in listing
    assert f'href="/hits/{hit}"' not in listing  # it would answer 404 before the escalation
    (thread,) = re.findall(r'href="/messages/(\d+)">Case', listing)
    page = analyst.client.get(f"/messages/{thread}").text
    assert f"Case {hit}" in page
    assert f'href="/hits/{hit}"' not in page
    assert analyst.client.get(f"/hits/{hit}").status_code == 404
    with api.database.session(write=True) as session:
        session.execute(update(Hit).where(Hit.id == hit).values(escalated_at=datetime.now(UTC)))
    assert f'href="/hits/{hit}"' in analyst.client.get("/messages").text
    assert f'href="/hits/{hit}"' in analyst.client.get(f"/messages/{thread}").text
    assert analyst.client.get(f"/hits/{hit}").status_code == 200
