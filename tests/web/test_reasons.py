"""What the services refuse, shown in the viewer's language: each refusal the console
translates is made here by the service that makes it, so that rewording one there without
its translation here fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from bordercheck.directory.schemas import EntryFields
from bordercheck.documents.countries import normalise_country
from bordercheck.documents.mrz import parse
from bordercheck.documents.numbers import normalise_number
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.registry.schemas import RecordFields
from bordercheck.web.i18n import LANGUAGES
from bordercheck.web.reasons import REASONS, translate_reason
from tests.signin import PASSWORD, Api
from tests.web.conftest import Console


def refusal(make: Callable[[], Any]) -> str:
    """The message of what ``make`` raises (a validator's, without pydantic's prefix)."""
    try:
        make()
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    except Exception as exc:
        return str(getattr(exc, "message", exc))
    raise AssertionError("nothing was refused")


def record(**fields: object) -> RecordFields:
    base = {"document_number": "X1234567", "document_type": "passport", "status": "stolen",
            "issuing_country": "DEU"}  # fmt: skip
    return RecordFields.model_validate({**base, **fields})


def entry(**fields: object) -> EntryFields:
    base = {"name": "Ana", "function": "Duty officer", "unit": "Desk",
            "topics": ["stolen_documents"],
            "phone": "+49 611 55-0", "email": "desk@example.org", "languages": ["en"],
            "hours": "Mon-Fri 08:00-17:00", "time_zone": "Europe/Berlin"}  # fmt: skip
    return EntryFields.model_validate({**base, **fields})


SERVICES: dict[str, Callable[[], Any]] = {
    "country": lambda: normalise_country("XX"),
    "empty number": lambda: normalise_number(" - "),
    "long number": lambda: normalise_number("X" * 30),
    "number characters": lambda: normalise_number("AB(C)"),
    "dates": lambda: record(issue_date=date(2025, 6, 1), expiry_date=date(2020, 6, 1)),
    "long text": lambda: record(event_place="x" * 300),
    "no topic": lambda: entry(topics=[]),
    "empty name": lambda: entry(name=""),
    "missing field": lambda: EntryFields.model_validate({"name": "Ana"}),
    "e-mail": lambda: entry(email="nobody"),
    "time zone": lambda: entry(time_zone="Mars/Olympus"),
    "phone": lambda: entry(phone="01 49 27 49 27"),
    "mrz empty": lambda: parse(""),
    "mrz lines": lambda: parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"),
    "mrz width": lambda: parse(
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204"
    ),
    "driving licence": lambda: parse("D1FRA13AA000026181231MARTIN<<9"),
    "paxlst": lambda: parse_paxlst(b"hello"),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_refusal_a_service_makes_reads_in_french_spanish_and_arabic(service: str) -> None:
    said = refusal(SERVICES[service])
    for code in ("fr", "es", "ar"):
        shown = translate_reason(LANGUAGES[code], said)
        assert shown != said, f"{service} ({code}): {said!r} is shown untranslated"


def test_refusals_of_the_forms_read_in_the_viewers_language(api: Api, browser: Console) -> None:
    """Accounts, bureaus and operations: made through the console itself, in French."""
    assert browser.sign_in("admin.xpo").status_code == 303
    assert browser.post("/language", {"language": "fr", "next": "/home"}, page="/home")
    refused = browser.post(
        "/operations",
        {"name": "Blue Gate", "purpose": "", "starts_on": "2026-12-09", "ends_on": "2026-12-01",
         "locations": "CDG/T2", "bureaus": "FRA ZZZ"},
        page="/operations/new",
    )  # fmt: skip
    assert refused.status_code == 422
    for text in ("le dernier jour précède le premier", "il n&#39;y a pas de bureau ZZZ",
                 "« CDG/T2 » n&#39;est pas un code de point de passage"):  # fmt: skip
        assert text in refused.text


def test_a_person_of_a_partner_not_yet_added_is_refused_without_a_command_to_type(
    browser: Console,
) -> None:
    assert browser.sign_in("admin.xpo").status_code == 303
    person = {"username": "pia.p", "bureau": "EBA", "role": "partner", "password": PASSWORD}
    refused = browser.post("/admin/users", person, page="/admin/users/new")
    assert refused.status_code in (404, 422)
    assert "there is no partner organisation EBA: add it first, under Administration" in (
        refused.text
    )
    assert "bordercheck partners add" not in refused.text


# Refusals made by the form tests above, and those no test here makes, each with why.
THROUGH_THE_FORMS = {
    "the last day comes before the first", "no bureau (?P<code>\\S+)",
    "'(?P<value>[^']*)' is not a border post code",
    "there is no partner organisation (?P<code>\\S+); add it with `.*`",
}  # fmt: skip
NOT_MADE_HERE = {
    "is required", "must not be empty",  # the API's and the messages' own: words, no values
    "Input should be a valid date.*",  # pydantic's, whose wording it owns
    "line (?P<line>\\d+) is (?P<length>\\d+) characters long; (?P<format>\\S+) lines are "
    "(?P<expected>\\d+)",
    "(?:[a-z_]+: )?a password needs at least (?P<count>\\d+) characters",
    "a username is 2 to 64 characters: a letter, then letters, digits, '\\.', '_' or '-'",
    "a bureau for (?P<code>[A-Z]{3}) already exists", "user '(?P<name>[^']*)' already exists",
    "give the operation a name", "name at least one border post",
    "name at least one participating bureau", "an operation lasts at most (?P<days>\\d+) days",
    "a day from (?P<first>\\S+) to (?P<last>\\S+)", "at most (?P<count>\\d+) entries",
    "the bureau (?P<code>[A-Z]{3}) has an API client named '(?P<value>[^']*)' already; give "
    "this one another name",
    "the body is empty: send the PAXLST file as the body, or as the form field 'file'",
    "there is no hit (?P<hit>\\d+) for your bureau",
}  # fmt: skip


def test_every_translated_refusal_is_made_here_or_named_as_not() -> None:
    made = [refusal(make) for make in SERVICES.values()]
    unmatched = {
        pattern.pattern for pattern, _ in REASONS if not any(pattern.fullmatch(t) for t in made)
    }
    assert unmatched == THROUGH_THE_FORMS | NOT_MADE_HERE


def test_what_is_not_recognised_is_shown_as_the_service_wrote_it() -> None:
    text = "the record was withdrawn by its bureau; it cannot be changed"
    assert translate_reason(LANGUAGES["fr"], text) == text
    assert translate_reason(LANGUAGES["fr"], "is required; must not be empty") == (
        "obligatoire; obligatoire"
    )
