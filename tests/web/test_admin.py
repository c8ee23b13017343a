"""The administration pages over HTTP: people, clients, bureaus, kits and the audit trail,
for administrators only, through the services the API's administration routes call."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from bordercheck.audit.checkpointing import CheckpointWriter
from bordercheck.audit.models import AuditEntry
from bordercheck.auth import second_factor
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role, User
from bordercheck.settings import Settings
from bordercheck.web.models import ConsoleSession
from tests.audit.conftest import edit_directly
from tests.signin import PASSWORD, Api, open_api
from tests.web.conftest import Console

ADMIN_PAGES = [
    "/admin",
    "/admin/bureaus",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/border.fra",
    "/admin/clients",
    "/admin/kits",
    "/admin/audit",
    "/admin/audit/verify",
]
ADMIN_WRITES = [
    ("/admin/bureaus", {"country": "ESP", "name": "NCB Madrid"}),
    ("/admin/users", {"username": "eve.x", "bureau": "DEU", "role": "admin", "password": PASSWORD}),
    ("/admin/users/border.fra/deactivate", {}),
    ("/admin/users/border.fra/reactivate", {}),
    ("/admin/users/border.fra/password", {}),
    ("/admin/users/border.fra/second-factor", {}),
    ("/admin/clients", {"name": "gates", "bureau": "DEU", "role": "border_officer"}),
    ("/admin/clients/bcc_0000/deactivate", {}),
    ("/admin/kits/kit_0000/revoke", {}),
]


def _sessions(api: Api, username: str) -> int:
    with api.database.session() as session:
        user = auth_service.get_user(session, username)
        rows = session.scalars(select(ConsoleSession.id).where(ConsoleSession.user_id == user.id))
        return len(list(rows))


def _actions(api: Api) -> list[str]:
    with api.database.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_bureau_officer_may_open_no_administration_page(browser: Console, path: str) -> None:
    browser.sign_in("officer.deu")
    response = browser.client.get(path)
    assert response.status_code == 403
    assert "You may not open this page" in response.text
    assert "<html" in response.text


def test_a_bureau_officer_changes_nothing_through_the_administration_forms(
    api: Api, browser: Console
) -> None:
    browser.sign_in("officer.deu")
    before = _actions(api)
    for path, data in ADMIN_WRITES:
        response = browser.post(path, data, page="/home")
        assert response.status_code == 403, path
    assert _actions(api) == before
    assert "/admin" not in browser.client.get("/home").text, "no menu entry either"


def test_every_administration_page_opens_for_an_administrator(browser: Console) -> None:
    browser.sign_in("admin.xpo")
    assert 'href="/admin"' in browser.client.get("/home").text
    for path in ADMIN_PAGES:
        response = browser.client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]


def test_an_administrator_adds_a_person_who_can_then_sign_in(api: Api, browser: Console) -> None:
    browser.sign_in("admin.xpo")
    data = {"username": "Nadia.B", "bureau": "FRA", "role": "bureau_officer", "password": PASSWORD}
    response = browser.post("/admin/users", data, page="/admin/users/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users/nadia.b?done=added"
    page = browser.client.get(response.headers["location"])
    assert "nadia.b was added" in page.text
    assert "Bureau officer" in page.text
    assert "user.added" in _actions(api)
    assert Console(api).sign_in("nadia.b").status_code == 303


def test_a_person_who_cannot_be_added_is_shown_the_form_again_saying_why(
    browser: Console,
) -> None:
    browser.sign_in("admin.xpo")
    weak = {"username": "paul.r", "bureau": "FRA", "role": "analyst", "password": "short"}
    response = browser.post("/admin/users", weak, page="/admin/users/new")
    assert response.status_code == 422
    assert 'href="#password"' in response.text
    assert "at least 12 characters" in response.text
    assert 'value="paul.r"' in response.text, "what was typed is kept"
    taken = {**weak, "username": "border.fra", "password": PASSWORD}
    response = browser.post("/admin/users", taken, page="/admin/users/new")
    assert response.status_code == 422
    assert "the username &#39;border.fra&#39; is taken" in response.text
    no_role = {**weak, "role": "", "password": PASSWORD}
    response = browser.post("/admin/users", no_role, page="/admin/users/new")
    assert response.status_code == 422
    assert 'href="#role"' in response.text


def test_a_password_reset_shows_a_temporary_password_once_and_ends_their_sessions(
    api: Api, browser: Console
) -> None:
    person = Console(api)
    assert person.sign_in("border.fra").status_code == 303
    browser.sign_in("admin.xpo")
    response = browser.post("/admin/users/border.fra/password", {}, page="/admin/users/border.fra")
    assert response.status_code == 200
    temporary = re.search(r'<code class="secret">([^<]+)</code>', response.text)
    assert temporary is not None
    assert temporary.group(1) not in browser.client.get("/admin/users/border.fra").text
    assert person.client.get("/check").status_code == 303, "their session ended"
    assert "user.password_reset" in _actions(api)
    again = Console(api)
    signed_in = again.sign_in("border.fra", temporary.group(1))
    assert signed_in.status_code == 303
    assert again.client.get("/check").headers["location"] == "/account/password"


def test_a_second_factor_reset_forgets_it_and_ends_the_persons_sessions(
    api: Api, browser: Console
) -> None:
    settings: Settings = api.client.app.state.settings  # type: ignore[attr-defined]
    with api.database.session(write=True) as session:
        user = auth_service.get_user(session, "officer.deu")
        enrolment = second_factor.new_enrolment()
        code = pyotp.TOTP(enrolment.secret).now()
        second_factor.confirm_enrolment(
            session, user, enrolment, code, secret_key=settings.secret_key
        )
    person = Console(api)
    person.sign_in("officer.deu")
    assert _sessions(api, "officer.deu") == 1
    browser.sign_in("admin.xpo")
    page = browser.client.get("/admin/users/officer.deu")
    assert "Reset the second factor" in page.text
    response = browser.post("/admin/users/officer.deu/second-factor", {}, page="/admin/users")
    assert response.status_code == 303
    assert "was reset" in browser.client.get(response.headers["location"]).text
    assert _sessions(api, "officer.deu") == 0
    with api.database.session() as session:
        assert not second_factor.enabled(auth_service.get_user(session, "officer.deu"))
    assert "auth.second_factor_reset" in _actions(api)


def test_a_deactivated_person_is_signed_out_and_an_administrator_cannot_deactivate_themself(
    api: Api, browser: Console
) -> None:
    person = Console(api)
    person.sign_in("border.fra")
    browser.sign_in("admin.xpo")
    response = browser.post("/admin/users/border.fra/deactivate", {}, page="/admin/users")
    assert response.status_code == 303
    assert person.client.get("/check").status_code == 303
    assert Console(api).sign_in("border.fra").status_code == 401
    page = browser.client.get("/admin/users/admin.xpo")
    assert "/admin/users/admin.xpo/deactivate" not in page.text, "no button for oneself"
    refused = browser.post("/admin/users/admin.xpo/deactivate", {}, page="/admin/users")
    assert refused.status_code == 409
    assert "another administrator" in refused.text
    back = browser.post("/admin/users/border.fra/reactivate", {}, page="/admin/users")
    assert back.status_code == 303
    assert Console(api).sign_in("border.fra").status_code == 303


def test_a_new_client_secret_is_shown_once_and_works_until_the_client_is_deactivated(
    api: Api, browser: Console
) -> None:
    browser.sign_in("admin.xpo")
    data = {"name": "CDG gates", "bureau": "FRA", "role": "border_officer"}
    response = browser.post("/admin/clients", data, page="/admin/clients")
    assert response.status_code == 200
    client_id, secret = re.findall(r'<code class="secret">([^<]+)</code>', response.text)
    assert secret not in browser.client.get("/admin/clients").text
    grant = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = api.client.post("/api/v1/auth/token", data=grant)
    assert token.status_code == 200
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    gone = browser.post(f"/admin/clients/{client_id}/deactivate", {}, page="/admin/clients")
    assert gone.status_code == 303
    assert api.client.get("/api/v1/auth/me", headers=bearer).status_code == 401, "at once"
    assert api.client.post("/api/v1/auth/token", data=grant).status_code == 401


def test_a_bureau_is_added_and_a_bad_country_named(api: Api, browser: Console) -> None:
    browser.sign_in("admin.xpo")
    added = browser.post("/admin/bureaus", {"country": "esp", "name": "NCB Madrid"})
    assert added.status_code == 303
    assert "NCB Madrid" in browser.client.get("/admin/bureaus").text
    wrong = browser.post("/admin/bureaus", {"country": "QQQ", "name": "Nowhere"})
    assert wrong.status_code == 422
    assert 'href="#country"' in wrong.text
    again = browser.post("/admin/bureaus", {"country": "ESP", "name": "NCB Madrid"})
    assert again.status_code == 422
    assert "already exists" in again.text


def test_a_kit_is_listed_and_revoked_and_then_refused(api: Api, browser: Console) -> None:
    client_id, _ = api.add_client("kit client", Role.BORDER_OFFICER, "FRA")
    caller = api.bearer(Role.BORDER_OFFICER, "FRA", name=client_id, kind="client")
    kit = api.client.post("/api/v1/edge/kits", headers=caller).json()["kit_id"]
    browser.sign_in("admin.xpo")
    page = browser.client.get("/admin/kits")
    assert kit in page.text
    assert "Never" in page.text
    response = browser.post(f"/admin/kits/{kit}/revoke", {}, page="/admin/kits")
    assert response.status_code == 303
    assert "Revoked" in browser.client.get("/admin/kits").text
    refused = api.client.get("/api/v1/edge/changes?since=0", headers=caller | {"X-Edge-Kit": kit})
    assert refused.status_code in (403, 410)
    missing = browser.post("/admin/kits/kit_nothere/revoke", {}, page="/admin/kits")
    assert missing.status_code == 404


def test_the_audit_trail_is_searched_with_the_apis_filters(api: Api, browser: Console) -> None:
    browser.sign_in("admin.xpo")
    found = browser.client.get("/admin/audit", params={"action": "user.added"})
    assert found.status_code == 200
    assert "user:officer.deu" in found.text
    assert "auth.signed_in" not in found.text
    prefix = browser.client.get("/admin/audit", params={"action": "auth."})
    assert "auth.signed_in" in prefix.text
    bureau = browser.client.get("/admin/audit", params={"action": "user.added", "bureau": "fra"})
    assert "user:border.fra" in bureau.text
    assert "user:officer.deu" not in bureau.text
    later = browser.client.get("/admin/audit", params={"since": "2999-01-01"})
    assert "No entry matches" in later.text
    wrong = browser.client.get("/admin/audit", params={"since": "yesterday"})
    assert wrong.status_code == 422
    assert 'href="#since"' in wrong.text
    crossed = browser.client.get(
        "/admin/audit", params={"since": "2026-12-31", "until": "2026-01-01"}
    )
    assert crossed.status_code == 422
    assert "The To day comes before the From day." in crossed.text


def test_the_audit_trail_pages_older_entries(api: Api, browser: Console) -> None:
    for number in range(60):
        api.add_user(f"person.{number}", Role.ANALYST, "DEU")
    browser.sign_in("admin.xpo")
    first = browser.client.get("/admin/audit", params={"action": "user.added"})
    older = re.search(r'href="(/admin/audit\?[^"]+before=\d+)"', first.text)
    assert older is not None
    second = browser.client.get(older.group(1).replace("&amp;", "&"))
    assert "user:officer.deu" in second.text
    assert "user:officer.deu" not in first.text


def test_the_chain_is_verified_and_an_altered_entry_named(api: Api, browser: Console) -> None:
    browser.sign_in("admin.xpo")
    page = browser.client.get("/admin/audit/verify")
    assert 'data-verified="intact"' in page.text
    assert "no checkpoint directory" in page.text
    with api.database.session() as session:
        seq = session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "user.added"))
    edit_directly(api.database, "UPDATE audit_entries SET actor = 'someone' WHERE seq = :s", s=seq)
    page = browser.client.get("/admin/audit/verify")
    assert 'data-verified="broken"' in page.text
    assert f"broken at entry {seq}" in page.text


def test_the_latest_checkpoint_is_shown_when_the_server_signs_them(
    fresh_url: str, tmp_path: Path
) -> None:
    seed = base64.b64encode(bytes(range(32))).decode()
    settings = {"audit_signing_key": seed, "audit_checkpoint_dir": tmp_path / "checkpoints"}
    with open_api(fresh_url, **settings) as api:
        api.add_user("root.admin", Role.ADMIN, "DEU")
        browser = Console(api)
        browser.sign_in("root.admin")
        writer = CheckpointWriter(api.database, api.client.app.state.settings)  # type: ignore[attr-defined]
        written = writer.write_due()
        assert written is not None
        page = browser.client.get("/admin/audit/verify")
        assert 'data-verified="intact"' in page.text
        assert "data-latest-checkpoint" in page.text
        assert written.hash in page.text


def test_an_administration_form_without_its_token_is_refused(api: Api, browser: Console) -> None:
    browser.sign_in("admin.xpo")
    response = browser.client.post("/admin/users/border.fra/deactivate")
    assert response.status_code == 403
    with api.database.session() as session:
        assert session.scalar(select(User.active).where(User.username == "border.fra"))
