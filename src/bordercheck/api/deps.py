"""What endpoints declare they need: settings, a session, the authenticated caller, a role.

Every refusal is a domain error (401 or 403), turned into a response by ``api.errors``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bordercheck.api.access import record_caller
from bordercheck.auth.models import Role
from bordercheck.auth.policy import ensure_open_to
from bordercheck.auth.tokens import TOKEN_URL, Principal, TokenAuthority, VerifiedToken
from bordercheck.db import Database
from bordercheck.errors import Forbidden, Unauthorized
from bordercheck.settings import Settings

__all__ = [
    "DatabaseDep",
    "Principal",
    "PrincipalDep",
    "ReadSessionDep",
    "SessionDep",
    "SettingsDep",
    "TokenDep",
    "WriteSessionDep",
    "authenticate",
    "require_roles",
    "roles_check",
]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]


def _session(request: Request, database: DatabaseDep) -> Iterator[Session]:
    # On SQLite a write transaction takes the write lock at BEGIN, so that two writers queue
    # instead of one failing half-way; reads never take it.
    with database.session(write=request.method not in READ_METHODS) as session:
        yield session


def _write_session(database: DatabaseDep) -> Iterator[Session]:
    with database.session(write=True) as session:
        yield session


def _read_session(database: DatabaseDep) -> Iterator[Session]:
    with database.session() as session:
        yield session


# One transaction per request: committed when the endpoint returns (before the response is
# sent, so a failed commit is an error, not a lost write), rolled back when it raises.
SessionDep = Annotated[Session, Depends(_session, scope="function")]
# For a POST that only reads, e.g. signing in: on SQLite it need not queue for the write lock.
ReadSessionDep = Annotated[Session, Depends(_read_session, scope="function")]
# For a GET that writes, e.g. an audited read: on SQLite a read transaction that then writes
# can fail with "database is locked" instead of queueing for the lock.
WriteSessionDep = Annotated[Session, Depends(_write_session, scope="function")]

_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="A token from POST /api/v1/auth/token (password or client_credentials grant).",
)


async def _verified_token(
    request: Request, token: Annotated[str | None, Depends(_bearer)]
) -> VerifiedToken:
    if not token:
        raise Unauthorized(
            f"sign in first: send the header 'Authorization: Bearer TOKEN' with a token from "
            f"POST {TOKEN_URL}"
        )
    authority: TokenAuthority = request.app.state.tokens
    if authority.revocations.needs_refresh():
        await run_in_threadpool(authority.revocations.refresh, _database(request))
    verified = authority.verify(token)
    # A valid signature is not enough: the subject must exist and be active now.
    if authority.subjects.needs_refresh(verified.principal):
        await run_in_threadpool(authority.subjects.refresh, _database(request), verified.principal)
    authority.subjects.check(verified.principal)
    record_caller(request.state, verified.principal.name)
    return verified


TokenDep = Annotated[VerifiedToken, Depends(_verified_token)]


async def authenticate(request: Request) -> Principal:
    """The caller of ``request``, checked as ``PrincipalDep`` checks it, for a hot path that
    resolves no dependencies (``screening.api``: FastAPI's resolving of a route's dozen
    dependencies cost more than the screening itself, docs/benchmarks.md)."""
    principal = (await _verified_token(request, await _bearer(request))).principal
    ensure_open_to(principal.role, request.scope.get("endpoint"))
    return principal


async def _principal(request: Request, token: TokenDep) -> Principal:
    ensure_open_to(token.principal.role, request.scope.get("endpoint"))
    return token.principal


PrincipalDep = Annotated[Principal, Depends(_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers with one of ``roles`` (403 for the others).

    Use it on a router (``dependencies=[Depends(require_roles(Role.ADMIN))]``) or as a
    parameter (``caller: Annotated[Principal, Depends(require_roles(Role.ADMIN))]``).
    """
    ensure = roles_check(*roles)

    async def check(principal: PrincipalDep) -> Principal:
        ensure(principal)
        return principal

    return check


def roles_check(*roles: Role) -> Callable[[Principal], None]:
    """What ``require_roles`` checks, as a call: 403 unless the caller has one of ``roles``."""
    allowed = frozenset(roles)
    needs = ("one of the roles " if len(roles) > 1 else "the role ") + ", ".join(roles)

    def ensure(principal: Principal) -> None:
        if principal.role not in allowed:
            raise Forbidden(
                f"this needs {needs}; {principal.name} is {principal.role.value}",
                required=[role.value for role in roles],
            )

    return ensure
