"""PostgreSQL stopped (as a crash) and started again while ``bordercheck serve`` is under load:
``/readyz`` says not ready within a second, every request is answered correctly or refused
with 503 (Retry-After, the error shape), never 500 and never a wrong answer, and the server
takes requests again by itself within seconds of the database's return, having kept every
query it answered.

The database is a PostgreSQL cluster of this test's own (``tests.servers.PrivateCluster``):
stopping it disturbs no other test."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.migrations import upgrade
from bordercheck.registry import service as registry_service
from bordercheck.screening.models import ScreeningQuery
from tests.factories import fields, officer, secret_key
from tests.servers import PrivateCluster, postgres_bin, private_cluster, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL's server programs not found"),
]

RECORDED = {"document_number": "C01X00T47", "issuing_country": "DEU"}
LOADERS = 4
WARM_SECONDS = 1.5
OUTAGE_SECONDS = 4.0
NOT_READY_WITHIN = 1.0
BACK_WITHIN = 10.0  # seconds after the database is back, on a loaded two-core machine
ERROR_KEYS = {"error", "message", "errors"}


@dataclass
class Answer:
    at: float
    kind: str  # "hit", "clean", "read"
    status: int
    body: dict[str, Any]
    retry_after: str | None


@dataclass
class Load:
    base: str
    token: str
    record_id: int
    answers: list[Answer] = field(default_factory=list)
    readiness: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drive(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx2.Client(base_url=self.base, headers=headers, timeout=30) as client:
            for turn in itertools.count(n):
                if self.stop.is_set():
                    return
                kind = ("hit", "clean", "read")[turn % 3]
                try:
                    if kind == "read":
                        response = client.get(f"/api/v1/records/{self.record_id}")
                    else:
                        body = RECORDED if kind == "hit" else {
                            "document_number": f"ZQ{next(self._numbers):07d}",
                            "issuing_country": "DEU",
                        }  # fmt: skip
                        response = client.post("/api/v1/screen", json=body)
                except httpx2.TransportError as exc:  # the server must stay up throughout
                    self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                answer = Answer(time.monotonic(), kind, response.status_code, _json(response),
                                response.headers.get("Retry-After"))  # fmt: skip
                with self._lock:
                    self.answers.append(answer)

    def probe(self) -> None:
        with httpx2.Client(base_url=self.base, timeout=5) as client:
            while not self.stop.is_set():
                try:
                    status = client.get("/readyz").status_code
                except httpx2.TransportError:
                    status = 0
                self.readiness.append((time.monotonic(), status))
                time.sleep(0.05)


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"not_json": response.text[:200]}
    return body if isinstance(body, dict) else {"not_an_object": body}


def prepare(cluster: PrivateCluster) -> tuple[int, str, str]:
    upgrade(cluster.url, secret_key=secret_key())
    database = Database(cluster.url, secret_key=secret_key())
    with database.session(write=True) as session:
        auth_service.ensure_secretariat(session, "XPO", "General Secretariat")
        for country in ("DEU", "FRA"):
            auth_service.add_bureau(session, country, f"NCB {country}")
        record = registry_service.create_record(session, officer("DEU"), fields())
        client, secret = auth_service.add_client(
            session, "bureau desk", bureau="DEU", role=Role.BUREAU_OFFICER
        )
        ids = record.id, client.client_id
    database.dispose()
    return ids[0], ids[1], secret


def logged(url: str, query_ids: list[str]) -> dict[str, str]:
    database = Database(url, secret_key=secret_key())
    try:
        with database.session() as session:
            rows = session.execute(
                select(ScreeningQuery.id, ScreeningQuery.result).where(
                    ScreeningQuery.id.in_(query_ids)
                )
            )
            return {row.id: row.result for row in rows}
    finally:
        database.dispose()


def test_the_database_stopped_and_started_under_load(tmp_path: Path) -> None:
    with private_cluster() as cluster:
        record_id, client_id, secret = prepare(cluster)
        # A rate limit that the load never reaches: here it is the database that fails.
        with serve(cluster.url, secret_key(), tmp_path, rate_limit_per_second="100000",
                   rate_limit_burst="100000") as served:  # fmt: skip
            token = httpx2.post(
                f"{served.base}/api/v1/auth/token",
                data={"grant_type": "client_credentials", "client_id": client_id,
                      "client_secret": secret},
                timeout=30,
            ).json()["access_token"]  # fmt: skip
            load = Load(served.base, token, record_id)
            threads = [threading.Thread(target=load.drive, args=(n,)) for n in range(LOADERS)]
            threads.append(threading.Thread(target=load.probe))
            for thread in threads:
                thread.start()
            try:
                time.sleep(WARM_SECONDS)
                stopped_at = time.monotonic()
                cluster.kill()
                killed_in = time.monotonic() - stopped_at
                time.sleep(OUTAGE_SECONDS)
                restarted_at = time.monotonic()
                cluster.start()
                back_at = time.monotonic()
                deadline = back_at + BACK_WITHIN + 20
                while time.monotonic() < deadline and not _recovered(load, back_at):
                    time.sleep(0.05)
                time.sleep(0.5)
            finally:
                load.stop.set()
                for thread in threads:
                    thread.join(60)
            server_log = served.log()

        # The server stayed up and answered every request.
        assert load.errors == []
        statuses = {answer.status for answer in load.answers}
        assert statuses <= {200, 503}, f"statuses {sorted(statuses)}:\n{server_log[-3000:]}"
        assert "Traceback" not in server_log
        # Every refusal is the error shape with Retry-After; every answer is right.
        for answer in load.answers:
            if answer.status == 503:
                assert set(answer.body) >= ERROR_KEYS, answer.body
                assert answer.body["error"] == "unavailable", answer.body
                assert answer.retry_after is not None
                assert int(answer.retry_after) >= 1
            elif answer.kind == "hit":
                assert answer.body["result"] == "hit", answer.body
            elif answer.kind == "clean":
                assert answer.body["result"] == "no_hit", answer.body
            else:
                assert answer.body["document_number"] == RECORDED["document_number"]
        # Before: answered. During: refused (a match cannot be logged, so never answered).
        before = [a for a in load.answers if a.at < stopped_at]
        during = [a for a in load.answers if stopped_at + NOT_READY_WITHIN < a.at < restarted_at]
        assert before
        assert all(a.status == 200 for a in before)
        assert during, "no request was answered while the database was down"
        assert all(a.status == 503 for a in during if a.kind != "clean")
        # /readyz: not ready within a second of the stop, ready again by itself.
        not_ready = [at for at, status in load.readiness if at >= stopped_at and status == 503]
        assert not_ready, "readyz never said not ready"
        said_in = not_ready[0] - stopped_at
        assert said_in <= NOT_READY_WITHIN + killed_in, f"not ready said after {said_in:.2f} s"
        ready_again = [at for at, status in load.readiness if at >= back_at and status == 200]
        assert ready_again, "readyz never said ready again"
        hits_again = [a.at for a in load.answers
                      if a.at >= back_at and a.kind == "hit" and a.status == 200]  # fmt: skip
        assert hits_again, "no hit was answered after the database came back"
        assert ready_again[0] - back_at <= BACK_WITHIN
        assert hits_again[0] - back_at <= BACK_WITHIN
        # Every query answered, before, during (clean ones, journalled) and after, is logged.
        answered = {a.body["query_id"]: a.body["result"] for a in load.answers
                    if a.status == 200 and a.kind != "read"}  # fmt: skip
        deadline = time.monotonic() + 30
        while (found := logged(cluster.url, list(answered))) != answered:
            lost = [
                (round(a.at - stopped_at, 2), a.kind, a.body["query_id"])
                for a in load.answers
                if a.status == 200 and a.kind != "read" and a.body["query_id"] not in found
            ]
            journals = sorted(p.name for p in (tmp_path / "journal").glob("*"))
            assert time.monotonic() < deadline, (
                f"{len(lost)} answered, lost: {lost}; back at {back_at - stopped_at:.2f}; "
                f"journals {journals}"
            )
            time.sleep(0.2)
        print(  # the figures docs/reliability.md quotes (pytest -s shows them)
            f"\nrequests {len(load.answers)}: {sum(a.status == 200 for a in load.answers)} "
            f"answered, {sum(a.status == 503 for a in load.answers)} refused (503); "
            f"readyz not ready {said_in:.2f} s after the stop (pg_ctl took {killed_in:.2f} s); "
            f"database back {back_at - restarted_at:.2f} s after start; ready again "
            f"{ready_again[0] - back_at:.2f} s and first hit answered "
            f"{hits_again[0] - back_at:.2f} s after it; {len(answered)} answered queries logged"
        )


def _recovered(load: Load, back_at: float) -> bool:
    ready = any(at >= back_at and status == 200 for at, status in load.readiness)
    hit = any(a.at >= back_at and a.kind == "hit" and a.status == 200 for a in list(load.answers))
    return ready and hit
