"""A kit's ``edge sync`` killed (SIGKILL) while it downloads a snapshot, applies bundles of
changes or uploads its queue: the kit is left on a whole state (its files load and verify, its
sequence matches what it holds), it still answers, the next sync completes, and the centre
holds every query the kit asked exactly once."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bordercheck.auth import service as auth_service
from bordercheck.cli import app
from bordercheck.edge import sync
from bordercheck.edge.models import EdgeUpload
from bordercheck.edge.queue import OfflineQueue
from bordercheck.edge.screener import KitScreener
from bordercheck.edge.store import QUEUE, KitDirectory
from bordercheck.hits.models import HitSighting
from bordercheck.registry import feed
from bordercheck.registry import service as registry_service
from bordercheck.registry.models import Change
from bordercheck.screening.models import ScreeningQuery
from bordercheck.screening.schemas import ScreenRequest
from tests.edge.conftest import STOLEN, Centre
from tests.factories import fields, keyed_database, officer
from tests.processes import command, environment, kill

pytestmark = pytest.mark.slow

BORDERCHECK = (sys.executable, "-m", "bordercheck")
SEED = 20261206
BUNDLE = 40  # feed entries a bundle: a few thousand changes make many bundles, many commits
CHANGES = 600  # new records at the centre before each round that kills a bundle
QUEUED = 1200  # queries queued on the kit before each round that kills an upload
CLEAN = "Q12345678"
# What each sync is killed in, in turn.
ROUNDS = ("upload", "bundles", "snapshot", "upload", "bundles", "snapshot", "bundles")
ATTEMPTS = 4  # syncs of a round's kind tried until one is killed mid-way


def kit_env() -> dict[str, str]:
    """The kit's own process: no database, no secret key of the centre's."""
    env = environment("", "")
    for name in ("BORDERCHECK_DATABASE_URL", "BORDERCHECK_SECRET_KEY"):
        env.pop(name)
    return env


def report_many(centre: Centre, start: int, count: int) -> None:
    with centre.database.session(write=True) as session:
        for n in range(start, start + count):
            registry_service.create_record(
                session, officer("ITA"), fields(document_number=f"K{n:07d}", issuing_country="ITA")
            )


def queue_queries(kit: Path, start: int, count: int) -> list[str]:
    """``count`` queries answered on the kit (one in 200 a recorded number): their ids."""
    requests = [
        ScreenRequest(document_number=STOLEN[0], issuing_country="DEU")
        if n % 200 == 7
        else ScreenRequest(document_number=f"Z{n:07d}", issuing_country="FRA")
        for n in range(start, start + count)
    ]
    answers = KitScreener(kit, max_age_hours=48).screen(requests, "officer.test")
    return [str(a["query_id"]) for a in answers]


def check(kit: Path, number: str, country: str) -> dict[str, object]:
    done = CliRunner().invoke(
        app, ["edge", "check", "--dir", str(kit), "--number", number, "--country", country]
    )
    assert done.exit_code == 0, done.output
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def records_at(centre: Centre, sequence: int) -> int:
    """Records held at the centre at ``sequence`` (the test only adds records)."""
    with centre.database.session() as session:
        return int(
            session.scalar(select(func.count(Change.seq)).where(Change.seq <= sequence)) or 0
        )


def on_centre(centre: Centre, kit_id: str) -> tuple[set[str], set[str], dict[str, int]]:
    """Ids the centre acknowledged (noted as received), ids in its query log from kits, and
    the number of hit sightings of each query."""
    with centre.database.session() as session:
        received = set(
            session.scalars(select(EdgeUpload.entry_id).where(EdgeUpload.kit_id == kit_id))
        )
        logged = set(
            session.scalars(select(ScreeningQuery.id).where(ScreeningQuery.source == "kit"))
        )
        sightings = dict(
            session.execute(
                select(HitSighting.query_id, func.count()).group_by(HitSighting.query_id)
            ).all()
        )
    return received, logged, {str(k): int(v) for k, v in sightings.items()}


def wait_for(process: subprocess.Popen[bytes], seen: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while process.poll() is None and not seen() and time.monotonic() < deadline:
        time.sleep(0.002)


def test_a_killed_kit_sync_loses_nothing_and_the_next_completes(
    fresh_url: str, tmp_path: Path
) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        for country in ("DEU", "FRA", "ITA"):
            auth_service.add_bureau(session, country, f"NCB {country}")
    database.dispose()
    centre = Centre(fresh_url, tmp_path / "cache", edge_bundle_max_changes=BUNDLE)
    try:
        for number in STOLEN:
            centre.report(number)
        run(centre, tmp_path / "kit")
    finally:
        centre.stop()
        centre.database.dispose()


def run(centre: Centre, kit: Path) -> None:
    rng = random.Random(SEED)
    client_id, secret = centre.add_client("FRA")
    kit_id = sync.init(kit, centre.url, client_id, secret).kit_id
    env = kit_env()
    # A query asked with the command itself, in a process of its own, before any sync.
    asked_by_command = subprocess.run(
        [*BORDERCHECK, "edge", "check", "--dir", str(kit), "--number", STOLEN[1],
         "--country", "DEU"],
        env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    first = json.loads(asked_by_command.stdout)
    assert first["result"] == "possible_hit"
    asked: list[str] = [first["query_id"]]
    hits: set[str] = {first["query_id"]}
    reported = queued = 0
    killed: list[str] = []
    started = time.monotonic()

    def one_sync(phase: str, delay: float) -> bool:
        """One sync of ``phase``'s kind, killed ``delay`` seconds at most after its work is
        seen to begin; then the kit is checked whole. True if the kill landed mid-way."""
        nonlocal reported, queued
        directory = KitDirectory(kit)
        before = directory.state()
        args = ["edge", "sync", "--dir", str(kit)]
        if phase == "upload":
            ids = queue_queries(kit, queued, QUEUED)
            hits.update(i for n, i in enumerate(ids, queued) if n % 200 == 7)
            asked.extend(ids)
            queued += QUEUED
            received_before = len(on_centre(centre, kit_id)[0])

            def seen(received_before: int = received_before) -> bool:
                return len(on_centre(centre, kit_id)[0]) > received_before

        elif phase == "bundles":
            report_many(centre, reported, CHANGES)
            reported += CHANGES

            def seen(start: int = before.sequence) -> bool:
                try:
                    return KitDirectory(kit).state().sequence > start
                except Exception:
                    return False

        else:
            args.append("--snapshot")

            def seen() -> bool:
                return any(kit.glob("download-*.part")) or any(kit.glob("snapshot-*.bin.*"))

        process = command(*args, env=env)
        wait_for(process, seen, within=60)
        time.sleep(rng.uniform(0.0, delay))
        landed = process.poll() is None
        if landed:
            kill(process)
        code = process.wait(timeout=30)
        print(  # shown with -s: where each kill landed
            f"{phase}: exit {code} at {time.monotonic() - started:.1f} s, sequence "
            f"{before.sequence} -> {KitDirectory(kit).state().sequence}, "
            f"{len(on_centre(centre, kit_id)[0])} received"
        )
        _, stderr = process.communicate(timeout=30)
        assert code in (0, -signal.SIGKILL), stderr.decode()

        # The kit is whole: its files load and verify, its sequence matches what it holds.
        loaded = KitDirectory(kit).load()
        assert loaded.state.sequence >= before.sequence
        assert loaded.source().size == records_at(centre, loaded.state.sequence)
        recorded, clean = check(kit, STOLEN[0], "DEU"), check(kit, CLEAN, "DEU")
        assert recorded["result"] == "possible_hit"
        assert clean["result"] == "no_hit"
        asked.extend([str(recorded["query_id"]), str(clean["query_id"])])
        hits.add(str(recorded["query_id"]))
        # What the centre acknowledged it logged, once; the rest is still in the kit's queue.
        received, logged, sightings = on_centre(centre, kit_id)
        assert received <= set(asked)
        assert received == logged & set(asked)
        assert all(sightings.get(i) == 1 for i in received & hits), "a hit logged twice or not"
        waiting = {i for i, _ in OfflineQueue(kit / QUEUE).pending(100_000)}
        assert set(asked) <= received | waiting, "a query the kit answered was lost"
        return landed

    for phase in ROUNDS:
        # A snapshot of a few thousand rows is fetched and checked within milliseconds; a
        # sync that finished before its kill is tried again, sooner after it starts.
        delay = 0.005 if phase == "snapshot" else 0.25
        for _ in range(ATTEMPTS):
            if one_sync(phase, delay):
                killed.append(phase)
                break
            delay /= 4

    elapsed = time.monotonic() - started
    done = subprocess.run(
        [*BORDERCHECK, "edge", "sync", "--dir", str(kit)],
        env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    with centre.database.session() as session:
        assert KitDirectory(kit).state().sequence == feed.last_sequence(session)
    assert len(OfflineQueue(kit / QUEUE)) == 0
    received, logged, sightings = on_centre(centre, kit_id)
    assert received == logged == set(asked), "a query lost, or one the kit never asked"
    assert len(asked) == len(set(asked))
    assert {i for i in hits if sightings.get(i) == 1} == hits, "a hit lost or sighted twice"
    loaded = KitDirectory(kit).load()
    assert loaded.source().size == len(STOLEN) + reported
    assert check(kit, f"K{reported - 1:07d}", "ITA")["result"] == "possible_hit"
    assert len(killed) >= len(ROUNDS) - 1, f"only {killed} were killed mid-way"
    assert elapsed < 60 * 4, f"{len(ROUNDS)} rounds of killed syncs took {elapsed:.0f} s"
