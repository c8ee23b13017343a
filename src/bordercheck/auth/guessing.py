"""Slowing down password guessing without letting anyone lock an officer out.

Failed sign-ins are counted in the database (so every API process and every restart sees
the same counts) under three keys: the account (the username as typed, known or not, so
that an unknown name behaves like a known one), the address, and the account at that
address. After ``free_failures`` failures a key is held off for a delay that doubles with
each further failure up to ``max_delay``: an attempt made while a key is held off is
answered 429 without its password being checked, so it is not a guess at all.

What lets the account's owner past: an address from which the account signed in within
``known_for`` is judged only by the failures of that account at that address. Someone
guessing from anywhere else slows down the account for everyone *else*, never for the
officer at their usual desk or gateway. An attempt from an address the account has not
used is judged by the account's failures and the address's failures; the owner arriving
from a new address while the account is under attack waits at most ``max_delay``.

Bound on guessing (defaults): 5 free guesses, then delays of 1, 2, 4 … 512 s (10 more
guesses in 1,023 s), then one guess per 900 s: at most 5 + 10 + 95 = 110 guesses a day
per account from addresses it has not used, whatever the number of addresses or API
processes, against 86,400 a day per process before. An attacker sitting at one of the
account's own addresses gets the same bound there, for that address.

Once per episode (failures since the key was last quiet for ``quiet_period``) a key that
reaches its alert threshold raises a ``GuessingAlert``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bordercheck.auth.models import SignInThrottle
from bordercheck.timestamps import utcnow

LABEL_MAX = 200


class Scope(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"
    PAIR = "pair"  # one account at one address


@dataclass(frozen=True)
class GuessingPolicy:
    """The thresholds; the module docstring derives the daily bound from the defaults."""

    free_failures: int = 5
    # One address may be a gateway that many officers share, and typos add up there.
    address_free_failures: int = 20
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    quiet_period: timedelta = timedelta(hours=24)
    known_for: timedelta = timedelta(days=90)
    account_alert_at: int = 20
    address_alert_at: int = 50

    def free(self, scope: Scope) -> int:
        return self.address_free_failures if scope is Scope.ADDRESS else self.free_failures

    def alert_at(self, scope: Scope) -> int | None:
        if scope is Scope.ACCOUNT:
            return self.account_alert_at
        return self.address_alert_at if scope is Scope.ADDRESS else None

    def delay(self, scope: Scope, failures: int) -> timedelta:
        """How long a key is held off after its ``failures``-th failure."""
        over = failures - self.free(scope)
        if over < 0:
            return timedelta(0)
        # Capped before exponentiation: 2**over grows without bound.
        delay: timedelta = self.first_delay * (2 ** min(over, 40))
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the username as typed and the address it came from."""

    username: str
    address: str

    @property
    def account(self) -> str:
        return self.username.strip().lower()

    def keys(self) -> dict[Scope, tuple[str, str]]:
        """Each scope's (digest key, readable label)."""
        labels = {
            Scope.ACCOUNT: self.account,
            Scope.ADDRESS: self.address,
            Scope.PAIR: f"{self.account} at {self.address}",
        }
        return {scope: (_digest(scope, label), _clip(label)) for scope, label in labels.items()}


@dataclass(frozen=True)
class GuessingAlert:
    """A key reached its alert threshold: sustained guessing at an account or from an address."""

    scope: Scope
    label: str
    failures: int
    since: datetime


@dataclass
class SignInGuard:
    """The policy and the clock (replaced in tests, so that no test sleeps)."""

    policy: GuessingPolicy = field(default_factory=GuessingPolicy)
    clock: Callable[[], datetime] = field(default=utcnow)

    def retry_after(self, session: Session, attempt: Attempt) -> int | None:
        """Seconds until ``attempt`` may be tried, or None if it may be tried now."""
        now = self.clock()
        rows = _rows(session, attempt)
        pair = rows.get(Scope.PAIR)
        known = (
            pair is not None
            and pair.last_success_at is not None
            and now - pair.last_success_at < self.policy.known_for
        )
        judged_by = (Scope.PAIR,) if known else (Scope.ACCOUNT, Scope.ADDRESS, Scope.PAIR)
        until = max(
            (
                row.blocked_until
                for scope, row in rows.items()
                if scope in judged_by and row.blocked_until is not None
            ),
            default=None,
        )
        if until is None or until <= now:
            return None
        return max(1, int((until - now).total_seconds() + 0.999))

    def record_failure(self, session: Session, attempt: Attempt) -> list[GuessingAlert]:
        """Count a wrong password under each key; the alerts this failure raises, if any."""
        now = self.clock()
        alerts = []
        for scope, (key, label) in attempt.keys().items():
            row = _row_for_update(session, scope, key, label)
            last = row.last_failure_at
            if last is None or now - last >= self.policy.quiet_period:
                row.failures, row.first_failure_at, row.alerted_at = 0, now, None
            row.failures += 1
            row.last_failure_at = now
            delay = self.policy.delay(scope, row.failures)
            row.blocked_until = now + delay if delay else None
            threshold = self.policy.alert_at(scope)
            if threshold is not None and row.failures >= threshold and row.alerted_at is None:
                row.alerted_at = now
                since = row.first_failure_at or now
                alerts.append(GuessingAlert(scope, row.label, row.failures, since))
        session.flush()
        return alerts

    def record_success(self, session: Session, attempt: Attempt) -> None:
        """The right password from this address: it is now one of the account's own."""
        key, label = attempt.keys()[Scope.PAIR]
        row = _row_for_update(session, Scope.PAIR, key, label)
        row.failures, row.blocked_until, row.last_success_at = 0, None, self.clock()
        session.flush()


def clear_account(session: Session, username: str) -> None:
    """Forget an account's failures (an administrator vouched for its owner)."""
    key = _digest(Scope.ACCOUNT, username.strip().lower())
    row = session.scalar(select(SignInThrottle).where(SignInThrottle.key == key))
    if row is not None:
        row.failures, row.blocked_until, row.alerted_at = 0, None, None


def _digest(scope: Scope, label: str) -> str:
    return hashlib.sha256(f"{scope.value}\n{label}".encode()).hexdigest()


def _clip(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _rows(session: Session, attempt: Attempt) -> dict[Scope, SignInThrottle]:
    keys = {key: scope for scope, (key, _label) in attempt.keys().items()}
    found = session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(list(keys))))
    return {keys[row.key]: row for row in found}


def _row_for_update(session: Session, scope: Scope, key: str, label: str) -> SignInThrottle:
    """The key's row, locked until commit (PostgreSQL), made if it is the key's first."""
    query = select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        # A savepoint: another process may make the same row at the same moment.
        with session.begin_nested():
            row = SignInThrottle(key=key, scope=scope.value, label=label, failures=0)
            session.add(row)
    except IntegrityError:
        row = session.scalars(query).one()
    return row
