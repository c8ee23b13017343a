"""Tokens: what they carry, what refuses them, and how soon a revocation reaches a process."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.models import RevokedToken, Role
from bordercheck.auth.revocation import (
    RevocationList,
    revoke_subject,
    revoke_token,
)
from bordercheck.auth.tokens import Principal, TokenAuthority, signing_key
from bordercheck.db import Database
from bordercheck.errors import ServiceUnavailable, Unauthorized
from bordercheck.logs import configure_logging
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

SETTINGS = Settings(env="test", secret_key="s" * 40)
OFFICER = Principal("user", "7", "officer.deu", Role.BUREAU_OFFICER, "DEU")
GATE = Principal("client", "bcc_0123", "Frankfurt gates", Role.BORDER_OFFICER, "DEU")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def authority(
    revocations: RevocationList | None = None,
    settings: Settings = SETTINGS,
    clock: Callable[[], float] = time.time,
) -> TokenAuthority:
    return TokenAuthority(settings, revocations or RevocationList(refresh_seconds=5), clock)


def test_a_token_carries_who_the_caller_is() -> None:
    tokens = authority()
    for principal, lifetime in ((OFFICER, 60 * 60), (GATE, 15 * 60)):
        issued = tokens.issue(principal)
        assert issued.expires_in == lifetime
        verified = tokens.verify(issued.access_token)
        assert verified.principal == principal
        assert verified.jti == issued.jti
        assert verified.expires_at - int(verified.issued_at) == lifetime


def test_lifetimes_come_from_the_settings() -> None:
    settings = Settings(env="test", token_minutes=5, client_token_minutes=2)
    tokens = authority(settings=settings)
    assert tokens.issue(OFFICER).expires_in == 300
    assert tokens.issue(GATE).expires_in == 120


def test_the_claims_are_the_documented_ones() -> None:
    token = authority().issue(GATE).access_token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "bcc_0123"
    assert claims["kind"] == "client"
    assert claims["role"] == "border_officer"
    assert claims["bureau"] == "DEU"
    assert set(claims) >= {"jti", "iat", "exp"}


def test_an_expired_token_is_refused() -> None:
    two_hours_ago = time.time() - 2 * 60 * 60
    token = authority(clock=lambda: two_hours_ago).issue(OFFICER).access_token
    with pytest.raises(Unauthorized, match="expired"):
        authority().verify(token)


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = authority(settings=Settings(env="test", secret_key="t" * 40))
    with pytest.raises(Unauthorized, match="not valid"):
        authority().verify(other.issue(OFFICER).access_token)


def test_the_signing_key_is_not_the_secret_key_itself() -> None:
    claims = jwt.decode(
        authority().issue(OFFICER).access_token, options={"verify_signature": False}
    )
    forged = jwt.encode(claims, SETTINGS.secret_key, algorithm="HS256")
    with pytest.raises(Unauthorized):
        authority().verify(forged)


def test_a_token_whose_claims_were_changed_is_refused() -> None:
    token = authority().issue(OFFICER).access_token
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = "admin"
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="not valid"):
        authority().verify(f"{header}.{payload}.{signature}")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        jwt.encode({"sub": "7", "role": "admin"}, "x" * 32, algorithm="HS256"),
        # The 'none' algorithm: no signature at all.
        jwt.encode({"sub": "7", "kind": "user", "role": "admin"}, None, algorithm="none"),
    ],
)
def test_malformed_and_unsigned_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthorized, match="not valid"):
        authority().verify(token)


def test_a_token_with_an_unknown_role_is_refused() -> None:
    claims = jwt.decode(
        authority().issue(OFFICER).access_token, options={"verify_signature": False}
    )
    claims["role"] = "superuser"
    forged = jwt.encode(claims, signing_key(SETTINGS.secret_key), algorithm="HS256")
    with pytest.raises(Unauthorized, match="not valid"):
        authority().verify(forged)


def test_a_revoked_token_is_refused_and_others_are_not() -> None:
    revocations = RevocationList(refresh_seconds=5)
    tokens = authority(revocations)
    first, second = tokens.issue(OFFICER), tokens.issue(OFFICER)
    revocations.add_token(first.jti)
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.verify(first.access_token)
    assert tokens.verify(second.access_token).principal == OFFICER


def test_revoking_a_subject_refuses_the_tokens_it_held_but_not_later_ones() -> None:
    revocations = RevocationList(refresh_seconds=5)
    before = authority(revocations, clock=lambda: time.time() - 10).issue(GATE)
    revocations.add_subject(GATE.subject, utcnow())
    tokens = authority(revocations, clock=lambda: time.time() + 10)
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.verify(before.access_token)
    assert tokens.verify(tokens.issue(GATE).access_token).principal == GATE
    assert tokens.verify(tokens.issue(OFFICER).access_token).principal == OFFICER


def test_a_revocation_reaches_another_process_within_the_refresh_interval(
    session: Session,
) -> None:
    clock = Clock()
    elsewhere = RevocationList(refresh_seconds=5, clock=clock)
    elsewhere.load(session)
    tokens = authority(elsewhere)
    issued = tokens.issue(OFFICER)

    revoke_token(session, issued.jti, utcnow() + timedelta(hours=1))  # on another node
    clock.now += 4.9
    assert not elsewhere.needs_refresh()
    assert tokens.verify(issued.access_token)  # still inside the window
    clock.now += 0.1
    assert elsewhere.needs_refresh()
    elsewhere.load(session)
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.verify(issued.access_token)


def test_a_deactivation_recorded_in_the_database_is_loaded(session: Session) -> None:
    issued = authority(clock=lambda: time.time() - 5).issue(GATE)
    revoke_subject(session, GATE.subject)
    revocations = RevocationList(refresh_seconds=5)
    revocations.load(session)
    with pytest.raises(Unauthorized, match="revoked"):
        authority(revocations).verify(issued.access_token)


def test_revocations_past_their_expiry_are_dropped(session: Session) -> None:
    revoke_token(session, "old", utcnow() - timedelta(minutes=1))
    revoke_token(session, "current", utcnow() + timedelta(minutes=1))
    revoke_token(session, "current", utcnow() + timedelta(minutes=1))  # twice is harmless
    revocations = RevocationList(refresh_seconds=5)
    revocations.load(session)
    assert revocations.is_revoked("current", "user:1", 0)
    assert not revocations.is_revoked("old", "user:1", 0)
    # The next revocation prunes what refuses nothing any more.
    revoke_subject(session, "user:2")
    remaining = {row.jti or row.subject for row in session.scalars(select(RevokedToken))}
    assert remaining == {"current", "user:2"}


def test_a_principal_acts_under_a_name_history_can_keep() -> None:
    assert OFFICER.actor().name == "officer.deu"
    assert GATE.actor().name == "client:bcc_0123"
    assert GATE.actor().bureau_code == "DEU"
    assert GATE.actor().role is Role.BORDER_OFFICER


def test_without_the_database_revocations_fail_closed_at_first_then_keep_the_last_copy(
    tmp_path: Path, session: Session
) -> None:
    # This test logs; commands run by earlier tests left logging writing to a stream that
    # CliRunner has since closed (logs.py binds sys.stderr once), so set it up afresh.
    configure_logging(SETTINGS)
    unreachable = Database(f"sqlite:///{tmp_path / 'missing' / 'bordercheck.db'}")
    clock = Clock()
    revocations = RevocationList(refresh_seconds=5, clock=clock)
    with pytest.raises(ServiceUnavailable):
        revocations.refresh(unreachable)

    revoke_token(session, "signed-out", utcnow() + timedelta(hours=1))
    revocations.load(session)
    clock.now += 5
    revocations.refresh(unreachable)  # logged, not raised: screening goes on
    assert revocations.is_revoked("signed-out", "user:1", 0)
    assert not revocations.needs_refresh()  # the next attempt waits one interval
    unreachable.dispose()
