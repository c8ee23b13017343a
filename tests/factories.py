"""Small factories for the rows and actors tests need."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Bureau, Role
from bordercheck.db import Database
from bordercheck.hits.service import CaseOpener
from bordercheck.messaging.service import CentreNotes
from bordercheck.registry.schemas import RecordFields
from bordercheck.settings import load_settings


def secret_key() -> str:
    """The installation's secret key in tests: the test settings' (random, one per process)."""
    return load_settings().secret_key


def centre_notes() -> CentreNotes:
    """How the centre writes its notes in hits' threads, with the test settings' keys."""
    return CentreNotes.from_settings(load_settings())


def case_opener() -> CaseOpener:
    """What opens hit cases of what screening found, as the app wires it."""
    return CaseOpener.from_settings(load_settings())


def keyed_database(url: str) -> Database:
    """The database at ``url`` as the app and commands of the tests open it: with their key."""
    return Database(url, secret_key=secret_key())


def make_bureau(session: Session, country: str) -> Bureau:
    existing = session.scalar(select(Bureau).where(Bureau.country_code == country))
    return existing or auth_service.add_bureau(session, country, f"NCB {country}")


def officer(country: str, name: str | None = None) -> Actor:
    return Actor(
        name=name or f"officer.{country.lower()}", role=Role.BUREAU_OFFICER, bureau_code=country
    )


ADMIN = Actor(name="admin", role=Role.ADMIN, bureau_code="XPO")


def fields(**overrides: Any) -> RecordFields:
    data: dict[str, Any] = {
        "document_number": "C01X00T47",
        "issuing_country": "DEU",
        "document_type": "passport",
        "status": "stolen",
        "event_date": "2024-03-01",
        "event_place": "BERLIN",
        "holder_surname": "MUSTERMANN",
        "holder_given_names": "ERIKA",
        "holder_birth_date": "1983-08-12",
        "holder_nationality": "DEU",
    }
    data.update(overrides)
    return RecordFields.model_validate(data)


def sandboxed(url: str, name: str = "drill") -> str:
    """Mark the (migrated, empty) database at ``url`` as the training sandbox ``name``; the
    name is what its settings' ``training_sandbox`` must say."""
    from bordercheck.installation import mark_sandbox

    database = keyed_database(url)
    with database.session(write=True) as session:
        mark_sandbox(session, name)
    database.dispose()
    return name
