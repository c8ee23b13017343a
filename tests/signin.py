"""The API on a database of the test's own, and callers with tokens for it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from bordercheck.api.app import create_app
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import ApiClient, Bureau, Role, User
from bordercheck.auth.tokens import Principal, PrincipalKind, TokenAuthority
from bordercheck.db import Database
from bordercheck.settings import Settings

PASSWORD = "correct horse battery staple"


def mint_bearer(
    tokens: TokenAuthority,
    database: Database,
    role: Role,
    bureau: str,
    name: str | None = None,
    kind: PrincipalKind = "user",
) -> dict[str, str]:
    """Headers of a caller with this role, its token minted directly.

    The caller is made in the database (a user with no usable password, or a client whose id
    is ``name``): the API accepts tokens only of people and machines that exist.
    """
    name = name or f"{role.value}.{bureau.lower()}"
    subject = ensure_subject(database, kind, name, role, bureau)
    principal = Principal(kind=kind, id=subject, name=name, role=role, bureau_code=bureau)
    return {"Authorization": f"Bearer {tokens.issue(principal).access_token}"}


def ensure_subject(
    database: Database, kind: PrincipalKind, name: str, role: Role, bureau: str
) -> str:
    """The id of the user or client ``name``, made (or given this role) if need be."""
    with database.session(write=True) as session:
        office = session.scalar(select(Bureau).where(Bureau.country_code == bureau))
        if office is None:
            office = auth_service.add_bureau(session, bureau, f"NCB {bureau}")
        if kind == "user":
            user = session.scalar(select(User).where(User.username == name))
            if user is None:
                user = User(username=name, password_hash="!", role=role.value, bureau=office)
                session.add(user)
            user.role, user.bureau = role.value, office
            session.flush()
            return str(user.id)
        client = session.scalar(select(ApiClient).where(ApiClient.client_id == name))
        if client is None:
            client = ApiClient(
                client_id=name, secret_hash="!", name=name, role=role.value, bureau=office
            )
            session.add(client)
        client.role, client.bureau = role.value, office
        return name


class Api:
    """A test client and ways to be someone on it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def database(self) -> Database:
        database: Database = self.client.app.state.database  # type: ignore[attr-defined]
        return database

    @property
    def tokens(self) -> TokenAuthority:
        tokens: TokenAuthority = self.client.app.state.tokens  # type: ignore[attr-defined]
        return tokens

    def bearer(
        self, role: Role, bureau: str, name: str | None = None, kind: PrincipalKind = "user"
    ) -> dict[str, str]:
        """Headers of a caller with this role: a token minted directly, no sign-in needed."""
        return mint_bearer(self.tokens, self.database, role, bureau, name, kind)

    def ensure_subject(self, kind: PrincipalKind, name: str, role: Role, bureau: str) -> str:
        return ensure_subject(self.database, kind, name, role, bureau)

    def add_bureaus(self, *countries: str) -> None:
        with self.database.session(write=True) as session:
            for country in countries:
                auth_service.add_bureau(session, country, f"NCB {country}")

    def add_user(self, username: str, role: Role, bureau: str) -> None:
        with self.database.session(write=True) as session:
            auth_service.add_user(session, username, bureau=bureau, role=role, password=PASSWORD)

    def add_client(self, name: str, role: Role, bureau: str) -> tuple[str, str]:
        with self.database.session(write=True) as session:
            client, secret = auth_service.add_client(session, name, bureau=bureau, role=role)
            return client.client_id, secret

    def sign_in(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextmanager
def open_api(url: str, bureaus: Sequence[str] = ("DEU", "FRA"), **settings: Any) -> Iterator[Api]:
    """The app for ``url`` with its lifespan running, and ``bureaus`` added."""
    app = create_app(Settings(database_url=url, env="test", **settings))
    with TestClient(app) as client:
        assert app.state.live_index.wait_ready(30), "the screening index did not load"
        api = Api(client)
        api.add_bureaus(*bureaus)
        yield api
