"""What a password must be, and hashing and checking passwords.

Length does most of the work: at 12 characters or more, the passwords people pick most
often are already refused. What is left are the long ones that every guessing list starts
with, the username itself, and one character or a keyboard run repeated to length.
"""

from __future__ import annotations

import functools
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bordercheck.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; this bounds the work one request asks for

_hasher = PasswordHasher()


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("bordercheck.auth").joinpath("common_passwords.txt").read_text()
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _folded(password: str) -> str:
    return "".join(ch for ch in password.lower() if ch.isalnum())


def check_password(password: str, username: str, *, field: str = "password") -> None:
    """Refuse, naming ``field``, a password that is short, the username, or very common."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"{field}: a password needs at least {MIN_PASSWORD_LENGTH} characters", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"{field}: a password has at most {MAX_PASSWORD_LENGTH} characters", field=field
        )
    folded = _folded(password)
    name = _folded(username)
    if name and len(name) >= 4 and name in folded:
        raise InvalidInput(f"{field}: a password may not contain the username", field=field)
    if password.lower() in _common_passwords() or folded in _common_passwords():
        raise InvalidInput(
            f"{field}: this password is among the most common ones; choose another", field=field
        )
    if len(set(password)) <= 3:
        raise InvalidInput(
            f"{field}: a password needs more than three different characters", field=field
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _stand_in_hash() -> str:
    # Checked against when there is no account, so that an unknown or deactivated username
    # costs the same argon2 verification as a known one.
    return _hasher.hash("no account has this password")


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; ``None`` (no account) spends the same time."""
    try:
        _hasher.verify(password_hash or _stand_in_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None
