"""``records import`` killed (SIGKILL) anywhere leaves all of its file or nothing of it, never
a part, and no reader process behind; its run is marked failed by the next look (the next
import, ``records imports``), never left "running"; the file imported again completes,
without duplicates."""

from __future__ import annotations

import json
import random
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bordercheck.auth import service as auth_service
from bordercheck.registry.import_jobs import STOPPED
from bordercheck.registry.importer import PIPELINE_MIN_BYTES
from bordercheck.registry.models import Record, RecordImport
from tests.factories import keyed_database
from tests.processes import command, environment, kill

pytestmark = pytest.mark.slow

# Rows long enough for the two-process import (4 MiB and more) in few of them.
ROWS = 18_000
KILLS = 6  # per database: the moment of the commit, then at seeded moments of a run
RUNS = 12  # files tried at most, to kill KILLS runs
SEED = 20261206
HEADER = (
    "document_number,issuing_country,document_type,status,event_date,event_place,circumstances\n"
)
CIRCUMSTANCES = "taken from a locked car parked near the central station overnight; " * 3


def write_file(path: Path, prefix: str) -> Path:
    lines = (
        f"{prefix}{n:07d},DEU,passport,stolen,2024-03-01,BERLIN,{CIRCUMSTANCES}\n"
        for n in range(ROWS)
    )
    path.write_text(HEADER + "".join(lines))
    assert path.stat().st_size >= PIPELINE_MIN_BYTES
    return path


def prepare(url: str) -> None:
    database = keyed_database(url)
    with database.session(write=True) as session:
        auth_service.add_bureau(session, "DEU", "NCB DEU")
    database.dispose()


def written(url: str) -> tuple[dict[str, int], int, dict[str, RecordImport]]:
    """Records by the file's prefix, distinct numbers, and each file's last import."""
    database = keyed_database(url)
    with database.session() as session:
        prefix = func.substr(Record.document_number, 1, 2)
        by_prefix: dict[str, int] = dict(
            session.execute(select(prefix, func.count()).group_by(prefix)).all()
        )
        numbers = session.scalar(select(func.count(func.distinct(Record.document_number)))) or 0
        jobs = session.scalars(select(RecordImport).order_by(RecordImport.started_at)).all()
    database.dispose()
    return by_prefix, numbers, {job.file_name: job for job in jobs}


def killed_when_committed(url: str, process: subprocess.Popen[bytes], prefix: str) -> None:
    """SIGKILL the import the moment its records are visible: before it can say anything."""
    database = keyed_database(url)
    last = select(Record.id).where(Record.document_number == f"{prefix}{ROWS - 1:07d}")
    deadline = time.monotonic() + 300
    try:
        while process.poll() is None:
            with database.session() as session:
                if session.scalar(last) is not None:
                    process.send_signal(signal.SIGKILL)
                    break
            if time.monotonic() > deadline:
                kill(process)
                raise AssertionError("the import neither committed nor ended in 300 s")
    finally:
        database.dispose()


def listing(env: dict[str, str]) -> list[dict[str, object]]:
    process = command("records", "imports", "--json", "--limit", "100", env=env)
    out, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def test_an_import_killed_anywhere_writes_all_or_nothing_and_runs_again(
    fresh_url: str, tmp_path: Path
) -> None:
    prepare(fresh_url)
    env = environment(fresh_url, secrets.token_urlsafe(48))
    rng = random.Random(SEED)
    prefixes: list[str] = []
    began = time.monotonic()
    whole = 0.0
    killed: dict[str, float | None] = {}
    # First the moment its records commit (which also times a whole run), then moments
    # anywhere in a run, start-up included: each file is imported once, by one run. A run
    # that ends before its moment came (a machine less loaded than when the first run was
    # timed) times a whole run again, and another file is tried, up to RUNS files.
    while len(killed) < KILLS and len(prefixes) < RUNS:
        prefix = f"K{chr(ord('A') + len(prefixes))}"
        prefixes.append(prefix)
        path = write_file(tmp_path / f"{prefix}.csv", prefix)
        started = time.monotonic()
        process = command("records", "import", str(path), env=env)
        moment = None if len(prefixes) == 1 else rng.uniform(0.05, 0.9) * whole
        if moment is None:
            killed_when_committed(fresh_url, process, prefix)
            whole = time.monotonic() - started
        else:
            try:
                process.wait(timeout=moment)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)  # the command alone, as kill -9 does
        # Its reader, if any, ends by itself: else its pipes keep these open for ever.
        out, errors = process.communicate(timeout=30)
        kill(process)
        if process.returncode == -signal.SIGKILL:
            killed[prefix] = moment
            if "created" in out.decode():  # it said so before the signal came: it was so
                assert written(fresh_url)[0].get(prefix) == ROWS, out.decode()
        else:
            assert process.returncode == 0, errors.decode()
            whole = min(whole, time.monotonic() - started)
    assert len(killed) == KILLS, f"only {len(killed)} of {len(prefixes)} runs were killed"
    files = {prefix: tmp_path / f"{prefix}.csv" for prefix in prefixes}

    # Each file all or nothing, as the import's run says: done, or failed with nothing written.
    listed = {job["file_name"]: job for job in listing(env)}
    by_prefix, numbers, _ = written(fresh_url)
    assert numbers == sum(by_prefix.values()), "a record was imported twice"
    for prefix in prefixes:
        count, job = by_prefix.get(prefix, 0), listed.get(f"{prefix}.csv")
        assert count in {0, ROWS}, f"killed at {killed.get(prefix)}: {count:,} written"
        if job is None:  # killed while starting, before its run was recorded
            assert count == 0
        elif count:
            assert (job["state"], job["created"]) == ("done", ROWS), job
        else:
            assert (job["state"], job["message"]) == ("failed", STOPPED), job

    # Every file imported again: what was written is unchanged, the rest created, once.
    for prefix in prefixes:
        process = command("records", "import", str(files[prefix]), env=env)
        out, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors.decode()
        created = 0 if by_prefix.get(prefix) else ROWS
        assert f"{created:,} created" in out.decode()
    by_prefix, numbers, jobs = written(fresh_url)
    assert by_prefix == dict.fromkeys(prefixes, ROWS)
    assert numbers == ROWS * len(prefixes)
    assert all(job.state == "done" for job in jobs.values())
    elapsed = time.monotonic() - began
    print(f"{KILLS} imports killed and run again in {elapsed:.0f} s (a run: {whole:.1f} s)")
