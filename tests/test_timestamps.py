"""Timestamps come back from the database aware and in UTC, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.models import RevokedToken
from bordercheck.timestamps import utcnow

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_a_timestamp_is_read_back_aware_in_utc(session: Session) -> None:
    given = datetime(2026, 7, 14, 12, 30, 15, 250_000, tzinfo=PARIS_SUMMER)
    session.add(RevokedToken(jti="t-aware", revoked_at=given, expires_at=utcnow()))
    session.flush()
    session.expunge_all()  # read from the database, not the object made above
    row = session.scalars(select(RevokedToken).where(RevokedToken.jti == "t-aware")).one()
    assert row.revoked_at.tzinfo is UTC
    assert row.revoked_at == given
    assert row.revoked_at.hour == 10
    # Compared in SQL in UTC too: a moment given in another zone finds the same row.
    later = given + timedelta(seconds=1)
    assert session.scalar(select(RevokedToken.id).where(RevokedToken.revoked_at < later))


def test_a_moment_without_a_zone_is_taken_as_utc(session: Session) -> None:
    session.add(
        RevokedToken(jti="t-naive", revoked_at=datetime(2026, 1, 2, 3, 4, 5), expires_at=utcnow())
    )
    session.flush()
    session.expunge_all()
    row = session.scalars(select(RevokedToken).where(RevokedToken.jti == "t-naive")).one()
    assert row.revoked_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
