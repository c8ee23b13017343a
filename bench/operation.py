"""An operation played end to end: 8,000 documents over four simulated days at two airports,
four participating bureaus, through the API and an offline kit; the live figures as they come
in, the time to compute them, and the final report as HTML and PDF.

The server runs in this process (uvicorn in a thread, SQLite by default) so that the bench can
play the days: screening's clock (``bordercheck.screening.service.utcnow``) and the hit
workflow's (``bordercheck.hits.api.utcnow``) are set to the simulated moment of each batch.
Days 1 to 3 are the three days before today, day 4 is today: the kit's checks are made on
day 4 (its own clock is not simulated) and uploaded when it syncs, each dated when made.

Desk officers of France at CDG and of Italy at FCO send batches of 50 documents with the
operation's id and their border post; Spanish liaison officers use a kit at FCO. Germany
reported three passports stolen; they turn up on days 1, 2 and 4 (the last on the kit), and a
few misread numbers of them give possible hits. Germany answers each hit, the desks record
the outcomes (seized, refused entry, arrested).

    .venv/bin/python bench/operation.py [--documents 8000] [--out bench-operation]
        [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from sqlalchemy import insert

import bordercheck.hits.api as hits_api
import bordercheck.screening.service as screening_service
from bordercheck.api.app import create_app
from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.edge import sync
from bordercheck.edge.screener import KitScreener
from bordercheck.migrations import upgrade
from bordercheck.operations import report, service
from bordercheck.registry import service as registry_service
from bordercheck.registry.schemas import RecordFields
from bordercheck.screening.models import ScreeningQuery
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.settings import Settings

STOLEN = ("C4RT3R001", "C4RT3R002", "C4RT3R003")
# Misread numbers of the stolen ones (O for 0, I for 1): possible hits.
MISREAD = ("C4RT3RO01", "C4RT3R0O2", "C4RT3ROO3", "C4RT3R00I", "C4RT3RO02")
BATCH = 50


class Clock:
    """The simulated moment screening and the hit workflow see; real time when unset."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)


class Served(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread of the bench, not the main one
        pass


def serve(app: Any) -> tuple[str, Served]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = Served(uvicorn.Config(app, log_level="warning", lifespan="on"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def token(base: str, client_id: str, secret: str) -> dict[str, str]:
    answer = httpx2.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id,
              "client_secret": secret},
    )  # fmt: skip
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def plan(documents: int, days: list[date], rng: random.Random) -> dict[tuple[int, str], list[str]]:
    """Document numbers per (day, desk): clean ones, with the stolen and misread planted."""
    kit_share = documents // 16
    desk_per_day = (documents - kit_share) // len(days)
    batches: dict[tuple[int, str], list[str]] = {}
    serial = 0
    for d in range(len(days)):
        for desk, share in (("CDG", desk_per_day // 2), ("FCO", desk_per_day - desk_per_day // 2)):
            numbers = []
            for _ in range(share):
                serial += 1
                numbers.append(f"B{serial:08d}")
            batches[(d, desk)] = numbers
    batches[(len(days) - 1, "kit")] = [f"K{n:08d}" for n in range(kit_share)]
    batches[(0, "CDG")][rng.randrange(desk_per_day // 2)] = STOLEN[0]
    batches[(1, "FCO")][rng.randrange(desk_per_day // 2)] = STOLEN[1]
    batches[(len(days) - 1, "kit")][rng.randrange(kit_share)] = STOLEN[2]
    for n, number in enumerate(MISREAD):
        desk = "CDG" if n % 2 else "FCO"
        batches[(n % len(days), desk)][rng.randrange(100)] = number
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=8000)
    parser.add_argument("--out", type=Path, default=Path("bench-operation"))
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--background", type=int, default=0,
        help="queries of other posts, over 30 days around the operation, logged first",
    )  # fmt: skip
    args = parser.parse_args()
    rng = random.Random(19)
    work = Path(tempfile.mkdtemp(prefix="bench-operation-"))
    url = args.database_url or f"sqlite:///{work / 'operation.db'}"
    settings = Settings(
        env="test", database_url=url, edge_cache_dir=work / "cache", rate_limit_per_second=0,
        log_level="WARNING",
    )  # fmt: skip
    upgrade(url, secret_key=settings.secret_key)
    database = Database.from_settings(settings)
    clients: dict[str, tuple[str, str]] = {}
    with database.session(write=True) as session:
        for code in ("DEU", "FRA", "ITA", "ESP", settings.secretariat_code):
            auth_service.add_bureau(session, code, f"NCB {code}")
        for name, bureau, role in (
            ("desk-cdg", "FRA", Role.BORDER_OFFICER), ("desk-fco", "ITA", Role.BORDER_OFFICER),
            ("kit-fco", "ESP", Role.BORDER_OFFICER), ("ncb-deu", "DEU", Role.BUREAU_OFFICER),
            ("ncb-fra", "FRA", Role.BUREAU_OFFICER), ("ncb-ita", "ITA", Role.BUREAU_OFFICER),
            ("ncb-esp", "ESP", Role.BUREAU_OFFICER),
            ("coordinator", settings.secretariat_code, Role.ANALYST),
        ):  # fmt: skip
            client, secret = auth_service.add_client(session, name, bureau=bureau, role=role)
            clients[name] = (client.client_id, secret)
        deu = Actor(name="ncb.deu", role=Role.BUREAU_OFFICER, bureau_code="DEU")
        for number in STOLEN:
            registry_service.create_record(
                session, deu, RecordFields(document_number=number, issuing_country="DEU",
                                           document_type="passport", status="stolen"),
            )  # fmt: skip
    if args.background:
        t = time.perf_counter()
        log_elsewhere(database, args.background, rng)
        print(f"{args.background:,} other queries logged in {time.perf_counter() - t:.0f} s")
    clock = Clock()
    screening_service.utcnow = clock  # type: ignore[assignment]
    hits_api.utcnow = clock  # type: ignore[assignment]
    app = create_app(settings, database)
    base, server = serve(app)
    assert app.state.live_index.wait_ready(60)
    http = httpx2.Client(base_url=base, timeout=60)
    headers = {name: token(base, *creds) for name, creds in clients.items()}

    kit_dir = work / "kit"
    kit_client, kit_secret = clients["kit-fco"]
    initialised = sync.init(kit_dir, base, kit_client, kit_secret)
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=3 - n) for n in range(4)]
    created = http.post("/api/v1/operations", headers=headers["coordinator"], json={
        "name": "Blue Gate", "purpose": "Every travel document checked against the registry at "
        "Paris-Charles de Gaulle and Rome-Fiumicino, four days.",
        "starts_on": days[0].isoformat(), "ends_on": days[-1].isoformat(),
        "locations": ["CDG", "FCO"], "bureaus": ["FRA", "ITA", "ESP", "DEU"],
        "clients": [clients["desk-cdg"][0], clients["desk-fco"][0]],
        "kits": [initialised.kit_id],
    })  # fmt: skip
    created.raise_for_status()
    operation_id = created.json()["id"]
    print(f"operation {operation_id}: {days[0]} … {days[-1]}, CDG and FCO, FRA ITA ESP DEU")

    batches = plan(args.documents, days, rng)
    sent = 0
    started = time.perf_counter()
    for d, day in enumerate(days):
        desks = [(desk, batches[(d, desk)]) for desk in ("CDG", "FCO")]
        per_desk = max(len(numbers) for _, numbers in desks)
        for offset in range(0, per_desk, BATCH):
            # Checks spread over the day, 06:00 to 22:00.
            moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                hours=6 + 16 * offset / per_desk
            )
            clock.moment = min(moment, datetime.now(UTC))
            for desk, numbers in desks:
                chunk = numbers[offset : offset + BATCH]
                if not chunk:
                    continue
                documents = [{"document_number": n, "issuing_country": "DEU",
                              "document_type": "passport", "location": desk,
                              "operation_id": operation_id} for n in chunk]  # fmt: skip
                client = "desk-cdg" if desk == "CDG" else "desk-fco"
                answer = http.post("/api/v1/screen/batch", headers=headers[client],
                                   json={"documents": documents})  # fmt: skip
                answer.raise_for_status()
                sent += len(chunk)
        clock.moment = None
        if d == len(days) - 1:
            screener = KitScreener(kit_dir, max_age_hours=48)
            kit_numbers = batches[(d, "kit")]
            for offset in range(0, len(kit_numbers), BATCH):
                requests = [ScreenRequest(document_number=n, issuing_country="DEU",
                                          document_type="passport", location="FCO")
                            for n in kit_numbers[offset:offset + BATCH]]  # fmt: skip
                screener.screen(requests, "liaison.esp")
            uploaded = sync.sync(kit_dir).uploaded
            sent += len(kit_numbers)
            print(f"day {d + 1}: kit uploaded {uploaded} checks made offline at FCO")
        answer_and_close(http, headers, clock)
        time.sleep(0.5)  # clean queries reach the log a moment after their answers
        t = time.perf_counter()
        figures = http.get(f"/api/v1/operations/{operation_id}/figures",
                           headers=headers["ncb-ita"]).json()  # fmt: skip
        took = (time.perf_counter() - t) * 1000
        total = figures["total"]
        print(f"day {d + 1} ({day}): {sent:,} sent so far; figures: {total['checked']:,} "
              f"checked, {total['hits']} hits, {total['possible_hits']} possible hits "
              f"(GET /figures {took:.0f} ms)")  # fmt: skip
    print(f"played {sent:,} documents in {time.perf_counter() - started:.1f} s")

    time.sleep(1)  # the last clean queries reach the log
    args.out.mkdir(parents=True, exist_ok=True)
    with database.session() as session:
        operation = service.find(session, operation_id)
        timings = []
        for _ in range(5):
            figures_now = service.figures(session, operation)
            timings.append(figures_now.compute_seconds * 1000)
        best, median = min(timings), sorted(timings)[2]
        checked = figures_now.total.checked
        print(f"figures computed in {best:.1f} ms (best of 5; median {median:.1f} ms) "
              f"over {checked:,} queries")  # fmt: skip
        summary = figures_now.as_dict()
        for path, fmt in ((args.out / "report.html", "html"), (args.out / "report.pdf", "pdf")):
            t = time.perf_counter()
            body = report.render(session, figures_now, fmt)
            path.write_bytes(body)
            print(f"{path}: {len(body):,} bytes in {time.perf_counter() - t:.2f} s")
    print("by day:", {row["day"]: row["checked"] for row in summary["by_day"]})
    print("by border post:", {row["location"]: row["checked"] for row in summary["by_location"]})
    print("by bureau:", {row["bureau"]: row["checked"] for row in summary["by_bureau"]})
    print("cases:", summary["cases"])
    server.should_exit = True
    http.close()


OUTCOMES = ("seized", "refused_entry", "arrested")
POSTS = tuple(f"P{n:03d}" for n in range(200))


def log_elsewhere(database: Database, count: int, rng: random.Random) -> None:
    """The rest of the world's checks, in the query log as screening writes them: at 200
    other posts, over the 30 days around the operation."""
    start = datetime.now(UTC) - timedelta(days=20)
    with database.session(write=True) as session:
        for first in range(0, count, 50_000):
            rows = [
                {"id": f"bg{n:030x}", "at": start + timedelta(seconds=rng.randrange(30 * 86400)),
                 "principal_kind": "client", "principal_name": "elsewhere", "bureau_code": "DEU",
                 "location": POSTS[n % len(POSTS)], "operation_id": None, "source": "batch",
                 "document_number": f"Z{n:08d}", "issuing_country": "DEU",
                 "document_type": "passport", "result": "no_hit", "match_count": 0}
                for n in range(first, min(first + 50_000, count))
            ]  # fmt: skip
            session.execute(insert(ScreeningQuery), rows)


def answer_and_close(http: httpx2.Client, headers: dict[str, dict[str, str]], clock: Clock) -> None:
    """Germany answers each open hit 40 minutes after it came; the desk records the outcome."""
    cases = http.get("/api/v1/hits", headers=headers["ncb-deu"]).json()["hits"]
    for case in cases:
        if case["state"] != "open":
            continue
        opened = datetime.fromisoformat(case["created_at"])
        clock.moment = min(opened + timedelta(minutes=40), datetime.now(UTC))
        answered = http.post(f"/api/v1/hits/{case['id']}/answer", headers=headers["ncb-deu"],
                             json={"answer": "confirmed", "action": "seize_document"})  # fmt: skip
        answered.raise_for_status()
        desk = f"ncb-{case['querying_bureau'].lower()}"
        outcome = OUTCOMES[case["id"] % len(OUTCOMES)]
        recorded = http.post(f"/api/v1/hits/{case['id']}/outcome", headers=headers[desk],
                             json={"outcome": outcome})  # fmt: skip
        if recorded.status_code >= 300:
            print(f"outcome of case {case['id']} refused: {recorded.text}", file=sys.stderr)
    clock.moment = None


if __name__ == "__main__":
    main()
