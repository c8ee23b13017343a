"""Checks around a person's password, shared by the API's token endpoint and the console's
sign-in: the flood limit per address, the slow-down of guessing, and the audit of each try."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from bordercheck.api.limits import RateLimiter
from bordercheck.audit.service import record_event
from bordercheck.auth.alerts import raise_alerts
from bordercheck.auth.guessing import Attempt, SignInGuard
from bordercheck.auth.tokens import Principal
from bordercheck.db import Database
from bordercheck.errors import TooManyRequests


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in_guard(request: Request) -> SignInGuard:
    guard: SignInGuard = request.app.state.sign_in_guard
    return guard


def record_sign_in(
    database: Database,
    request: Request,
    account: str,
    grant_type: str,
    principal: Principal | None,
    action: str | None = None,
) -> None:
    """A sign-in, or a failed one with the name tried and the address (never the password),
    and for people the count of failures that slows down guessing (``auth.guessing``).

    In a write transaction of its own: the credentials were checked in a read transaction,
    so the write lock was not held while argon2 ran, and a failure is kept although the
    request fails.
    """
    kind = "user" if grant_type != "client_credentials" else "client"
    attempt = Attempt(account, address(request))
    guard = sign_in_guard(request)
    with database.session(write=True) as session:
        if kind == "user" and principal is not None:
            guard.record_success(session, attempt)
        elif kind == "user":
            raise_alerts(session, guard.record_failure(session, attempt), guard.clock())
        record_event(
            session,
            actor=principal.name if principal else account,
            bureau_code=principal.bureau_code if principal else None,
            action=action or ("auth.signed_in" if principal else "auth.sign_in_failed"),
            subject=f"{kind}:{account}",
            details={"grant_type": grant_type, "address": attempt.address},
        )


def limit_flood(request: Request) -> None:
    """Bound the argon2 work one address can ask for (many officers share one gateway).

    Per process and in memory: it protects the CPU. Guessing is bounded by ``auth.guessing``,
    in the database; client secrets are 256 random bits, beyond guessing, so a count per
    client would only let anyone lock a border system out.
    """
    per_address: RateLimiter = request.app.state.sign_in_address_limiter
    per_address.take(address(request))


def hold_off_guessing(request: Request, session: Session, username: str) -> None:
    """429, without checking the password, while the account or address is slowed down."""
    wait = sign_in_guard(request).retry_after(session, Attempt(username, address(request)))
    if wait is not None:
        raise TooManyRequests(
            "too many failed sign-ins for this account or from this address; "
            f"try again in {wait} s",
            retry_after=wait,
        )
