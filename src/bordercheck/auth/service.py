"""Bureaus, users and API clients: adding them, finding them, checking their secrets."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import SYSTEM_ACTOR, record_event
from bordercheck.auth.guessing import clear_account
from bordercheck.auth.models import ApiClient, Bureau, BureauKind, Role, User
from bordercheck.auth.passwords import check_password, hash_password, password_matches
from bordercheck.auth.revocation import revoke_subject, subject_of
from bordercheck.auth.tokens import Principal
from bordercheck.documents.countries import InvalidCountry, is_country, normalise_country
from bordercheck.errors import Conflict, InvalidInput, NotFound
from bordercheck.timestamps import utcnow

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
# A partner organisation's code stands where a bureau's country code stands (tokens, the
# audit trail, threads), so it has a country code's shape and is never a country's.
_PARTNER_CODE = re.compile(r"[A-Z]{3}")
NATIONAL = Bureau.kind == BureauKind.NATIONAL.value


def _country(code: str) -> str:
    try:
        return normalise_country(code)
    except InvalidCountry as exc:
        raise InvalidInput(str(exc), field="country") from None


def add_bureau(
    session: Session,
    country: str,
    name: str,
    *,
    secretariat: bool = False,
    actor: str = SYSTEM_ACTOR,
) -> Bureau:
    code = _country(country)
    name = name.strip()
    if not name:
        raise InvalidInput("a bureau needs a name", field="name")
    if session.scalar(select(Bureau).where(Bureau.country_code == code)) is not None:
        raise Conflict(f"a bureau for {code} already exists")
    bureau = Bureau(country_code=code, name=name, is_secretariat=secretariat)
    session.add(bureau)
    session.flush()
    record_event(
        session,
        actor=actor,
        bureau_code=code,
        action="bureau.added",
        subject=f"bureau:{code}",
        details={"name": name, "secretariat": secretariat},
    )
    return bureau


def ensure_secretariat(session: Session, code: str, name: str) -> Bureau:
    """The central secretariat's bureau, created on first use (by ``db upgrade``)."""
    bureau = session.scalar(select(Bureau).where(Bureau.country_code == code))
    return bureau or add_bureau(session, code, name, secretariat=True)


def bureau_for_country(session: Session, country: str) -> Bureau:
    code = _country(country)
    bureau = session.scalar(select(Bureau).where(Bureau.country_code == code, NATIONAL))
    if bureau is None:
        raise NotFound(
            f"there is no bureau for {code}; add it with `bordercheck bureaus add {code}`",
            country=code,
        )
    return bureau


def bureau_ids_by_country(session: Session) -> dict[str, int]:
    """The national bureaus (and the secretariat) by code: partner organisations are none."""
    rows = session.execute(select(Bureau.country_code, Bureau.id).where(NATIONAL))
    return {code: bureau_id for code, bureau_id in rows}  # noqa: C416 (rows, not pairs)


def list_bureaus(session: Session) -> list[Bureau]:
    """The national bureaus and the secretariat (not the partner organisations)."""
    return list(session.scalars(select(Bureau).where(NATIONAL).order_by(Bureau.country_code)))


def add_partner(session: Session, code: str, name: str, *, actor: str = SYSTEM_ACTOR) -> Bureau:
    """A partner organisation (an agency, Europol, IOM…): invited to operations, nothing more."""
    code = code.strip().upper()
    if not _PARTNER_CODE.fullmatch(code):
        raise InvalidInput(
            "a partner organisation's code is three letters (e.g. EBA)", field="code"
        )
    if is_country(code):
        raise InvalidInput(
            f"{code} is a country's or an ICAO code; choose three letters that are not",
            field="code",
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a partner organisation needs a name (at most 200 characters)",
                           field="name")  # fmt: skip
    if session.scalar(select(Bureau).where(Bureau.country_code == code)) is not None:
        raise Conflict(f"the code {code} is taken")
    partner = Bureau(country_code=code, name=name, kind=BureauKind.PARTNER.value)
    session.add(partner)
    session.flush()
    record_event(
        session, actor=actor, bureau_code=code, action="partner.added",
        subject=f"partner:{code}", details={"name": name},
    )  # fmt: skip
    return partner


def list_partners(session: Session) -> list[Bureau]:
    statement = select(Bureau).where(Bureau.kind == BureauKind.PARTNER.value)
    return list(session.scalars(statement.order_by(Bureau.country_code)))


def partner_for_code(session: Session, code: str) -> Bureau:
    code = code.strip().upper()
    partner = session.scalar(
        select(Bureau).where(Bureau.country_code == code, Bureau.kind == BureauKind.PARTNER.value)
    )
    if partner is None:
        raise NotFound(
            f"there is no partner organisation {code}; add it with "
            f"`bordercheck partners add {code} --name NAME`",
            partner=code,
        )
    return partner


def _home(session: Session, bureau: str, role: Role) -> Bureau:
    """Where an account belongs: a partner account to its organisation, others to a bureau."""
    if role is Role.PARTNER:
        return partner_for_code(session, bureau)
    return bureau_for_country(session, bureau)


def add_user(
    session: Session,
    username: str,
    *,
    bureau: str,
    role: Role,
    password: str,
    actor: str = SYSTEM_ACTOR,
) -> User:
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "a username is 2 to 64 characters: a letter, then letters, digits, '.', '_' or '-'",
            field="username",
        )
    check_password(password, username)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        bureau=_home(session, bureau, role),
    )
    session.add(user)
    session.flush()
    _audit_user(session, actor, user, "user.added", role=user.role)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (no hint which part was wrong).

    One argon2 verification whatever the case: unknown, deactivated, wrong or right.
    """
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    known = user is not None and user.active
    if not password_matches(user.password_hash if known and user else None, password):
        return None
    return user


def change_password(session: Session, user: User, new_password: str) -> datetime:
    """The user's own change (they proved the current password); their tokens until now stop
    working. Returns the moment of the revocation."""
    check_password(new_password, user.username, field="new_password")
    if password_matches(user.password_hash, new_password):
        raise InvalidInput(
            "new_password: the new password must differ from the current one",
            field="new_password",
        )
    _set_password(user, new_password, temporary=False)
    revoked_at = revoke_subject(session, subject_of("user", user.id))
    _audit_user(session, user.username, user, "user.password_changed")
    return revoked_at


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    temporary: bool,
    actor: str = SYSTEM_ACTOR,
) -> tuple[User, datetime]:
    """An administrator sets a user's password (``temporary``: to be changed at next sign-in);
    the tokens the user holds stop working. Returns the user and the revocation's moment."""
    user = get_user(session, username)
    check_password(password, user.username)
    _set_password(user, password, temporary=temporary)
    revoked_at = revoke_subject(session, subject_of("user", user.id))
    # The failures counted were guesses at the old password; they measure nothing now.
    clear_account(session, user.username)
    _audit_user(session, actor, user, "user.password_reset", temporary="yes" if temporary else "no")
    return user, revoked_at


def reset_password(
    session: Session, username: str, *, actor: str = SYSTEM_ACTOR
) -> tuple[User, str, datetime]:
    """A temporary password, made here and shown once, that must be changed at next sign-in."""
    temporary = secrets.token_urlsafe(12)
    user, revoked_at = set_password(session, username, temporary, temporary=True, actor=actor)
    return user, temporary, revoked_at


def _set_password(user: User, password: str, *, temporary: bool) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = temporary
    user.password_changed_at = utcnow()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"there is no user {username!r}", username=username)
    return user


def deactivate_user(session: Session, username: str, *, actor: str = SYSTEM_ACTOR) -> User:
    """The user can no longer sign in, and the tokens they hold stop working."""
    user = get_user(session, username)
    if user.active:
        user.active = False
        revoke_subject(session, subject_of("user", user.id))
        _audit_user(session, actor, user, "user.deactivated")
    return user


def deactivate_user_by(session: Session, username: str, by: Principal) -> User:
    """An administrator's deactivation of someone else: their own would lock the door behind
    them, so another administrator does it."""
    if by.kind == "user" and by.name == username.strip().lower():
        raise Conflict("you cannot deactivate yourself; ask another administrator")
    return deactivate_user(session, username, actor=by.name)


def reactivate_user(session: Session, username: str, *, actor: str = SYSTEM_ACTOR) -> User:
    """The user may sign in again; tokens issued before the deactivation stay refused."""
    user = get_user(session, username)
    if not user.active:
        user.active = True
        _audit_user(session, actor, user, "user.reactivated")
    return user


def admin_bureaus(session: Session) -> list[str]:
    """The bureaus that have an active administrator: where alerts for administrators go."""
    query = (
        select(Bureau.country_code)
        .join(User, User.bureau_id == Bureau.id)
        .where(User.role == Role.ADMIN.value, User.active.is_(True))
        .distinct()
    )
    return list(session.scalars(query))


def _audit_user(session: Session, actor: str, user: User, action: str, **details: str) -> None:
    record_event(
        session,
        actor=actor,
        bureau_code=user.bureau.country_code,
        action=action,
        subject=f"user:{user.username}",
        details=details,
    )


# The secret is 256 random bits: argon2 is more than it needs, but one hash check per token
# (minutes apart) costs nothing, and a stolen table then gives away no usable secret.
CLIENT_ID_PREFIX = "bcc_"
_CLIENT_NAME = re.compile(r"\S.{0,99}")


def add_client(
    session: Session, name: str, *, bureau: str, role: Role, actor: str = SYSTEM_ACTOR
) -> tuple[ApiClient, str]:
    """A new API client and its secret, which is shown this once and stored only hashed."""
    name = name.strip()
    if not _CLIENT_NAME.fullmatch(name):
        raise InvalidInput("a client's name is 1 to 100 characters", field="name")
    if role is Role.PARTNER:
        raise InvalidInput(
            "partner organisations have people's accounts, not API clients", field="role"
        )
    home = bureau_for_country(session, bureau)
    # The query log knows a client by its bureau and name (operations count its checks so).
    if session.scalar(
        select(ApiClient.id).where(ApiClient.bureau_id == home.id, ApiClient.name == name)
    ):
        raise Conflict(
            f"the bureau {home.country_code} has an API client named {name!r} already; give "
            "this one another name",
            field="name",
        )
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(10),
        secret_hash=hash_password(secret),
        name=name,
        role=role.value,
        bureau=home,
    )
    session.add(client)
    session.flush()
    _audit_client(session, actor, client, "client.added", name=name, role=client.role)
    return client, secret


def authenticate_client(session: Session, client_id: str, secret: str) -> ApiClient | None:
    """The active client with this id and secret, else None (no hint which part was wrong)."""
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id.strip()))
    known = client is not None and client.active
    if not password_matches(client.secret_hash if known and client else None, secret):
        return None
    return client


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.created_at, ApiClient.id)))


def get_client(session: Session, client_id: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id.strip()))
    if client is None:
        raise NotFound(f"there is no API client {client_id!r}", client_id=client_id)
    return client


def deactivate_client(session: Session, client_id: str, *, actor: str = SYSTEM_ACTOR) -> ApiClient:
    """The client can no longer get tokens, and the tokens it holds stop working."""
    client = get_client(session, client_id)
    if client.active:
        client.active = False
        revoke_subject(session, subject_of("client", client.client_id))
        _audit_client(session, actor, client, "client.revoked")
    return client


def _audit_client(
    session: Session, actor: str, client: ApiClient, action: str, **details: str
) -> None:
    record_event(
        session,
        actor=actor,
        bureau_code=client.bureau.country_code,
        action=action,
        subject=f"client:{client.client_id}",
        details=details,
    )
