"""Bureaus and users: adding them, finding them, checking passwords."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.models import Bureau, Role, User
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.errors import Conflict, InvalidInput, NotFound

_hasher = PasswordHasher()
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
MIN_PASSWORD_LENGTH = 12


def _country(code: str) -> str:
    try:
        return normalise_country(code)
    except InvalidCountry as exc:
        raise InvalidInput(str(exc), field="country") from None


def add_bureau(session: Session, country: str, name: str, *, secretariat: bool = False) -> Bureau:
    code = _country(country)
    name = name.strip()
    if not name:
        raise InvalidInput("a bureau needs a name", field="name")
    if session.scalar(select(Bureau).where(Bureau.country_code == code)) is not None:
        raise Conflict(f"a bureau for {code} already exists")
    bureau = Bureau(country_code=code, name=name, is_secretariat=secretariat)
    session.add(bureau)
    session.flush()
    return bureau


def ensure_secretariat(session: Session, code: str, name: str) -> Bureau:
    """The central secretariat's bureau, created on first use (by ``db upgrade``)."""
    bureau = session.scalar(select(Bureau).where(Bureau.country_code == code))
    return bureau or add_bureau(session, code, name, secretariat=True)


def bureau_for_country(session: Session, country: str) -> Bureau:
    code = _country(country)
    bureau = session.scalar(select(Bureau).where(Bureau.country_code == code))
    if bureau is None:
        raise NotFound(
            f"there is no bureau for {code}; add it with `bordercheck bureaus add {code}`",
            country=code,
        )
    return bureau


def bureau_ids_by_country(session: Session) -> dict[str, int]:
    rows = session.execute(select(Bureau.country_code, Bureau.id))
    return {code: bureau_id for code, bureau_id in rows}  # noqa: C416 (rows, not pairs)


def list_bureaus(session: Session) -> list[Bureau]:
    return list(session.scalars(select(Bureau).order_by(Bureau.country_code)))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(session: Session, username: str, *, bureau: str, role: Role, password: str) -> User:
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "a username is 2 to 64 characters: a letter, then letters, digits, '.', '_' or '-'",
            field="username",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        bureau=bureau_for_country(session, bureau),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (no hint which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user
