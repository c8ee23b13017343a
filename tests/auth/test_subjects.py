"""A token counts only for a user or client that exists and is active, whatever signed it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
from sqlalchemy import event, update

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role, User
from bordercheck.auth.subjects import REFRESH_SECONDS, KnownSubjects
from bordercheck.auth.tokens import ALGORITHM, ISSUER, Principal, signing_key
from bordercheck.db import Database
from bordercheck.errors import Unauthorized
from tests.signin import Api, open_api

ME = "/api/v1/auth/me"
# The secret key every development checkout once ran with, published in the source.
PUBLISHED_DEV_KEY = "dev-secret-key-change-me"
RECORD = {"document_number": "C01X00T47", "issuing_country": "FRA",
          "document_type": "passport", "status": "stolen"}  # fmt: skip
NOBODY = Principal("user", "999", "ghost", Role.ADMIN, "XPO")


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url) as api:
        api.add_user("officer.deu", Role.BUREAU_OFFICER, "DEU")
        yield api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_for_a_user_that_does_not_exist_is_refused(api: Api) -> None:
    forged = bearer(api.tokens.issue(NOBODY).access_token)
    users = api.client.get("/api/v1/users", headers=forged)
    assert users.status_code == 401
    assert users.json()["message"] == "the token names a user that does not exist"
    created = api.client.post("/api/v1/records", headers=forged, json=RECORD)
    assert created.status_code == 401
    for principal in (
        Principal("client", "bcc_nobody", "gates", Role.BORDER_OFFICER, "FRA"),
        Principal("user", "officer.deu", "officer.deu", Role.ADMIN, "XPO"),  # not an id
    ):
        refused = api.client.get(ME, headers=bearer(api.tokens.issue(principal).access_token))
        assert refused.status_code == 401


def test_a_token_signed_with_the_published_development_key_is_refused(api: Api) -> None:
    now = int(time.time())
    claims = {
        **{"iss": ISSUER, "sub": "1", "kind": "user", "name": "officer.deu"},
        **{"role": "admin", "bureau": "XPO", "jti": "x" * 32, "iat": now, "exp": now + 600},
    }
    forged = bearer(jwt.encode(claims, signing_key(PUBLISHED_DEV_KEY), algorithm=ALGORITHM))
    assert api.client.get("/api/v1/users", headers=forged).status_code == 401


def test_a_token_claiming_another_role_than_its_users_is_refused(api: Api) -> None:
    with api.database.session() as session:
        user = auth_service.get_user(session, "officer.deu")
        principal = Principal("user", str(user.id), "officer.deu", Role.ADMIN, "DEU")
    response = api.client.get(ME, headers=bearer(api.tokens.issue(principal).access_token))
    assert response.status_code == 401
    assert "no longer has the role or bureau" in response.json()["message"]


def refused_within(api: Api, headers: dict[str, str], seconds: float) -> float:
    """Seconds until a request with ``headers`` is refused (asking again until it is)."""
    start = time.monotonic()
    while api.client.get(ME, headers=headers).status_code != 401:
        assert time.monotonic() - start < seconds, f"still accepted after {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - start


def deactivate_elsewhere(database: Database, username: str) -> None:
    # As `bordercheck users deactivate` or another API node does: not through this process.
    with database.session(write=True) as session:
        auth_service.deactivate_user(session, username)


def test_a_user_deactivated_by_another_process_is_refused_within_a_second(api: Api) -> None:
    officer = api.sign_in("officer.deu")
    assert api.client.get(ME, headers=officer).status_code == 200
    deactivate_elsewhere(api.database, "officer.deu")
    # A second, and a little for the request that notices it.
    assert refused_within(api, officer, REFRESH_SECONDS + 0.5) <= REFRESH_SECONDS + 0.5
    assert "deactivated" in api.client.get(ME, headers=officer).json()["message"]


def test_a_client_deactivated_by_another_process_is_refused_within_a_second(api: Api) -> None:
    client_id, secret = api.add_client("Frankfurt gates", Role.BORDER_OFFICER, "DEU")
    token = api.client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    assert api.client.get(ME, headers=bearer(token)).status_code == 200
    with api.database.session(write=True) as session:
        auth_service.deactivate_client(session, client_id)
    assert refused_within(api, bearer(token), REFRESH_SECONDS + 0.5) <= REFRESH_SECONDS + 0.5


def test_a_role_changed_in_the_database_refuses_the_old_tokens_within_a_second(api: Api) -> None:
    officer = api.sign_in("officer.deu")
    assert api.client.get(ME, headers=officer).status_code == 200
    with api.database.session(write=True) as session:
        session.execute(
            update(User).where(User.username == "officer.deu").values(role="border_officer")
        )
    assert refused_within(api, officer, REFRESH_SECONDS + 0.5) <= REFRESH_SECONDS + 0.5


def test_a_known_subject_is_checked_without_the_database_until_its_copy_is_a_second_old(
    api: Api,
) -> None:
    now = [100.0]
    subjects = KnownSubjects(clock=lambda: now[0])
    with api.database.session() as session:
        user = auth_service.get_user(session, "officer.deu")
        officer = Principal("user", str(user.id), "officer.deu", Role.BUREAU_OFFICER, "DEU")
    assert subjects.needs_refresh(officer)
    subjects.refresh(api.database, officer)
    subjects.check(officer)
    now[0] += REFRESH_SECONDS * 0.9
    assert not subjects.needs_refresh(officer)  # the hot path: no query
    deactivate_elsewhere(api.database, "officer.deu")
    now[0] += REFRESH_SECONDS * 0.2
    assert subjects.needs_refresh(officer)
    subjects.refresh(api.database, officer)
    with pytest.raises(Unauthorized, match="deactivated"):
        subjects.check(officer)


def test_a_subject_first_seen_while_the_copy_reloads_is_kept(api: Api) -> None:
    """Two people's first requests at once: one's look-up lands while the other's request
    reloads the copy; the reloaded copy must not drop it (its request was told 401)."""
    now = [100.0]
    subjects = KnownSubjects(clock=lambda: now[0])
    api.add_user("officer.fra", Role.BUREAU_OFFICER, "FRA")
    with api.database.session() as session:
        ids = {n: auth_service.get_user(session, n).id for n in ("officer.deu", "officer.fra")}
    first = Principal("user", str(ids["officer.deu"]), "officer.deu", Role.BUREAU_OFFICER, "DEU")
    second = Principal("user", str(ids["officer.fra"]), "officer.fra", Role.BUREAU_OFFICER, "FRA")
    queries = [0]

    def meanwhile(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            return  # BEGIN and the like
        queries[0] += 1
        if queries[0] == 2:  # the reload's query, after the first one's own look-up
            subjects.refresh(api.database, second)

    now[0] += REFRESH_SECONDS * 2  # the copy is old: the next refresh reloads it
    event.listen(api.database.engine, "before_cursor_execute", meanwhile)
    try:
        subjects.refresh(api.database, first)
    finally:
        event.remove(api.database.engine, "before_cursor_execute", meanwhile)
    assert queries[0] >= 3
    subjects.check(first)
    subjects.check(second)
