"""An account's life: password policy, the user's own change, an administrator's reset,
deactivation and reactivation; each audited with who did it to whom."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bordercheck.audit.service import AuditFilter, search
from bordercheck.auth.models import Role
from tests.signin import PASSWORD, Api, open_api

TOKEN = "/api/v1/auth/token"
PASSWORD_URL = "/api/v1/auth/password"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "a longer passphrase of my own"


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url) as api:
        api.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
        api.add_user("root", Role.ADMIN, "DEU")
        yield api


def token_for(api: Api, username: str, password: str) -> int:
    form = {"grant_type": "password", "username": username, "password": password}
    return api.client.post(TOKEN, data=form).status_code


def audited(api: Api, action: str) -> list[tuple[str, str]]:
    with api.database.session() as session:
        entries = search(session, AuditFilter(action=action)).entries
        return [(entry.actor, entry.subject) for entry in entries]


def change(
    api: Api, current: str, new: str, username: str = "anna.k"
) -> tuple[int, dict[str, Any]]:
    body = {"username": username, "current_password": current, "new_password": new}
    response = api.client.post(PASSWORD_URL, json=body)
    return response.status_code, response.json()


def test_a_user_changes_their_password_and_their_other_tokens_stop_working(api: Api) -> None:
    old = api.sign_in("anna.k")
    status, body = change(api, PASSWORD, NEW_PASSWORD)
    assert status == 200
    new = {"Authorization": f"Bearer {body['access_token']}"}
    assert api.client.get(ME, headers=new).json()["name"] == "anna.k"
    assert api.client.get(ME, headers=old).status_code == 401
    assert token_for(api, "anna.k", PASSWORD) == 401
    assert token_for(api, "anna.k", NEW_PASSWORD) == 200
    assert audited(api, "user.password_changed") == [("anna.k", "user:anna.k")]


def test_a_change_needs_the_current_password(api: Api) -> None:
    status, body = change(api, "not my password at all", NEW_PASSWORD)
    assert status == 401
    assert body["error"] == "unauthorized"
    assert token_for(api, "anna.k", PASSWORD) == 200
    assert audited(api, "user.password_changed") == []


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("short one", "at least 12 characters"),
        ("anna.k-is-my-password", "may not contain the username"),
        ("password1234", "among the most common"),
        ("Qwerty123456", "among the most common"),
        ("abababababab", "more than three different characters"),
        (PASSWORD, "must differ from the current one"),
    ],
)
def test_a_weak_new_password_is_refused_saying_why(api: Api, new: str, reason: str) -> None:
    status, body = change(api, PASSWORD, new)
    assert status == 422
    assert body["error"] == "invalid"
    assert reason in body["message"]
    assert body["message"].startswith("new_password: ")
    assert body["detail"] == {"field": "new_password"}
    assert token_for(api, "anna.k", PASSWORD) == 200


def test_an_administrator_adding_a_user_gets_the_same_policy(api: Api) -> None:
    admin = api.sign_in("root")
    body = {"username": "ben.m", "bureau": "DEU", "role": "border_officer"}
    for password, reason in (("ben.m.ben.m.ben.m", "username"), ("123456789012", "common")):
        response = api.client.post(
            "/api/v1/users", json={**body, "password": password}, headers=admin
        )
        assert response.status_code == 422
        assert reason in response.json()["message"]


def test_an_administrators_reset_forces_a_change_at_the_next_sign_in(api: Api) -> None:
    admin, officer = api.sign_in("root"), api.sign_in("anna.k")
    reset = api.client.post("/api/v1/users/anna.k/password", headers=admin)
    assert reset.status_code == 200
    temporary = reset.json()["temporary_password"]
    assert api.client.get(ME, headers=officer).status_code == 401
    assert token_for(api, "anna.k", PASSWORD) == 401

    refused = api.client.post(
        TOKEN, data={"grant_type": "password", "username": "anna.k", "password": temporary}
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "password_change_required"
    assert "POST /api/v1/auth/password" in refused.json()["message"]
    users = api.client.get("/api/v1/users", headers=admin).json()
    assert next(u for u in users if u["username"] == "anna.k")["must_change_password"]

    status, _body = change(api, temporary, NEW_PASSWORD)
    assert status == 200
    assert token_for(api, "anna.k", NEW_PASSWORD) == 200
    assert audited(api, "user.password_reset") == [("root", "user:anna.k")]


def test_only_administrators_reset_and_reactivate(api: Api) -> None:
    officer = api.sign_in("anna.k")
    for path in ("/api/v1/users/root/password", "/api/v1/users/root/reactivate"):
        assert api.client.post(path, headers=officer).status_code == 403
    missing = api.client.post("/api/v1/users/nobody/reactivate", headers=api.sign_in("root"))
    assert missing.status_code == 404
    assert "there is no user 'nobody'" in missing.json()["message"]


def test_a_deactivated_user_can_neither_sign_in_nor_use_a_token_until_reactivated(
    api: Api,
) -> None:
    admin, before = api.sign_in("root"), api.sign_in("anna.k")
    assert api.client.post("/api/v1/users/anna.k/deactivate", headers=admin).status_code == 200
    assert token_for(api, "anna.k", PASSWORD) == 401
    assert api.client.get(ME, headers=before).status_code == 401

    reactivated = api.client.post("/api/v1/users/anna.k/reactivate", headers=admin)
    assert reactivated.status_code == 200
    assert reactivated.json()["active"] is True
    after = api.sign_in("anna.k")
    assert api.client.get(ME, headers=after).status_code == 200
    # Tokens issued before the deactivation stay dead.
    assert api.client.get(ME, headers=before).status_code == 401
    assert audited(api, "user.deactivated") == [("root", "user:anna.k")]
    assert audited(api, "user.reactivated") == [("root", "user:anna.k")]
