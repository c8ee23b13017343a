"""The console over HTTP, as a browser uses it: sign-in, sessions, CSRF, checks, languages."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select, update

from bordercheck.auth.models import Role, User
from bordercheck.web.models import ConsoleSession
from tests.signin import Api
from tests.web.conftest import Console


def _record(api: Api, number: str = "C01X00T47", country: str = "DEU") -> None:
    response = api.client.post(
        "/api/v1/records",
        headers=api.bearer(Role.BUREAU_OFFICER, country),
        json={
            "document_number": number,
            "issuing_country": country,
            "document_type": "passport",
            "status": "stolen",
        },
    )
    assert response.status_code == 201, response.text


def _result(html: str) -> str | None:
    found = re.search(r'data-result="([a-z_]+)"', html)
    return found.group(1) if found else None


def test_the_start_page_is_the_sign_in_form_and_pages_need_a_session(browser: Console) -> None:
    page = browser.client.get("/")
    assert page.status_code == 200
    assert 'action="/sign-in"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    refused = browser.client.get("/check")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/?next=/check"


def test_signing_in_opens_a_session_cookie_that_scripts_cannot_read(browser: Console) -> None:
    response = browser.sign_in("border.fra", next_page="/check")
    assert response.status_code == 303
    assert response.headers["location"] == "/check"
    cookie = response.headers["set-cookie"]
    assert "bordercheck_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("samesite", "SameSite")
    assert browser.client.get("/check").status_code == 200


def test_a_wrong_password_says_so_and_opens_nothing(browser: Console) -> None:
    response = browser.sign_in("border.fra", "not the password at all")
    assert response.status_code == 401
    assert "not right" in response.text
    assert "bordercheck_session" not in response.headers.get("set-cookie", "")


def test_a_sign_in_form_from_another_site_is_refused(browser: Console) -> None:
    response = browser.client.post(
        "/sign-in",
        data={"username": "border.fra", "password": "x", "sign_in_token": "forged"},
    )
    assert response.status_code == 403
    assert "bordercheck_session" not in response.headers.get("set-cookie", "")


def test_an_open_redirect_after_sign_in_is_not_followed(browser: Console) -> None:
    response = browser.sign_in("border.fra", next_page="//evil.example/")
    assert response.headers["location"] == "/home"


def test_a_border_officer_checks_a_recorded_and_an_absent_document(
    api: Api, browser: Console
) -> None:
    _record(api)
    browser.sign_in("border.fra")
    hit = browser.post(
        "/check",
        {"mode": "number", "document_number": "C01X00T47", "issuing_country": "DEU"},
        page="/check",
    )
    assert hit.status_code == 200
    assert _result(hit.text) == "hit"
    assert re.search(r'href="/hits/\d+"', hit.text), "a hit links to the case it opened"
    clear = browser.post(
        "/check",
        {"mode": "number", "document_number": "X1234567", "issuing_country": "DEU"},
        page="/check",
    )
    assert _result(clear.text) == "no_hit"


def test_an_htmx_check_answers_with_the_answer_alone(api: Api, browser: Console) -> None:
    browser.sign_in("border.fra")
    token = browser.csrf("/check")
    response = browser.client.post(
        "/check",
        data={"mode": "number", "document_number": "X1234567", "issuing_country": "DEU"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert _result(response.text) == "no_hit"


def test_a_check_without_its_page_token_is_refused(browser: Console) -> None:
    browser.sign_in("border.fra")
    response = browser.client.post(
        "/check", data={"mode": "number", "document_number": "X1", "issuing_country": "DEU"}
    )
    assert response.status_code == 403
    assert "data-result" not in response.text


def test_a_check_with_a_bad_country_names_the_field(browser: Console) -> None:
    browser.sign_in("border.fra")
    response = browser.post(
        "/check",
        {"mode": "number", "document_number": "X1234567", "issuing_country": "XX"},
        page="/check",
    )
    assert response.status_code == 422
    assert 'href="#issuing_country"' in response.text


def _digit(text: str) -> str:
    values = {**{str(d): d for d in range(10)}, "<": 0}
    values |= {chr(ord("A") + i): 10 + i for i in range(26)}
    return str(sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(text)) % 10)


def passport_mrz(number: str, country: str) -> str:
    """A TD3 zone with right check digits (ICAO 9303 part 3)."""
    number = number.ljust(9, "<")
    birth, expiry, personal = "740812", "320415", "<" * 14
    second = (
        f"{number}{_digit(number)}{country}{birth}{_digit(birth)}F{expiry}{_digit(expiry)}"
        f"{personal}{_digit(personal)}"
    )
    composite = second[0:10] + second[13:20] + second[21:43]
    return f"P<{country}ERIKSSON<<ANNA<MARIA".ljust(44, "<") + "\n" + second + _digit(composite)


def test_a_repaired_mrz_shows_how_it_was_read(api: Api, browser: Console) -> None:
    _record(api, "L898902C3", "DEU")
    browser.sign_in("border.fra")
    lines = passport_mrz("L898902C3", "DEU").split("\n")
    mrz = lines[0] + "\n" + lines[1][:5] + "O" + lines[1][6:]  # O read for 0
    response = browser.post("/check", {"mode": "mrz", "mrz": mrz}, page="/check?mode=mrz")
    assert _result(response.text) == "hit"
    assert "L898902C3" in response.text
    assert "line 2, position 6" in response.text


def test_signing_out_ends_the_session_at_once(browser: Console) -> None:
    browser.sign_in("border.fra")
    cookie = browser.client.cookies.get("bordercheck_session")
    assert browser.post("/sign-out", {}, page="/home").status_code == 303
    browser.client.cookies.set("bordercheck_session", cookie)  # a copy kept elsewhere
    assert browser.client.get("/home").status_code == 303


def test_an_idle_session_ends(api: Api, browser: Console) -> None:
    browser.sign_in("border.fra")
    with api.database.session(write=True) as session:
        session.execute(
            update(ConsoleSession).values(last_seen_at=datetime.now(UTC) - timedelta(hours=2))
        )
    assert browser.client.get("/home").status_code == 303


def test_a_deactivated_person_is_out_at_once(api: Api, browser: Console) -> None:
    browser.sign_in("border.fra")
    with api.database.session(write=True) as session:
        session.execute(update(User).where(User.username == "border.fra").values(active=False))
    assert browser.client.get("/home").status_code == 303


def test_a_border_officer_may_not_open_what_is_not_theirs(api: Api, browser: Console) -> None:
    api.add_user("analyst.xpo", Role.ANALYST, "DEU")
    browser.sign_in("analyst.xpo")
    response = browser.client.get("/check")
    assert response.status_code == 403
    assert "<h1>" in response.text


def test_the_second_factor_enrolled_then_asked_then_a_recovery_code(
    api: Api, browser: Console
) -> None:
    browser.sign_in("officer.deu")
    page = browser.client.get("/account/second-factor")
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text)
    assert secret is not None
    assert 'src="data:image/svg+xml;base64,' in page.text
    wrong = browser.post("/account/second-factor", {"secret": secret.group(1), "code": "000000"},
                         page="/account/second-factor")  # fmt: skip
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret.group(1)).now()
    shown = browser.post(
        "/account/second-factor",
        {"secret": secret.group(1), "code": code},
        page="/account",
    )
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", shown.text)
    assert len(codes) == 10
    browser.post("/sign-out", {}, page="/home")

    again = Console(api)
    response = again.sign_in("officer.deu")
    assert response.headers["location"] == "/sign-in/second-factor"
    assert again.client.get("/home").status_code == 303, "no page before the second factor"
    reused = again.post("/sign-in/second-factor", {"code": code}, page="/sign-in/second-factor")
    assert reused.status_code == 401, ("a code is good once", reused.headers.get("location"))
    good = again.post("/sign-in/second-factor", {"code": codes[0]}, page="/sign-in/second-factor")
    assert good.status_code == 303
    assert again.client.get("/home").status_code == 200
    third = Console(api)
    third.sign_in("officer.deu")
    used = third.post("/sign-in/second-factor", {"code": codes[0]}, page="/sign-in/second-factor")
    assert used.status_code == 401, "a recovery code is good once"


def test_production_sends_a_person_without_second_factor_to_enrol(fresh_url: str) -> None:
    from tests.signin import open_api

    with open_api(fresh_url, console_require_second_factor=True) as api:
        api.add_user("border.fra", Role.BORDER_OFFICER, "FRA")
        browser = Console(api)
        browser.sign_in("border.fra")
        response = browser.client.get("/check")
        assert response.status_code == 303
        assert response.headers["location"] == "/account/second-factor"


def test_the_language_is_remembered_for_the_person_and_arabic_reads_right_to_left(
    api: Api, browser: Console
) -> None:
    browser.sign_in("border.fra")
    assert (
        browser.post("/language", {"language": "ar", "next": "/check"}, page="/home").status_code
        == 303
    )
    page = browser.client.get("/check")
    assert '<html lang="ar" dir="rtl">' in page.text
    elsewhere = Console(api)
    elsewhere.sign_in("border.fra")
    assert '<html lang="ar" dir="rtl">' in elsewhere.client.get("/home").text
    assert browser.post("/language", {"language": "fr", "next": "/home"}, page="/home")
    assert '<html lang="fr" dir="ltr">' in browser.client.get("/home").text


def test_an_unknown_page_is_a_page_for_a_browser_and_json_for_a_program(browser: Console) -> None:
    page = browser.client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    program = browser.client.get("/no/such/page", headers={"accept": "application/json"})
    assert program.json()["error"] == "not_found"


def test_guessing_is_slowed_down_as_at_the_token_endpoint(browser: Console) -> None:
    for _ in range(6):
        browser.sign_in("border.fra", "wrong password number one")
    response = browser.sign_in("border.fra", "wrong password number two")
    assert response.status_code in {401, 429}
    started = time.monotonic()
    assert time.monotonic() - started < 5


def test_a_page_polling_does_not_keep_its_session_alive(api: Api, browser: Console) -> None:
    browser.sign_in("border.fra")
    earlier = datetime.now(UTC) - timedelta(minutes=10)

    def last_seen() -> datetime:
        with api.database.session() as session:
            seen = session.scalar(select(ConsoleSession.last_seen_at))
            assert seen is not None
            return seen

    with api.database.session(write=True) as session:
        session.execute(update(ConsoleSession).values(last_seen_at=earlier))
    polled = browser.client.get("/home", headers={"HX-Request": "true", "X-Console-Poll": "1"})
    assert polled.status_code == 200
    assert abs((last_seen() - earlier).total_seconds()) < 1, "a poll counted as activity"
    assert browser.client.get("/home").status_code == 200
    assert last_seen() > earlier + timedelta(minutes=9), "a page view is activity"


def test_a_value_past_a_fields_limit_is_named_with_its_limit_in_the_viewers_language(
    browser: Console,
) -> None:
    browser.sign_in("border.fra")
    # The browser stops a paste at the limit first.
    assert 'maxlength="400"' in browser.client.get("/check?mode=mrz").text
    assert 'maxlength="100"' in browser.client.get("/check?mode=number").text
    sent = {"mode": "number", "document_number": "X" * 150, "issuing_country": "DEU"}
    refused = browser.post("/check", sent, page="/check")
    assert refused.status_code == 422
    assert "document number: at most 100 characters" in refused.text
    assert browser.post("/language", {"language": "fr", "next": "/check"}, page="/home")
    refused = browser.post("/check", sent, page="/check")
    assert "document number : au plus 100 caractères" in refused.text


def test_after_signing_out_the_sign_in_page_speaks_the_persons_language(
    api: Api, browser: Console
) -> None:
    browser.sign_in("border.fra")
    assert browser.post("/language", {"language": "ar", "next": "/home"}, page="/home")
    elsewhere = Console(api)  # another browser, which never chose a language
    elsewhere.sign_in("border.fra")
    assert elsewhere.post("/sign-out", {}, page="/home").status_code == 303
    assert '<html lang="ar" dir="rtl">' in elsewhere.client.get("/").text


def test_the_console_has_an_icon_of_its_own(browser: Console) -> None:
    page = browser.client.get("/").text
    assert '<link rel="icon" type="image/svg+xml" href="/static/console/favicon.svg">' in page
    icon = browser.client.get("/static/console/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
