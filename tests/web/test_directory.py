"""The contact directory in the console over HTTP: search, vCards, and a bureau keeping its
own entries (and only its own)."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

from sqlalchemy import update

from bordercheck.auth.models import Role
from bordercheck.directory.models import DirectoryEntry
from tests.signin import Api
from tests.web.conftest import Console

ENTRY = {
    "name": "Anna Keller",
    "function": "Focal point, migrant smuggling",
    "unit": "Smuggling of migrants, BKA",
    "topics": ["migrant_smuggling", "document_fraud"],
    "languages": "de en",
    "phone": "+49 611 55-0",
    "email": "smuggling@bka.example",
    "hours": "Mon-Fri 08:00-17:00",
    "time_zone": "Europe/Berlin",
}


def _signed_in(api: Api, username: str, bureau: str, role: Role = Role.BUREAU_OFFICER) -> Console:
    api.add_user(username, role, bureau)
    browser = Console(api)
    assert browser.sign_in(username).status_code == 303
    return browser


def _add(browser: Console, **changes: Any) -> int:
    response = browser.post("/directory", ENTRY | changes, page="/directory/new")
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/directory/(\d+)", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def test_a_bureau_adds_an_entry_everyone_finds_and_saves_as_a_vcard(
    api: Api, browser: Console
) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    entry = _add(deu)
    page = deu.client.get(f"/directory/{entry}")
    assert "Anna Keller" in page.text
    assert "+49611550" in page.text  # stored as E.164

    browser.sign_in("border.fra")
    found = browser.client.get("/directory", params={"country": "deu", "topic": "document_fraud"})
    assert found.status_code == 200
    assert f'data-entry="{entry}"' in found.text
    assert (
        f'data-entry="{entry}"'
        not in browser.client.get("/directory", params={"language": "fr"}).text
    )
    card = browser.client.get(f"/directory/{entry}/vcard")
    assert card.status_code == 200
    assert card.headers["content-type"].startswith("text/vcard")
    assert "FN:Anna Keller" in card.text
    every = browser.client.get("/directory.vcf", params={"country": "DEU"})
    assert every.text.count("BEGIN:VCARD") == 1
    # Read only for a border officer: no way to change it.
    assert f"/directory/{entry}/edit" not in browser.client.get(f"/directory/{entry}").text
    assert browser.client.get("/directory/new").status_code == 403


def test_a_search_with_a_wrong_country_or_language_says_which(browser: Console) -> None:
    browser.sign_in("border.fra")
    page = browser.client.get("/directory", params={"country": "QQQ", "language": "english"})
    assert page.status_code == 422
    assert 'href="#country"' in page.text
    assert 'href="#language"' in page.text


def test_a_bureau_edits_confirms_and_removes_its_own_entry(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    entry = _add(deu)
    with api.database.session(write=True) as session:
        session.execute(
            update(DirectoryEntry)
            .where(DirectoryEntry.id == entry)
            .values(last_confirmed=date(2020, 1, 1))
        )
    assert "tag-stale" in deu.client.get("/directory").text
    edited = deu.post(
        f"/directory/{entry}/edit", ENTRY | {"phone": "+49 611 55-12345"}, page="/directory/new"
    )
    assert edited.status_code == 303
    page = deu.client.get(f"/directory/{entry}")
    assert "+496115512345" in page.text
    assert "Not confirmed since" in page.text  # changing an entry does not confirm it
    confirmed = deu.post(f"/directory/{entry}/confirm", {}, page=f"/directory/{entry}")
    assert confirmed.status_code == 303
    assert "Not confirmed since" not in deu.client.get(f"/directory/{entry}").text
    removed = deu.post(f"/directory/{entry}/remove", {}, page=f"/directory/{entry}/remove")
    assert removed.status_code == 303
    assert deu.client.get(f"/directory/{entry}").status_code == 404


def test_a_bad_field_is_named_and_what_was_typed_stays(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    refused = deu.post(
        "/directory", ENTRY | {"phone": "call me", "topics": []}, page="/directory/new"
    )
    assert refused.status_code == 422
    assert 'href="#phone"' in refused.text
    assert 'href="#topics"' in refused.text
    assert 'value="Anna Keller"' in refused.text


def test_a_bureau_cannot_change_another_bureaus_entry(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    fra = _signed_in(api, "marc.fra", "FRA")
    entry = _add(deu)
    page = fra.client.get(f"/directory/{entry}")
    assert page.status_code == 200
    assert f"/directory/{entry}/edit" not in page.text
    assert fra.client.get(f"/directory/{entry}/edit").status_code == 403
    changed = fra.post(
        f"/directory/{entry}/edit", ENTRY | {"name": "Someone Else"}, page="/directory"
    )
    assert changed.status_code == 403
    assert fra.post(f"/directory/{entry}/confirm", {}, page="/directory").status_code == 403
    assert fra.post(f"/directory/{entry}/remove", {}, page="/directory").status_code == 403
    assert "Anna Keller" in deu.client.get(f"/directory/{entry}").text


def test_changes_need_the_forms_token(api: Api) -> None:
    deu = _signed_in(api, "anna.deu", "DEU")
    entry = _add(deu)
    forged = deu.client.post(f"/directory/{entry}/remove")
    assert forged.status_code == 403
    assert deu.client.get(f"/directory/{entry}").status_code == 200


def test_two_officers_editing_different_fields_keep_both_changes(api: Api) -> None:
    anna = _signed_in(api, "anna.deu", "DEU")
    ben = _signed_in(api, "ben.deu", "DEU")
    entry = _add(anna)
    form_a = anna.client.get(f"/directory/{entry}/edit").text
    form_b = ben.client.get(f"/directory/{entry}/edit").text
    loaded_a = re.search(r'name="loaded" value="([^"]*)"', form_a)
    loaded_b = re.search(r'name="loaded" value="([^"]*)"', form_b)
    assert loaded_a is not None
    assert loaded_b is not None
    opened = ENTRY | {"phone": "+49611550"}  # the form shows the number as stored

    def loaded(match: re.Match[str]) -> str:
        return html.unescape(match.group(1))

    first = anna.post(
        f"/directory/{entry}/edit",
        opened | {"phone": "+49 611 55-777", "loaded": loaded(loaded_a)},
        page=f"/directory/{entry}",
    )
    assert first.status_code == 303
    second = ben.post(
        f"/directory/{entry}/edit",
        opened | {"hours": "24/7", "loaded": loaded(loaded_b)},
        page=f"/directory/{entry}",
    )
    assert second.status_code == 303
    page = anna.client.get(f"/directory/{entry}").text
    assert "+4961155777" in page
    assert "24/7" in page
