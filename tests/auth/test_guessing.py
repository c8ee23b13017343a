"""Password guessing is slowed down, in the database, without locking the owner out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditFilter, search
from bordercheck.auth.guessing import Attempt, GuessingPolicy, Scope, SignInGuard
from bordercheck.auth.models import Role
from bordercheck.hits.notifications import list_notifications
from tests.signin import PASSWORD, Api, open_api

TOKEN = "/api/v1/auth/token"
DESK = "10.1.1.7"  # where the officer signs in every day


class Clock:
    """The guard's clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sign_in(api: Api, address: str, password: str, username: str = "anna.k") -> Response:
    """A password sign-in as if sent from ``address``."""
    client = TestClient(api.client.app, client=(address, 50000))
    form = {"grant_type": "password", "username": username, "password": password}
    return client.post(TOKEN, data=form)


def attach_clock(api: Api) -> Clock:
    clock = Clock()
    api.client.app.state.sign_in_guard.clock = clock  # type: ignore[attr-defined]
    return clock


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA")) as api:
        api.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
        api.add_user("root.xpo", Role.ADMIN, "XPO")
        yield api


def test_twelve_wrong_guesses_from_many_addresses_do_not_lock_the_owner_out(
    fresh_url: str,
) -> None:
    # A sign-in rate this low makes a count per account trip whatever the machine's speed;
    # what it may limit now is what one address asks of the CPU, never an account.
    with open_api(fresh_url, bureaus=("DEU",), sign_in_per_second=0.01) as api:
        api.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
        assert sign_in(api, DESK, PASSWORD).status_code == 200
        guesses = [sign_in(api, f"203.0.113.{n}", f"guess number {n}") for n in range(12)]
        assert {response.status_code for response in guesses} <= {401, 429}
        assert sign_in(api, DESK, PASSWORD).status_code == 200


def test_guesses_from_new_addresses_are_held_off_without_checking_the_password(
    api: Api,
) -> None:
    clock = attach_clock(api)
    for n in range(5):
        assert sign_in(api, f"203.0.113.{n}", f"guess number {n}").status_code == 401
    # Even the right password: from an address the account never used, this is a guess.
    held = sign_in(api, "198.51.100.9", PASSWORD)
    assert held.status_code == 429
    assert held.headers["Retry-After"] == "1"
    assert held.json()["error"] == "rate_limited"
    clock.advance(1)
    assert sign_in(api, "198.51.100.9", "guess number 5").status_code == 401
    # The sixth failure doubles the delay.
    assert sign_in(api, "198.51.100.9", PASSWORD).headers["Retry-After"] == "2"
    clock.advance(2)
    assert sign_in(api, "198.51.100.9", PASSWORD).status_code == 200


def test_an_unknown_username_is_slowed_down_like_a_known_one(api: Api) -> None:
    attach_clock(api)
    for username in ("anna.k", "nobody.here"):
        statuses = [
            sign_in(api, f"203.0.113.{n}", f"guess number {n}", username).status_code
            for n in range(6)
        ]
        assert statuses == [401] * 5 + [429], username


def test_the_count_is_kept_in_the_database_for_every_api_process(fresh_url: str) -> None:
    with open_api(fresh_url, bureaus=("DEU",)) as node_a:
        node_a.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
        attach_clock(node_a)
        for n in range(5):
            assert sign_in(node_a, f"203.0.113.{n}", f"guess number {n}").status_code == 401
    with open_api(fresh_url, bureaus=()) as node_b:  # another process, or a restart
        attach_clock(node_b)
        assert sign_in(node_b, "203.0.113.99", "guess number 5").status_code == 429


def test_one_address_spraying_many_accounts_is_held_off(api: Api) -> None:
    attach_clock(api)
    for n in range(20):
        response = sign_in(api, "192.0.2.66", "Summer2026!!", f"officer.{n}")
        assert response.status_code == 401, n
    assert sign_in(api, "192.0.2.66", "Summer2026!!", "officer.20").status_code == 429
    # The gateway's other officers at their own addresses are not affected.
    assert sign_in(api, DESK, PASSWORD).status_code == 200


def test_an_owners_address_is_judged_by_its_own_failures_only(api: Api) -> None:
    clock = attach_clock(api)
    assert sign_in(api, DESK, PASSWORD).status_code == 200
    for n in range(30):
        sign_in(api, f"203.0.113.{n}", f"guess number {n}")
        clock.advance(3600)
    assert sign_in(api, DESK, "a typo in it").status_code == 401
    assert sign_in(api, DESK, PASSWORD).status_code == 200
    # Someone at the owner's address gets the same slow-down there.
    for n in range(5):
        assert sign_in(api, DESK, f"inside guess {n}").status_code == 401
    assert sign_in(api, DESK, PASSWORD).status_code == 429


def test_sustained_guessing_alerts_administrators_once_per_episode(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = attach_clock(api)
    statuses = []
    for n in range(25):
        statuses.append(sign_in(api, f"203.0.113.{n}", f"guess number {n}").status_code)
        clock.advance(900)
    assert statuses == [401] * 25
    with api.database.session() as session:
        for bureau in ("XPO", "DEU"):
            [notice] = list_notifications(session, bureau)
            assert notice.kind == "sign_in_guessing"
            assert "20 failed sign-ins as 'anna.k'" in notice.text
        assert list_notifications(session, "FRA") == []
        entries = search(session, AuditFilter(action="auth.guessing_detected")).entries
        assert [(e.subject, e.bureau_code) for e in entries] == [("user:anna.k", "DEU")]
        assert json.loads(entries[0].details)["failures"] == 20
    logged = capsys.readouterr().err
    assert logged.count("sign_in.guessing") == 1
    assert "guess number" not in logged

    clock.advance(GuessingPolicy().quiet_period.total_seconds())  # the episode ends
    for n in range(20):
        sign_in(api, f"203.0.113.{n}", f"second wave {n}")
        clock.advance(900)
    with api.database.session() as session:
        assert len(list_notifications(session, "XPO")) == 2


def test_a_day_of_guessing_gets_at_most_110_guesses(session: Session) -> None:
    clock = Clock()
    guard = SignInGuard(clock=clock)
    start, guesses, n = clock.now, 0, 0
    while clock.now < start + timedelta(days=1):
        n += 1
        attempt = Attempt("anna.k", f"203.0.{n // 250}.{n % 250}")  # a new address each time
        wait = guard.retry_after(session, attempt)
        if wait is None:
            guard.record_failure(session, attempt)
            guesses += 1
        else:
            clock.advance(wait)
    assert guesses <= 110
    assert guesses >= 100  # the bound is tight: the delays do not grow past the cap


def test_the_delay_doubles_from_the_free_failures_up_to_the_cap() -> None:
    policy = GuessingPolicy()
    delays = [policy.delay(Scope.ACCOUNT, n).total_seconds() for n in range(1, 18)]
    assert delays == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert policy.delay(Scope.ADDRESS, 19) == timedelta(0)
    assert policy.delay(Scope.ACCOUNT, 10_000) == policy.max_delay
