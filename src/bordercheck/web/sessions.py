"""Console sessions in the database: opened at sign-in, looked up on each page, ended at once.

The cookie holds a random token; the table holds its SHA-256, so a copy of the table opens no
session. A session ends when its person signs out, after ``console_idle_minutes`` without a
page, after ``console_session_hours`` in all, and as soon as the person is deactivated or
their password changes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bordercheck.auth.models import Bureau, Role, User
from bordercheck.auth.tokens import Principal
from bordercheck.timestamps import utcnow
from bordercheck.web.models import ConsoleSession

# Writing last_seen_at on every page would make every page a write; once a minute is enough
# for an idle limit counted in minutes.
TOUCH_SECONDS = 60


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """The person behind a page: who they are, their session, their language."""

    principal: Principal
    session_id: int
    csrf_token: str
    verified: bool
    language: str | None
    second_factor: bool
    must_change_password: bool
    last_seen_at: datetime

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def bureau_code(self) -> str:
        return self.principal.bureau_code


def open_session(
    session: Session, user: User, *, address: str, verified: bool, lifetime: timedelta
) -> str:
    """A new session for ``user``; returns the cookie's token (shown nowhere else)."""
    now = utcnow()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            verified=verified,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            address=address[:64],
        )
    )
    return token


def find(session: Session, token: str, *, idle: timedelta) -> Viewer | None:
    """The live session this token opens, else None (unknown, expired, idle, or its person
    deactivated or with a new password since)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(ConsoleSession, User, Bureau.country_code)
        .join(User, User.id == ConsoleSession.user_id)
        .join(Bureau, Bureau.id == User.bureau_id)
        .where(ConsoleSession.token_hash == _hash(token))
    ).one_or_none()
    if row is None:
        return None
    console, user, country = row
    now = utcnow()
    if not user.active or console.expires_at <= now:
        return None
    if console.last_seen_at + idle <= now:
        return None
    changed = user.password_changed_at
    if changed is not None and changed > console.created_at:
        return None
    principal = Principal(
        kind="user", id=str(user.id), name=user.username, role=Role(user.role), bureau_code=country
    )
    return Viewer(
        principal=principal,
        session_id=console.id,
        csrf_token=console.csrf_token,
        verified=console.verified,
        language=user.language,
        second_factor=user.totp_enabled_at is not None,
        must_change_password=user.must_change_password,
        last_seen_at=console.last_seen_at,
    )


def needs_touch(viewer: Viewer) -> bool:
    return (utcnow() - viewer.last_seen_at).total_seconds() >= TOUCH_SECONDS


def touch(session: Session, session_id: int) -> None:
    session.execute(
        update(ConsoleSession).where(ConsoleSession.id == session_id).values(last_seen_at=utcnow())
    )


def mark_verified(session: Session, session_id: int) -> str:
    """The second factor is proven: the session opens pages, under a new CSRF token."""
    csrf = secrets.token_urlsafe(32)
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id)
        .values(verified=True, csrf_token=csrf, last_seen_at=utcnow())
    )
    return csrf


def end(session: Session, session_id: int) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))


def end_all_of(session: Session, user_id: int) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
