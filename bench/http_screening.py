"""HTTP screening throughput: single screens under load, and 10,000-document batches.

Serves a demo database with ``bordercheck serve --workers 2``, drives it with ``wrk`` from the
same machine (1 % of the numbers screened are recorded: each a hit, its case committed before
its answer), and measures in the same run a bare FastAPI endpoint served the same way (the
ceiling of single screens) and PostgreSQL making the same look-ups as a 10,000-document batch
inside the database (``bench/screening_index.py``'s ``Postgres``, on a table of the same
records): the ratios are the figures to compare across machines and loads. The batch is sent
as a list of documents and as columns (one list per field), each answered in full and with
its matches only; a form the server does not offer is printed as such.

    .venv/bin/python bench/http_screening.py [--records 1000000] [--seconds 15] [--work DIR]

``--work DIR`` keeps the demo database (and its index snapshot) there and reuses it on the
next run: making 1,000,000 records takes minutes. Needs ``wrk`` (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import numpy as np
import orjson
import psycopg

from bordercheck.documents.types import DocumentType, family_of, parse_type_or_family
from bordercheck.screening.keys import WIDTH
from bordercheck.screening.matcher import Query
from bordercheck.screening.records import DOCUMENT_TYPES
from screening_index import Postgres, Records, keyed

BIN = Path(sys.executable).parent
BARE_APP = """
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    document_number: str
    issuing_country: str


@app.post("/api/v1/screen")
async def screen(body: Body) -> dict[str, object]:
    return {"query_id": "0", "result": "no_hit", "matches": []}
"""
WRK_SCRIPT = """
local numbers = {%s}
local i = 0
request = function()
  i = i + 1
  local number = numbers[(i %% #numbers) + 1]
  local body = '{"document_number":"' .. number .. '","issuing_country":"%s","location":"BENCH"}'
  return wrk.format("POST", "/api/v1/screen", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %s"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, ready: str) -> Iterator[None]:
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as server:
        try:
            deadline = time.monotonic() + 900  # a loaded machine, a first snapshot
            while True:
                try:
                    if httpx2.get(f"http://127.0.0.1:{port}{ready}", timeout=2).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if server.poll() is not None:
                    raise SystemExit(
                        f"server exited: {server.stderr.read().decode() if server.stderr else ''}"
                    )
                if time.monotonic() > deadline:
                    raise SystemExit("server did not become ready")
                time.sleep(0.2)
            yield
        finally:
            server.terminate()
            server.wait(timeout=30)


def run_wrk(
    port: int, script: Path, seconds: int, *, warm_up: bool = False
) -> tuple[float, float, float]:
    """Requests/s, p50 ms and p99 ms from ``wrk -t2 -c32 --latency``. Failed requests end the
    run, except while warming up: ``/readyz`` answered from one worker, and the other may
    still be loading its index (503 until it has)."""
    output = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/api/v1/screen"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors and not warm_up:
        raise SystemExit(f"{errors.group(1)} requests failed:\n{output}")
    return rate, percentile("50"), percentile("99")


RECORDED_SHARE = 0.01  # of the numbers screened, as in production's busiest hours and more
BATCH = 10_000


def demo_database(work: Path, records: int, env: dict[str, str]) -> Path:
    """The demo database in ``work``, made unless one of ``records`` records is there."""
    database = work / "bench.db"
    made = work / f"records-{records}"
    if database.exists() and made.exists():
        print(f"demo database reused: {database}")
        return database
    started = time.perf_counter()
    subprocess.run([str(BIN / "bordercheck"), "demo", "--records", str(records), "--database",
                    str(database), "--no-serve"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    made.touch()
    (work / "records.csv").unlink(missing_ok=True)
    print(f"demo database with {records:,} records in {time.perf_counter() - started:.1f} s")
    return database


def recorded_rows(work: Path, env: dict[str, str]) -> list[dict[str, str]]:
    exported = work / "records.csv"
    if not exported.exists():
        subprocess.run([str(BIN / "bordercheck"), "records", "export", str(exported)], env=env,
                       check=True, capture_output=True)  # fmt: skip
    with exported.open(newline="") as file:
        return list(csv.DictReader(file))


def as_records(rows: list[dict[str, str]]) -> Records:
    """The records as ``bench/screening_index.py``'s columns, for its PostgreSQL table."""
    count = len(rows)
    numbers = np.frombuffer(
        b"".join(row["document_number"].encode().ljust(WIDTH, b"\0") for row in rows), np.uint8
    ).reshape(count, WIDTH)
    types = np.array([DOCUMENT_TYPES.index(DocumentType(row["document_type"])) for row in rows],
                     np.uint8)  # fmt: skip
    return Records(
        np.arange(1, count + 1, dtype=np.uint32), numbers,
        np.array([row["issuing_country"].encode() for row in rows], "S3"), types,
        np.zeros(count, np.uint8), np.zeros(count, np.bool_), np.zeros(count, np.bool_),
    )  # fmt: skip


def postgres_lookups(url: str, rows: list[dict[str, str]], batch: list[dict[str, str]]) -> float:
    """Documents a second PostgreSQL looks up, the batch's documents as ``unnest`` joins on a
    table of the same records (the same look-ups as the index's), the better of five."""
    asked = [Query(d["document_number"], d["issuing_country"],
                   parse_type_or_family(d["document_type"]).value) for d in batch]  # fmt: skip
    keys = keyed(asked, by_coarse=True)
    schema = f"bench_http_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        try:
            connection.execute(f"SET search_path = {schema}")
            postgres = Postgres(connection, print)
            postgres.load(as_records(rows))
            postgres.batched("coarse", keys)  # warm the pages
            return max(postgres.batched("coarse", keys) for _ in range(5))
        finally:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def timed_batches(
    client: httpx2.Client, url: str, body: bytes, headers: dict[str, str], rounds: int = 12
) -> list[float] | None:
    """ms of each batch, the first two left out (warming); None if the server refused it."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.post(url, content=body, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code == 422:
            return None  # the code measured has no such answer
        assert response.status_code == 200, response.text
    return timings[2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--work", type=Path, help="keep the demo database here and reuse it")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-http-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "BORDERCHECK_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "BORDERCHECK_RATE_LIMIT_PER_SECOND": "0",  # measure the server, not the limiter
        "BORDERCHECK_LOG_LEVEL": "WARNING",
        "BORDERCHECK_CACHE_DIR": str(work / "cache"),  # the shared index snapshot, kept
    }
    load_at_start = os.getloadavg()
    demo_database(work, args.records, env)
    env["BORDERCHECK_SETTINGS_FILE"] = str(work / "bordercheck.env")  # the demo's keys
    cli = str(BIN / "bordercheck")
    made = subprocess.run(
        [cli, "clients", "add", f"bench-{os.getpid()}", "--bureau", "FRA", "--role",
         "border_officer"], env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    creds = dict(line.split(": ", 1) for line in made.stdout.splitlines() if ": " in line)
    rows = recorded_rows(work, env)
    first = [row for row in rows[:2000] if not row["serial_end"]]
    country = first[0]["issuing_country"]
    recorded = [row for row in first if row["issuing_country"] == country]
    share = round(1000 * RECORDED_SHARE)
    numbers = [row["document_number"] for row in recorded[:share]]
    numbers += [f"Z{n:08d}" for n in range(1000 - len(numbers))]
    kinds = {row["document_number"]: family_of(DocumentType(row["document_type"])).value
             for row in recorded[:share]}  # fmt: skip
    batch = [{"document_number": numbers[i % len(numbers)], "issuing_country": country,
              "document_type": kinds.get(numbers[i % len(numbers)], "passport")}
             for i in range(BATCH)]  # fmt: skip

    port = free_port()
    serve = [cli, "serve", "--port", str(port), "--workers", "2"]
    with serving(serve, env, port, "/readyz"):
        token = httpx2.post(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": creds["client_id"],
                  "client_secret": creds["client_secret"]},
        ).json()["access_token"]  # fmt: skip
        script = work / "screen.lua"
        script.write_text(WRK_SCRIPT % (",".join(f'"{n}"' for n in numbers), country, token))
        run_wrk(port, script, 3, warm_up=True)  # both workers: start-up, caches
        ours = run_wrk(port, script, args.seconds)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/api/v1/screen/batch"
        with httpx2.Client(timeout=60) as client:
            full = timed_batches(client, url, orjson.dumps({"documents": batch}), headers)
            compact = timed_batches(
                client, url, orjson.dumps({"documents": batch, "answer": "matches"}), headers
            )
            fields = ("document_number", "issuing_country", "document_type")
            columns = {name: [document[name] for document in batch] for name in fields}
            columns_full = timed_batches(client, url, orjson.dumps({"columns": columns}), headers)
            columns_compact = timed_batches(
                client, url, orjson.dumps({"columns": columns, "answer": "matches"}), headers
            )
    assert full is not None

    bare = work / "bare_app.py"
    bare.write_text(textwrap.dedent(BARE_APP))
    port = free_port()
    command = [str(BIN / "uvicorn"), "bare_app:app", "--port", str(port), "--workers", "2",
               "--log-level", "warning", "--no-access-log", "--app-dir", str(work)]  # fmt: skip
    with serving(command, env, port, "/docs"):
        run_wrk(port, script, 3, warm_up=True)
        ceiling = run_wrk(port, script, args.seconds)
    in_database = None if args.skip_postgres else postgres_lookups(args.postgres_url, rows, batch)

    print()
    print(f"{args.records:,} records; {os.cpu_count()} cores; load average at start "
          f"{load_at_start[0]:.1f}, at end {os.getloadavg()[0]:.1f}")  # fmt: skip
    print()
    print("| measure | bordercheck | ceiling or comparison | ratio |")
    print("| --- | --- | --- | --- |")
    ratio = ours[0] / ceiling[0]
    print(f"| single screens/s (wrk -t2 -c32) | {ours[0]:,.0f} | bare FastAPI {ceiling[0]:,.0f} "
          f"| {ratio:.2f} |")  # fmt: skip
    print(f"| single p50 / p99 ms | {ours[1]:.1f} / {ours[2]:.1f} | bare FastAPI {ceiling[1]:.1f}"
          f" / {ceiling[2]:.1f} | |")  # fmt: skip
    for name, timings in (
        ("full answer", full),
        ('"answer": "matches"', compact),
        ("as columns, full answer", columns_full),
        ('as columns, "answer": "matches"', columns_compact),
    ):
        if timings is None:
            print(f"| 10,000-document batch, {name} | not offered | | |")
            continue
        median = statistics.median(timings)
        rate = BATCH / median * 1000
        compared = f"PostgreSQL in-database {in_database:,.0f} docs/s" if in_database else ""
        versus = f"{rate / in_database:.2f}" if in_database else ""
        figures = f"{median:.0f} ({sorted(timings)[8]:.0f}) / {rate:,.0f}"
        print(f"| 10,000-document batch, {name}: ms (median of 10, p90) / docs/s | {figures} "
              f"| {compared} | {versus} |")  # fmt: skip
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
