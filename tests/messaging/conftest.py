"""Fixtures for messaging: an API with three bureaus, callers, hits to talk about."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bordercheck.auth.models import Role
from bordercheck.hits.service import Deadlines, NewHit, hits_for_query, open_hits
from bordercheck.registry import service as registry
from bordercheck.settings import load_settings
from tests.factories import centre_notes, fields, make_bureau, officer
from tests.signin import Api, open_api

THREADS = "/api/v1/messages"
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def make_hit(session: Session, owner: str = "DEU", querying: str = "FRA") -> int:
    """A hit on a fresh record of ``owner``, screened by ``querying``."""
    for code in (owner, querying):
        make_bureau(session, code)
    record = registry.create_record(
        session, officer(owner), fields(document_number=uuid.uuid4().hex[:9].upper(),
                                        issuing_country=owner, holder_nationality=owner)
    )  # fmt: skip
    query_id = uuid.uuid4().hex
    open_hits(
        session,
        [
            NewHit(
                query_id=query_id, record_id=record.id, owner_bureau=owner,
                querying_bureau=querying, queried_by=f"border.{querying.lower()}",
                match="exact", score=1.0, location="CDG-T2", operation_id=None,
                at=datetime.now(UTC), source="desk",
            )
        ],
        deadlines=Deadlines.from_settings(load_settings()),
        notes=centre_notes(),
    )  # fmt: skip
    session.flush()
    return hits_for_query(session, query_id)[0].id


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        yield api


@pytest.fixture
def deu(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")


@pytest.fixture
def fra(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "FRA", name="officer.fra")


@pytest.fixture
def ita(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "ITA", name="officer.ita")


def start_thread(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Forged visas, Frankfurt",
        "recipients": ["FRA"],
        "body": "Three DEU passports from the 2024 theft were used at CDG this week.",
    }
    body.update(overrides)
    response = api.client.post(THREADS, headers=headers, json=body)
    assert response.status_code == 201, response.text
    thread: dict[str, Any] = response.json()
    return thread
