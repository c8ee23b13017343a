"""Signing in (``/auth/token``), signing out (``/auth/revoke``), changing one's password
(``/auth/password``), and the administrators' endpoints for bureaus, users and API clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field

from bordercheck.api.deps import (
    DatabaseDep,
    PrincipalDep,
    ReadSessionDep,
    SessionDep,
    TokenDep,
    require_roles,
)
from bordercheck.api.types import UtcDatetime
from bordercheck.audit.service import record_event
from bordercheck.auth import service
from bordercheck.auth.guessing import Attempt
from bordercheck.auth.models import ApiClient, Bureau, Role, User
from bordercheck.auth.passwords import MIN_PASSWORD_LENGTH
from bordercheck.auth.policy import open_to_partners
from bordercheck.auth.revocation import revoke_token, subject_of
from bordercheck.auth.signin import (
    address,
    hold_off_guessing,
    limit_flood,
    record_sign_in,
    sign_in_guard,
)
from bordercheck.auth.tokens import Principal, TokenAuthority
from bordercheck.errors import (
    FieldError,
    Forbidden,
    Unauthorized,
    ValidationFailed,
)
from bordercheck.inputs import Input
from bordercheck.timestamps import utcnow

router = APIRouter(tags=["auth"])
ADMINS = (Role.ADMIN,)
admin = APIRouter(tags=["administration"], dependencies=[Depends(require_roles(*ADMINS))])
AdminDep = Annotated[Principal, Depends(require_roles(*ADMINS))]

_basic = HTTPBasic(auto_error=False, description="client_id and client_secret, for machines")
BAD_CREDENTIALS = "the credentials are not valid"
PASSWORD_URL = "/api/v1/auth/password"  # noqa: S105 (an address, not a secret)


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme, not a secret)
    expires_in: int = Field(description="Seconds until the token expires.")


def _authority(request: Request) -> TokenAuthority:
    authority: TokenAuthority = request.app.state.tokens
    return authority


def revoke_in_process(request: Request, subject: str, at: datetime) -> None:
    """Apply a revocation just written at once in this process (the others within seconds)."""
    _authority(request).revocations.add_subject(subject, at)


def _missing(*names: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field=name, reason="is required") for name in names])


@router.post("/auth/token", response_model=TokenResponse)
def token(
    request: Request,
    session: ReadSessionDep,
    database: DatabaseDep,
    grant_type: Annotated[str, Form(description="password (people) or client_credentials")],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)] = None,
) -> TokenResponse:
    """A bearer token: OAuth2 password grant for people, client credentials for machines.

    A person whose password an administrator reset gets 403 `password_change_required`
    and chooses a new one at `POST /auth/password`.
    """
    if grant_type == "password":
        if not username or not password:
            missing = (("username", username), ("password", password))
            raise _missing(*[name for name, value in missing if not value])
        limit_flood(request)
        hold_off_guessing(request, session, username)
        user = service.authenticate(session, username, password)
        if user is None:
            record_sign_in(database, request, username, grant_type, None)
            raise Unauthorized(BAD_CREDENTIALS)
        principal = user_principal(user)
        if user.must_change_password:
            action = "auth.password_change_required"
            record_sign_in(database, request, user.username, grant_type, principal, action)
            raise PasswordChangeRequired(
                "your password was reset by an administrator: choose a new one at "
                f"POST {PASSWORD_URL} (username, current_password, new_password)"
            )
        record_sign_in(database, request, user.username, grant_type, principal)
    elif grant_type == "client_credentials":
        if basic is not None:  # RFC 6749 2.3.1: both parts are form-encoded inside Basic
            client_id, client_secret = unquote_plus(basic.username), unquote_plus(basic.password)
        if not client_id or not client_secret:
            missing = (("client_id", client_id), ("client_secret", client_secret))
            raise _missing(*[name for name, value in missing if not value])
        limit_flood(request)
        client = service.authenticate_client(session, client_id, client_secret)
        if client is None:
            record_sign_in(database, request, client_id, grant_type, None)
            raise Unauthorized(BAD_CREDENTIALS)
        principal = client_principal(client)
        record_sign_in(database, request, client.client_id, grant_type, principal)
    else:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="grant_type",
                    reason=f"{grant_type!r} is not one of: 'password', 'client_credentials'",
                )
            ]
        )
    issued = _authority(request).issue(principal)
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


class PasswordChange(Input):
    model_config = ConfigDict(extra="forbid")

    username: str
    current_password: str
    new_password: str = Field(
        description=f"At least {MIN_PASSWORD_LENGTH} characters; not the username, not a "
        "very common password."
    )


@router.post("/auth/password", response_model=TokenResponse)
@open_to_partners
def change_password(
    request: Request, body: PasswordChange, session: ReadSessionDep, database: DatabaseDep
) -> TokenResponse:
    """Change your password, proving the current one (also after an administrator's reset).

    Every token you hold stops working; the answer is a new one. The current password is
    checked, and slowed down, exactly as at sign-in.
    """
    limit_flood(request)
    hold_off_guessing(request, session, body.username)
    user = service.authenticate(session, body.username, body.current_password)
    if user is None:
        record_sign_in(database, request, body.username, "password_change", None)
        raise Unauthorized(BAD_CREDENTIALS)
    attempt = Attempt(user.username, address(request))
    with database.session(write=True) as write:
        changing = service.get_user(write, user.username)
        sign_in_guard(request).record_success(write, attempt)
        revoked_at = service.change_password(write, changing, body.new_password)
        principal = user_principal(changing)
    _authority(request).revocations.add_subject(subject_of("user", principal.id), revoked_at)
    issued = _authority(request).issue(principal)
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


def user_principal(user: User) -> Principal:
    return Principal(
        kind="user",
        id=str(user.id),
        name=user.username,
        role=Role(user.role),
        bureau_code=user.bureau.country_code,
    )


def client_principal(client: ApiClient) -> Principal:
    return Principal(
        kind="client",
        id=client.client_id,
        name=client.name,
        role=Role(client.role),
        bureau_code=client.bureau.country_code,
    )


@router.post("/auth/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke(request: Request, verified: TokenDep, session: SessionDep) -> Response:
    """Sign out: the token this request carries stops working."""
    revoke_token(session, verified.jti, verified.expiry)
    caller = verified.principal
    record_event(
        session,
        actor=caller.name,
        bureau_code=caller.bureau_code,
        action="token.revoked",
        subject=f"{caller.kind}:{caller.name if caller.kind == 'user' else caller.id}",
        details={"jti": verified.jti},
    )
    _authority(request).revocations.add_token(verified.jti)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class Me(BaseModel):
    kind: Literal["user", "client"]
    id: str
    name: str
    role: Role
    bureau: str


@router.get("/auth/me", response_model=Me)
@open_to_partners
async def me(principal: PrincipalDep) -> Me:
    """Who the token says the caller is."""
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        bureau=principal.bureau_code,
    )


class BureauOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    country_code: str
    name: str
    is_secretariat: bool


class NewBureau(Input):
    model_config = ConfigDict(extra="forbid")

    country_code: str = Field(examples=["FRA"])
    name: str = Field(examples=["NCB Paris"])


# Everyone but a partner organisation's accounts, which are told of no bureau but their
# operations' participants.
BUREAU_READERS = tuple(role for role in Role if role is not Role.PARTNER)


@router.get("/bureaus", response_model=list[BureauOut])
def list_bureaus(
    _caller: Annotated[Principal, Depends(require_roles(*BUREAU_READERS))], session: SessionDep
) -> list[Bureau]:
    """Every bureau: one per country, and the central secretariat."""
    return service.list_bureaus(session)


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(validation_alias="country_code")
    name: str


class NewPartner(Input):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(examples=["EBA"], description="Three letters that are no country's code.")
    name: str = Field(examples=["EUBA, European border agency"])


@admin.get("/partners", response_model=list[PartnerOut])
def list_partners(session: SessionDep) -> list[Bureau]:
    """The partner organisations (their accounts: ``GET /users``, role ``partner``)."""
    return service.list_partners(session)


@admin.post("/partners", response_model=PartnerOut, status_code=status.HTTP_201_CREATED)
def add_partner(body: NewPartner, caller: AdminDep, session: SessionDep) -> Bureau:
    """A partner organisation; add its accounts with ``POST /users`` (role ``partner``,
    ``bureau`` its code), invite it to operations with ``POST /operations/{id}/partners``."""
    return service.add_partner(session, body.code, body.name, actor=caller.name)


@admin.post("/bureaus", response_model=BureauOut, status_code=status.HTTP_201_CREATED)
def add_bureau(body: NewBureau, caller: AdminDep, session: SessionDep) -> Bureau:
    return service.add_bureau(session, body.country_code, body.name, actor=caller.name)


class UserOut(BaseModel):
    username: str
    role: Role
    bureau: str
    active: bool
    must_change_password: bool
    created_at: UtcDatetime


class NewUser(Input):
    model_config = ConfigDict(extra="forbid")

    username: str
    bureau: str = Field(
        description="The bureau's country code; for the role partner, the partner "
        "organisation's code."
    )
    role: Role
    password: str = Field(
        description=f"At least {MIN_PASSWORD_LENGTH} characters; not the username, not a very "
        "common password."
    )


def _user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        role=Role(user.role),
        bureau=user.bureau.country_code,
        active=user.active,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
    )


@admin.get("/users", response_model=list[UserOut])
def list_users(session: SessionDep) -> list[UserOut]:
    return [_user_out(user) for user in service.list_users(session)]


@admin.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: NewUser, caller: AdminDep, session: SessionDep) -> UserOut:
    user = service.add_user(
        session,
        body.username,
        bureau=body.bureau,
        role=body.role,
        password=body.password,
        actor=caller.name,
    )
    return _user_out(user)


@admin.post("/users/{username}/deactivate", response_model=UserOut)
def deactivate_user(
    request: Request, username: str, caller: AdminDep, session: SessionDep
) -> UserOut:
    """The user can no longer sign in; the tokens they hold stop working."""
    user = service.deactivate_user_by(session, username, caller)
    revoke_in_process(request, subject_of("user", user.id), utcnow())
    return _user_out(user)


@admin.post("/users/{username}/reactivate", response_model=UserOut)
def reactivate_user(username: str, caller: AdminDep, session: SessionDep) -> UserOut:
    """The user may sign in again; tokens issued before the deactivation stay refused."""
    return _user_out(service.reactivate_user(session, username, actor=caller.name))


class PasswordReset(BaseModel):
    username: str
    temporary_password: str = Field(
        description="Shown this once. It only lets the user choose a new password, at "
        f"POST {PASSWORD_URL}."
    )


@admin.post("/users/{username}/password", response_model=PasswordReset)
def reset_password(
    request: Request, username: str, caller: AdminDep, session: SessionDep
) -> PasswordReset:
    """Reset a user's password to a temporary one; the tokens they hold stop working."""
    user, temporary, revoked_at = service.reset_password(session, username, actor=caller.name)
    revoke_in_process(request, subject_of("user", user.id), revoked_at)
    return PasswordReset(username=user.username, temporary_password=temporary)


class ClientOut(BaseModel):
    client_id: str
    name: str
    role: Role
    bureau: str
    active: bool
    created_at: UtcDatetime


class NewClientOut(ClientOut):
    client_secret: str = Field(description="Shown this once; only its hash is kept.")


class NewClient(Input):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Frankfurt airport border control"])
    bureau: str = Field(
        description="The bureau's country code; for the role partner, the partner "
        "organisation's code."
    )
    role: Role


def _client_out(client: ApiClient) -> ClientOut:
    return ClientOut(
        client_id=client.client_id,
        name=client.name,
        role=Role(client.role),
        bureau=client.bureau.country_code,
        active=client.active,
        created_at=client.created_at,
    )


@admin.get("/clients", response_model=list[ClientOut])
def list_clients(session: SessionDep) -> list[ClientOut]:
    return [_client_out(client) for client in service.list_clients(session)]


@admin.post("/clients", response_model=NewClientOut, status_code=status.HTTP_201_CREATED)
def add_client(body: NewClient, caller: AdminDep, session: SessionDep) -> NewClientOut:
    """A machine's credentials: the answer holds its secret, shown this once."""
    client, secret = service.add_client(
        session, body.name, bureau=body.bureau, role=body.role, actor=caller.name
    )
    return NewClientOut(**_client_out(client).model_dump(), client_secret=secret)


@admin.post("/clients/{client_id}/deactivate", response_model=ClientOut)
def deactivate_client(
    request: Request, client_id: str, caller: AdminDep, session: SessionDep
) -> ClientOut:
    """The client can no longer get tokens; the tokens it holds stop working."""
    client = service.deactivate_client(session, client_id, actor=caller.name)
    revoke_in_process(request, subject_of("client", client.client_id), utcnow())
    return _client_out(client)
