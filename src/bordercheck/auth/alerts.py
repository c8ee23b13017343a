"""Telling administrators about sustained password guessing: once per episode, three ways.

A console notification to every bureau that has an active administrator (and to the
account's own bureau), an audit entry, and a structured log line for whatever watches the
logs. None of them carries a password, only the account or address and the counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import SYSTEM_ACTOR, record_event
from bordercheck.auth import service
from bordercheck.auth.guessing import GuessingAlert, Scope
from bordercheck.auth.models import User
from bordercheck.hits.notifications import notify_bureaus
from bordercheck.logs import get_logger

log = get_logger(__name__)
NOTIFICATION_KIND = "sign_in_guessing"


def _account_bureau(session: Session, username: str) -> str | None:
    user = session.scalar(select(User).where(User.username == username))
    return user.bureau.country_code if user is not None else None


def raise_alerts(session: Session, alerts: Sequence[GuessingAlert], now: datetime) -> None:
    """Notify, audit and log each alert, in the caller's transaction."""
    for alert in alerts:
        since = f"{alert.since:%Y-%m-%d %H:%M} UTC"
        bureaus = service.admin_bureaus(session)
        if alert.scope is Scope.ACCOUNT:
            owner = _account_bureau(session, alert.label)
            bureaus += [owner] if owner else []
            subject = f"user:{alert.label}"
            text = (
                f"Password guessing: {alert.failures} failed sign-ins as {alert.label!r} "
                f"since {since}. Its owner can still sign in from their usual address."
            )
        else:
            owner = None
            subject = f"address:{alert.label}"
            text = (
                f"Password guessing: {alert.failures} failed sign-ins from {alert.label} "
                f"since {since}, on one or more accounts."
            )
        notify_bureaus(session, bureaus, NOTIFICATION_KIND, text, now)
        log.warning(
            "sign_in.guessing",
            scope=alert.scope.value,
            target=alert.label,
            failures=alert.failures,
            since=alert.since.isoformat(),
        )
        record_event(
            session,
            actor=SYSTEM_ACTOR,
            bureau_code=owner,
            action="auth.guessing_detected",
            subject=subject,
            details={
                "scope": alert.scope.value,
                "failures": alert.failures,
                "since": alert.since,
                "notified": sorted(set(bureaus)),
            },
        )
