"""The console in every language: each string it shows has a translation, the translations keep
their placeholders, and a browser asking for a language is answered in it."""

from __future__ import annotations

import pytest
from markupsafe import escape

from bordercheck.auth.models import Role
from bordercheck.web import catalogs
from tests.signin import Api
from tests.web.conftest import Console

LANGUAGES = catalogs.translated_languages()

SIGN_IN_TITLE = {
    "fr": "Se connecter à bordercheck",
    "es": "Iniciar sesión en bordercheck",
    "ar": "تسجيل الدخول إلى bordercheck",
}
HIT = {"fr": "CONCORDANCE", "es": "COINCIDENCIA", "ar": "تطابق"}
NO_HIT = {"fr": "AUCUNE CONCORDANCE", "es": "SIN COINCIDENCIA", "ar": "لا تطابق"}


def test_the_tested_languages_are_the_consoles() -> None:
    assert set(LANGUAGES) == set(SIGN_IN_TITLE) == {"fr", "es", "ar"}


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_string_the_console_shows_has_a_translation(code: str) -> None:
    strings = catalogs.wanted()
    lacking = catalogs.missing(code, strings)
    listed = "\n".join(f"  {msgid!r}  in {', '.join(strings[msgid])}" for msgid in lacking)
    assert not lacking, (
        f"{len(lacking)} strings have no {code} translation (add them with "
        f"`python -m bordercheck.web.catalogs --add-missing AREA`, then translate):\n{listed}"
    )


def test_a_string_without_translation_is_reported() -> None:
    assert catalogs.missing("fr", ["A sentence no template has yet"]) == [
        "A sentence no template has yet"
    ]


@pytest.mark.parametrize("code", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_english(code: str) -> None:
    assert catalogs.broken_placeholders(code) == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_sign_in_page_is_in_the_browsers_language(browser: Console, code: str) -> None:
    page = browser.client.get("/", headers={"accept-language": f"{code},en;q=0.5"})
    assert page.status_code == 200
    direction = "rtl" if code == "ar" else "ltr"
    assert f'<html lang="{code}" dir="{direction}">' in page.text
    assert str(escape(SIGN_IN_TITLE[code])) in page.text
    assert "Sign in to bordercheck" not in page.text


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_answer_to_a_check_is_in_the_officers_language(
    api: Api, browser: Console, code: str
) -> None:
    browser.client.headers["accept-language"] = code
    recorded = api.client.post(
        "/api/v1/records",
        headers=api.bearer(Role.BUREAU_OFFICER, "DEU"),
        json={
            "document_number": "C01X00T47",
            "issuing_country": "DEU",
            "document_type": "passport",
            "status": "stolen",
        },
    )
    assert recorded.status_code == 201, recorded.text
    browser.sign_in("border.fra")

    def answer(number: str) -> str:
        data = {"mode": "number", "document_number": number, "issuing_country": "DEU"}
        response = browser.post("/check", data, page="/check")
        assert response.status_code == 200, response.text
        title = response.text.split('class="answer-title">', 1)[1]
        return title.split("</h2>", 1)[0]

    assert answer("C01X00T47") == HIT[code]
    assert answer("X1234567") == NO_HIT[code]
