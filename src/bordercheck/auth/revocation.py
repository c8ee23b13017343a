"""Revoked tokens: recorded in the database, held in memory by every API process.

A revocation row names one token (``jti``, on logout) or a subject (``user:12``,
``client:bcc_…``, on deactivation: every token it got until then). Each process keeps the
rows that still matter in memory and reloads them every ``revocation_refresh_seconds``, so
checking a token never waits for the database. The process that revokes applies the
revocation at once; the others within one refresh interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bordercheck.auth.models import RevokedToken
from bordercheck.db import Database
from bordercheck.errors import ServiceUnavailable
from bordercheck.logs import get_logger
from bordercheck.timestamps import utcnow

log = get_logger(__name__)

# Settings cap token lifetimes at a day; a subject's revocation outlives every token it refuses.
SUBJECT_REVOCATION_LIFETIME = timedelta(hours=25)


def subject_of(kind: str, principal_id: str | int) -> str:
    """``user:12`` or ``client:bcc_…``: unique across people and machines."""
    return f"{kind}:{principal_id}"


def revoke_token(session: Session, jti: str, expires_at: datetime) -> None:
    """Refuse one token from now on (logout). Revoking it twice is harmless."""
    if session.scalar(select(RevokedToken.id).where(RevokedToken.jti == jti)) is not None:
        return
    now = utcnow()
    session.add(RevokedToken(jti=jti, revoked_at=now, expires_at=expires_at))
    _prune(session, now)
    session.flush()


def revoke_subject(session: Session, subject: str) -> datetime:
    """Refuse every token issued to ``subject`` until now (deactivation); returns the moment."""
    now = utcnow()
    session.add(
        RevokedToken(subject=subject, revoked_at=now, expires_at=now + SUBJECT_REVOCATION_LIFETIME)
    )
    _prune(session, now)
    session.flush()
    return now


def _prune(session: Session, now: datetime) -> None:
    # Rows past their expiry refuse nothing any more; dropping them keeps every load small.
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))


class RevocationList:
    """The revocations that still matter, in memory; ``is_revoked`` is a set look-up."""

    def __init__(self, refresh_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._jtis: frozenset[str] = frozenset()
        self._subjects: dict[str, float] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def needs_refresh(self, max_age: float | None = None) -> bool:
        """Older than the refresh interval (or than ``max_age``, for a caller in a hurry)."""
        limit = self.refresh_seconds if max_age is None else min(max_age, self.refresh_seconds)
        return self._loaded_at is None or self._clock() - self._loaded_at >= limit

    def refresh(self, database: Database, max_age: float | None = None) -> None:
        """Reload from the database; on failure keep the last copy (none yet: refuse service)."""
        first = self._loaded_at is None
        # One thread reloads; the others carry on with the copy they have, unless there is none.
        if not self._lock.acquire(blocking=first):
            return
        try:
            if not self.needs_refresh(max_age):
                return
            try:
                with database.session() as session:
                    self.load(session)
            except SQLAlchemyError as exc:
                if self._loaded_at is None:
                    raise ServiceUnavailable(
                        "cannot check tokens: the database does not answer; try again shortly"
                    ) from exc
                log.warning("revocations not refreshed", error=type(exc).__name__)
                self._loaded_at = self._clock()  # try again after one interval, not per request
        finally:
            self._lock.release()

    def load(self, session: Session) -> None:
        rows = session.execute(
            select(RevokedToken.jti, RevokedToken.subject, RevokedToken.revoked_at).where(
                RevokedToken.expires_at > utcnow()
            )
        )
        jtis: set[str] = set()
        subjects: dict[str, float] = {}
        for jti, subject, revoked_at in rows:
            if jti is not None:
                jtis.add(jti)
            if subject is not None:
                at = revoked_at.timestamp()
                subjects[subject] = max(at, subjects.get(subject, at))
        # Swapped whole, so a reader sees the old copy or the new one, never half of each.
        self._jtis, self._subjects = frozenset(jtis), subjects
        self._loaded_at = self._clock()

    def add_token(self, jti: str) -> None:
        """Apply a revocation this process just made, without waiting for the next reload."""
        self._jtis = self._jtis | {jti}

    def add_subject(self, subject: str, at: datetime) -> None:
        self._subjects = {**self._subjects, subject: at.timestamp()}

    def is_signed_out(self, jti: str) -> bool:
        """Revoked on its own (a sign-out), rather than with its subject's every token."""
        return jti in self._jtis

    def is_revoked(self, jti: str, subject: str, issued_at: float) -> bool:
        if jti in self._jtis:
            return True
        revoked_at = self._subjects.get(subject)
        return revoked_at is not None and issued_at <= revoked_at
