"""A server killed (SIGKILL) while it takes a flight's passenger list and a message with an
attachment, or the moment it has answered: what it acknowledged is stored whole, and what it
did not is stored whole or not at all (a list with all its travellers, a message with its
attachment, a thread with its first message), never a part."""

from __future__ import annotations

import base64
import random
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from bordercheck.auth.models import Role
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.manifests.models import ManifestTraveller, StoredManifest
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.messaging.models import Attachment, Message, Thread
from bordercheck.settings import Settings
from tests.factories import keyed_database
from tests.processes import server
from tests.signin import mint_bearer

pytestmark = pytest.mark.slow

ROUNDS = 4  # per database, one server each: half killed mid-request, half after answering
SEED = 20261206
TRAVELLERS = 300
ATTACHMENT = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


def tokens_for(url: str, secret_key: str) -> tuple[dict[str, str], dict[str, str]]:
    """A French border post's and a German bureau officer's headers, for servers on ``url``."""
    settings = Settings(database_url=url, env="test", secret_key=secret_key)
    authority = TokenAuthority(settings, RevocationList(60))
    database = keyed_database(url)
    try:
        post = mint_bearer(authority, database, Role.BORDER_OFFICER, "FRA", "border.post")
        officer = mint_bearer(authority, database, Role.BUREAU_OFFICER, "DEU", "officer.deu")
    finally:
        database.dispose()
    return post, officer


def send(
    base: str, post: dict[str, str], officer: dict[str, str], n: int, answers: dict[str, Any]
) -> list[threading.Thread]:
    """The list and the message, each in a thread of its own; their answers into ``answers``."""
    paxlst = write_paxlst(synthetic_flight(TRAVELLERS, seed=n, flight=f"XB{n:04d}"), per_part=99)
    message = {
        "subject": f"Round {n}", "recipients": ["FRA"], "body": f"Forged visas, round {n}.",
        "attachments": [{"filename": f"report-{n}.pdf", "content_type": "application/pdf",
                         "content": base64.b64encode(ATTACHMENT).decode()}],
    }  # fmt: skip

    def call(kind: str, path: str, **request: Any) -> None:
        try:
            answers[kind] = httpx2.post(f"{base}{path}", timeout=120, **request)
        except httpx2.TransportError:
            answers[kind] = None  # killed before it answered

    edifact = {**post, "Content-Type": "application/edifact"}
    threads = [
        threading.Thread(target=call, args=("manifest", "/api/v1/manifests"),
                         kwargs={"content": paxlst, "headers": edifact}),
        threading.Thread(target=call, args=("message", "/api/v1/messages"),
                         kwargs={"json": message, "headers": officer}),
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    return threads


def joined(thread: threading.Thread) -> None:
    """``thread`` ended: each request's own timeout ends it, or the test fails saying so."""
    thread.join(150)
    assert not thread.is_alive(), "a request neither answered nor failed in 150 s"


def stored(url: str) -> dict[str, Any]:
    database = keyed_database(url)
    with database.session() as session:
        manifests = session.execute(select(StoredManifest.id, StoredManifest.travellers)).all()
        kept = dict(
            session.execute(
                select(ManifestTraveller.manifest_id, func.count()).group_by(
                    ManifestTraveller.manifest_id
                )
            ).all()
        )
        threads = set(session.scalars(select(Thread.id)))
        messages = dict(session.execute(select(Message.id, Message.thread_id)).all())
        attached = dict(
            session.execute(
                select(Attachment.message_id, func.sum(Attachment.size)).group_by(
                    Attachment.message_id
                )
            ).all()
        )
    database.dispose()
    return {
        "manifests": {row.id: (row.travellers, kept.get(row.id, 0)) for row in manifests},
        "threads": threads,
        "messages": messages,
        "attached": attached,
    }


def test_a_killed_server_keeps_lists_and_messages_whole_or_not_at_all(
    fresh_url: str, tmp_path: Path
) -> None:
    secret_key = secrets.token_urlsafe(48)
    post, officer = tokens_for(fresh_url, secret_key)
    rng = random.Random(SEED)
    journal = {"BORDERCHECK_QUERY_JOURNAL_DIR": str(tmp_path / "journal")}
    acknowledged: dict[str, list[dict[str, Any]]] = {"manifest": [], "message": []}
    unanswered = 0
    began = time.monotonic()
    typical = 1.0  # seconds both requests take: measured by the rounds killed after answering
    for n in range(ROUNDS):
        with server(fresh_url, secret_key, journal) as (base, process):
            answers: dict[str, Any] = {}
            started = time.monotonic()
            threads = send(base, post, officer, n, answers)
            if n % 2 == 0:  # the moment both have answered
                for thread in threads:
                    joined(thread)
                typical = time.monotonic() - started
            else:  # a seeded moment while they are being taken
                time.sleep(rng.uniform(0.0, typical))
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
            for thread in threads:
                joined(thread)
        for kind, answer in answers.items():
            if answer is None:
                unanswered += 1
                continue
            expected = 200 if kind == "manifest" else 201
            assert answer.status_code == expected, answer.text
            acknowledged[kind].append(answer.json())
    elapsed = time.monotonic() - began

    kept = stored(fresh_url)
    # Stored lists: each with every traveller; the acknowledged ones all there.
    for manifest_id, (travellers, rows) in kept["manifests"].items():
        assert travellers == TRAVELLERS == rows, f"list {manifest_id}: {rows} of {travellers}"
    for answer in acknowledged["manifest"]:
        for manifest in answer["manifests"]:
            assert manifest["manifest_id"] in kept["manifests"], "an acknowledged list was lost"
    # Threads each with their first message, messages each with their attachment.
    assert set(kept["messages"].values()) == kept["threads"], "a thread without its message"
    assert all(kept["attached"].get(m) == len(ATTACHMENT) for m in kept["messages"]), (
        "a message without its attachment"
    )
    for answer in acknowledged["message"]:
        [message] = answer["messages"]
        assert kept["messages"].get(message["id"]) == answer["id"], "an acknowledged message lost"
    assert len(acknowledged["manifest"]) >= ROUNDS // 2
    assert len(acknowledged["message"]) >= ROUNDS // 2
    # And a server started after them reads them back: the attachment as it was sent.
    with server(fresh_url, secret_key, journal) as (base, _process):
        for answer in acknowledged["message"]:
            [message] = answer["messages"]
            [attachment] = message["attachments"]
            url = (
                f"{base}/api/v1/messages/{answer['id']}/messages/{message['id']}"
                f"/attachments/{attachment['id']}"
            )
            download = httpx2.get(url, headers=officer, timeout=60)
            assert download.status_code == 200, download.text
            assert download.content == ATTACHMENT
    print(f"{ROUNDS} kills in {elapsed:.0f} s; {unanswered} requests killed unanswered")
