"""A server killed (SIGKILL) the moment it has answered loses nothing it answered: for a match,
the query's log row and its case are in the database when the answer arrives; a clean query is
in the process's journal, and the next server to start on the database replays it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.hits.models import HitSighting
from bordercheck.registry import service as registry_service
from bordercheck.screening.models import ScreeningQuery
from tests.factories import fields, keyed_database, officer
from tests.processes import READY_WITHIN, server

pytestmark = pytest.mark.slow

KILLS = 12  # per database; one server started for each
# What each kill follows, in turn: a hit, a clean screen, a batch holding a hit, a clean batch,
# the same two batches sent as columns (their clean queries journalled as one line).
KINDS = ("hit", "hit", "clean", "batch", "clean", "clean batch", "columns", "clean columns")
BATCHES = {"batch", "clean batch", "columns", "clean columns"}


def prepare(url: str) -> tuple[str, str]:
    """A recorded stolen passport, and the client of a French border post."""
    database = keyed_database(url)
    with database.session(write=True) as session:
        for country in ("DEU", "FRA"):
            auth_service.add_bureau(session, country, f"NCB {country}")
        registry_service.create_record(session, officer("DEU"), fields())
        client, secret = auth_service.add_client(
            session, "border-post", bureau="FRA", role=Role.BORDER_OFFICER
        )
        client_id = client.client_id
    database.dispose()
    return client_id, secret


def screen_and_kill(
    base: str, process: subprocess.Popen[bytes], token: str, kind: str, n: int
) -> list[dict[str, Any]]:
    """One screening request; SIGKILL the moment its answer has arrived."""
    headers = {"Authorization": f"Bearer {token}"}
    recorded = {"document_number": "C01X00T47", "issuing_country": "DEU"}
    clean = {"document_number": f"ZZ{n:07d}", "issuing_country": "DEU"}
    if kind in BATCHES:
        documents = [{"document_number": f"ZY{n:03d}{i:04d}", "issuing_country": "DEU"}
                     for i in range(200)]  # fmt: skip
        if kind in {"batch", "columns"}:
            documents[117] = recorded
        body: dict[str, Any] = {"documents": documents}
        if kind.endswith("columns"):
            body = {"columns": {name: [document[name] for document in documents]
                                for name in ("document_number", "issuing_country")}}  # fmt: skip
        path = "/api/v1/screen/batch"
    else:
        body = recorded if kind == "hit" else clean
        path = "/api/v1/screen"
    response = httpx2.post(f"{base}{path}", json=body, headers=headers, timeout=30)
    os.killpg(process.pid, signal.SIGKILL)
    assert response.status_code == 200, response.text
    answers: list[dict[str, Any]] = response.json().get("results") or [response.json()]
    return answers


def logged_results(url: str, query_ids: list[str]) -> dict[str, str]:
    database = keyed_database(url)
    with database.session() as session:
        rows = session.execute(
            select(ScreeningQuery.id, ScreeningQuery.result).where(ScreeningQuery.id.in_(query_ids))
        )
        logged = {row.id: row.result for row in rows}
    database.dispose()
    return logged


def test_a_killed_server_has_kept_every_answer_it_sent(
    fresh_url: str, backend: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    journalled = {"BORDERCHECK_QUERY_JOURNAL_DIR": str(journal)}
    client_id, secret = prepare(fresh_url)
    secret_key = secrets.token_urlsafe(48)
    token = ""
    answered: list[dict[str, Any]] = []
    started = time.monotonic()
    for n in range(KILLS):
        with server(fresh_url, secret_key, journalled) as (base, process):
            if not token:
                response = httpx2.post(
                    f"{base}/api/v1/auth/token",
                    data={"grant_type": "client_credentials", "client_id": client_id,
                          "client_secret": secret},
                    timeout=30,
                )  # fmt: skip
                assert response.status_code == 200, response.text
                token = response.json()["access_token"]
            answers = screen_and_kill(base, process, token, KINDS[n % len(KINDS)], n)
            assert process.wait(timeout=30) == -signal.SIGKILL
        answered.extend(answers)
    elapsed = time.monotonic() - started

    hits = {a["query_id"] for a in answered if a["result"] == "hit"}
    with_hit = {"hit", "batch", "columns"}
    assert len(hits) == sum(1 for n in range(KILLS) if KINDS[n % len(KINDS)] in with_hit)
    database = keyed_database(fresh_url)
    with database.session() as session:
        # Each answered hit opened a case or was added to one as a sighting.
        query = select(HitSighting.query_id).where(HitSighting.query_id.in_(hits))
        cases = set(session.scalars(query))
    database.dispose()
    assert cases == hits, "a hit was answered but its case was lost"
    # Hits were committed before their answers; the clean queries of the last server killed
    # are in its journal, and a server started after it replays them.
    assert set(logged_results(fresh_url, list(hits))) == hits, "a hit was answered, then lost"
    left = b"".join(path.read_bytes() for path in journal.glob("*.journal"))
    assert all(a["query_id"].encode() in left for a in answers if a["result"] == "no_hit"), (
        "the last clean answers are not in the killed server's journal"
    )
    expected = {a["query_id"]: a["result"] for a in answered}
    with server(fresh_url, secret_key, journalled):
        deadline = time.monotonic() + READY_WITHIN
        while (logged := logged_results(fresh_url, list(expected))) != expected:
            missing = len(set(expected) - set(logged))
            assert time.monotonic() < deadline, f"{missing} answered, then lost"
            time.sleep(0.05)
    assert elapsed < 60 * 3, f"{KILLS} kills took {elapsed:.0f} s"  # bounded, even loaded
