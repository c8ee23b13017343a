"""Tables of the auth domain: bureaus, users, API clients, token revocations and failed
sign-ins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class Role(StrEnum):
    ADMIN = "admin"
    BUREAU_OFFICER = "bureau_officer"
    BORDER_OFFICER = "border_officer"
    ANALYST = "analyst"
    TRAINER = "trainer"
    # A partner organisation's account (an agency, Europol, IOM, UNODC…): it sees the
    # operations its organisation is invited to, their figures, reports and thread; nothing
    # else. No role list of the existing routes names it, so they refuse it.
    PARTNER = "partner"


class BureauKind(StrEnum):
    NATIONAL = "national"  # a country's bureau, or the secretariat
    PARTNER = "partner"  # a partner organisation: no records, no screening, no directory


class Bureau(Base):
    """A national bureau; it owns the records its country issued. The secretariat is one too.

    A partner organisation is a bureau of kind ``partner``: ``country_code`` holds its short
    code (three letters that are no country's nor ICAO code, so that it can never pass for a
    country anywhere a bureau's code is compared), and its accounts have the role ``partner``.
    """

    __tablename__ = "bureaus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country_code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(
        String(16), default=BureauKind.NATIONAL.value, server_default=BureauKind.NATIONAL.value
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())

    users: Mapped[list[User]] = relationship(back_populates="bureau")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureaus.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    # Set by an administrator's reset: the password works only to choose a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The console's language for this person (en, fr, es, ar); none: the browser's choice.
    language: Mapped[str | None] = mapped_column(String(8))
    # The second factor: the TOTP secret, encrypted under a key derived from the installation's
    # secret (auth.second_factor), and when it was confirmed by a first code.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The time step of the last code accepted: a code is good once (RFC 6238, 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    bureau: Mapped[Bureau] = relationship(back_populates="users")


class RecoveryCode(Base):
    """One of a person's one-time codes that stand in for the second factor (a lost phone)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the code: the codes are random (60 bits), so a fast hash does not help guessing.
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiClient(Base):
    """A machine (border system, airline gateway, edge kit) that signs in with a secret."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Public, shown in lists and logs; the secret is only ever stored as an argon2 hash.
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureaus.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())

    bureau: Mapped[Bureau] = relationship()

    # The query log knows a client by its bureau and name: unique together.
    __table_args__ = (Index("ix_api_clients_bureau_name", "bureau_id", "name", unique=True),)


class RevokedToken(Base):
    """A revocation: of one token (``jti``), or of every token a subject got up to ``revoked_at``.

    ``subject`` (``user:12``, ``client:bcc_…``) is set when a user or client is deactivated.
    A row matters only until ``expires_at``, when every token it refuses has expired anyway,
    so the table, and the copy each API process holds in memory, stays small.
    """

    __tablename__ = "revoked_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti: Mapped[str | None] = mapped_column(String(64), unique=True)
    subject: Mapped[str | None] = mapped_column(String(80))
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class SignInThrottle(Base):
    """Failed sign-ins counted for one account, one address, or one account at one address.

    ``key`` is a digest of the scope and what it counts (a typed username may be anything, of
    any length); ``label`` is the readable form, cut short, for alerts. A ``pair`` row also
    remembers the last sign-in that succeeded from that address (``last_success_at``), which
    is what lets the account's owner past the slow-down that guessers from elsewhere cause.
    See ``auth.guessing``.
    """

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RateBudget(Base):
    """One caller's request budget, shared by every API node (``api.limits.SharedRateLimiter``).

    A token bucket: ``tokens`` as of ``updated`` (seconds since the epoch, as the nodes'
    clocks tell it), refilled at the configured rate up to the burst. Nodes take slices of it
    (``granted``: the last slice handed out) and spend them in memory.
    """

    __tablename__ = "rate_budgets"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    updated: Mapped[float] = mapped_column(Double)
    granted: Mapped[float] = mapped_column(Double)
