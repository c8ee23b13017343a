"""Signing in and out over HTTP, what refuses a token, and the administrators' endpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bordercheck.auth.models import Role
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import Principal, TokenAuthority
from tests.signin import PASSWORD, Api, open_api

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url) as api:
        api.add_user("officer.deu", Role.BUREAU_OFFICER, "DEU")
        yield api


def test_a_person_signs_in_with_the_password_grant(api: Api) -> None:
    response = api.client.post(
        TOKEN, data={"grant_type": "password", "username": "Officer.DEU", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 60 * 60
    me = api.client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "kind": "user",
        "id": me.json()["id"],
        "name": "officer.deu",
        "role": "bureau_officer",
        "bureau": "DEU",
    }


def test_a_machine_signs_in_with_client_credentials_in_the_form_or_basic(api: Api) -> None:
    client_id, secret = api.add_client("Frankfurt gates", Role.BORDER_OFFICER, "DEU")
    form = api.client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    basic = api.client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    for response in (form, basic):
        assert response.status_code == 200, response.text
        assert response.json()["expires_in"] == 15 * 60
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        me = api.client.get(ME, headers=headers).json()
        assert me == {
            "kind": "client",
            "id": client_id,
            "name": "Frankfurt gates",
            "role": "border_officer",
            "bureau": "DEU",
        }


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "username": "officer.deu", "password": "wrong password!"},
        {"grant_type": "password", "username": "nobody", "password": PASSWORD},
        {"grant_type": "client_credentials", "client_id": "bcc_nobody", "client_secret": "x"},
    ],
)
def test_a_bad_credential_gets_401_without_saying_which_part(
    api: Api, form: dict[str, str]
) -> None:
    response = api.client.post(TOKEN, data=form)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["message"] == "the credentials are not valid"


def test_a_wrong_client_secret_gets_401(api: Api) -> None:
    client_id, secret = api.add_client("gates", Role.BORDER_OFFICER, "DEU")
    response = api.client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret + "x")
    )
    assert response.status_code == 401
    assert response.json()["message"] == "the credentials are not valid"


def test_an_unknown_grant_or_a_missing_field_is_named(api: Api) -> None:
    unknown = api.client.post(TOKEN, data={"grant_type": "implicit"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "grant_type"
    missing = api.client.post(TOKEN, data={"grant_type": "password", "username": "officer.deu"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "password", "reason": "is required"}]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic b2ZmaWNlcjp4"}],
)
def test_without_a_valid_token_the_answer_is_401_bearer(api: Api, headers: dict[str, str]) -> None:
    response = api.client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "/api/v1/auth/token" in response.json()["message"]


def test_an_expired_token_gets_401(api: Api) -> None:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    an_hour_and_more_ago = time.time() - 61 * 60
    old = TokenAuthority(settings, RevocationList(5), clock=lambda: an_hour_and_more_ago)
    principal = Principal("user", "1", "officer.deu", Role.BUREAU_OFFICER, "DEU")
    token = old.issue(principal).access_token
    response = api.client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_a_revoked_token_gets_401_and_the_others_still_work(api: Api) -> None:
    first, second = api.sign_in("officer.deu"), api.sign_in("officer.deu")
    assert api.client.post("/api/v1/auth/revoke", headers=first).status_code == 204
    refused = api.client.get(ME, headers=first)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["message"]
    assert api.client.get(ME, headers=second).status_code == 200


def test_a_revocation_reaches_the_other_api_nodes(fresh_url: str) -> None:
    with open_api(fresh_url) as node_a:
        node_a.add_user("officer.deu", Role.BUREAU_OFFICER, "DEU")
        headers = node_a.sign_in("officer.deu")
        # Node B reloads revocations at every request: the window is the setting, here 0 s.
        with open_api(fresh_url, bureaus=(), revocation_refresh_seconds=0) as node_b:
            assert node_b.client.get(ME, headers=headers).status_code == 200
            node_a.client.post("/api/v1/auth/revoke", headers=headers)
            assert node_b.client.get(ME, headers=headers).status_code == 401


def test_a_deactivated_users_tokens_stop_working(api: Api) -> None:
    api.add_user("admin", Role.ADMIN, "XPO")
    admin, officer = api.sign_in("admin"), api.sign_in("officer.deu")
    response = api.client.post("/api/v1/users/officer.deu/deactivate", headers=admin)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert api.client.get(ME, headers=officer).status_code == 401
    again = api.client.post(
        TOKEN, data={"grant_type": "password", "username": "officer.deu", "password": PASSWORD}
    )
    assert again.status_code == 401


def test_a_deactivated_clients_tokens_stop_working(api: Api) -> None:
    api.add_user("admin", Role.ADMIN, "XPO")
    admin = api.sign_in("admin")
    client_id, secret = api.add_client("gates", Role.BORDER_OFFICER, "DEU")
    token = api.client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get(ME, headers=headers).status_code == 200
    deactivated = api.client.post(f"/api/v1/clients/{client_id}/deactivate", headers=admin)
    assert deactivated.json()["active"] is False
    assert api.client.get(ME, headers=headers).status_code == 401
    again = api.client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert again.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users/officer.deu/deactivate"),
        ("GET", "/api/v1/clients"),
        ("POST", "/api/v1/clients/bcc_x/deactivate"),
    ],
)
def test_only_administrators_manage_users_and_clients(api: Api, method: str, path: str) -> None:
    officer = api.sign_in("officer.deu")
    response = api.client.request(method, path, headers=officer)
    assert response.status_code == 403
    assert "admin" in response.json()["message"]


def test_an_administrator_adds_and_lists_users_and_clients(api: Api) -> None:
    admin = api.bearer(Role.ADMIN, "XPO", name="root")
    added = api.client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "border.fra", "bureau": "FRA", "role": "border_officer",
              "password": PASSWORD},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["bureau"] == "FRA"
    assert api.sign_in("border.fra")
    users = api.client.get("/api/v1/users", headers=admin).json()
    assert [u["username"] for u in users] == ["border.fra", "officer.deu", "root"]

    created = api.client.post(
        "/api/v1/clients",
        headers=admin,
        json={"name": "Roissy gates", "bureau": "FRA", "role": "border_officer"},
    )
    assert created.status_code == 201
    new = created.json()
    signed_in = api.client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        auth=(new["client_id"], new["client_secret"]),
    )
    assert signed_in.status_code == 200
    listed = api.client.get("/api/v1/clients", headers=admin).json()
    assert [c["client_id"] for c in listed] == [new["client_id"]]
    assert "client_secret" not in listed[0]


def test_refusals_of_bad_user_data_name_the_field(api: Api) -> None:
    admin = api.bearer(Role.ADMIN, "XPO", name="root")
    short = api.client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "ben", "bureau": "DEU", "role": "admin", "password": "short"},
    )
    assert short.status_code == 422
    assert short.json()["detail"] == {"field": "password"}
    role = api.client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "ben", "bureau": "DEU", "role": "king", "password": PASSWORD},
    )
    assert role.status_code == 422
    assert role.json()["errors"][0]["field"] == "role"


def test_an_administrator_cannot_deactivate_themselves(api: Api) -> None:
    api.add_user("admin", Role.ADMIN, "XPO")
    admin = api.sign_in("admin")
    response = api.client.post("/api/v1/users/admin/deactivate", headers=admin)
    assert response.status_code == 409
    assert api.client.get(ME, headers=admin).status_code == 200


def test_bureaus_are_listed_to_callers_and_added_by_administrators(api: Api) -> None:
    officer = api.sign_in("officer.deu")
    listed = api.client.get("/api/v1/bureaus", headers=officer).json()
    assert {b["country_code"] for b in listed} == {"DEU", "FRA", "XPO"}
    refused = api.client.post(
        "/api/v1/bureaus", headers=officer, json={"country_code": "ITA", "name": "NCB Rome"}
    )
    assert refused.status_code == 403
    admin = api.bearer(Role.ADMIN, "XPO", name="root")
    added = api.client.post(
        "/api/v1/bureaus", headers=admin, json={"country_code": "ita", "name": "NCB Rome"}
    )
    assert added.status_code == 201
    assert added.json()["country_code"] == "ITA"
