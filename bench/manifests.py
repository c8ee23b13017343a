"""Passenger lists: a 400-traveller PAXLST read and screened, and lists a minute over HTTP.

In process, on an index of ``--records`` synthetic records (built from columns as
``bench/screening_index.py`` does): reading alone, reading and screening the whole flight
in one batch, and, as the baseline, the same 400 documents screened one request at a time.
Over HTTP: ``bordercheck serve --workers 2`` on a demo database, lists posted back to back
by ``--clients`` threads for ``--seconds``, each one read, screened, stored and logged.

    .venv/bin/python bench/manifests.py [--records 1000000] [--http-records 200000]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).parent))
from bordercheck.documents.types import DocumentType
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.service import screen_manifest
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.screening.records import DOCUMENT_TYPES
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.screening.service import Asker, screen_requests
from http_screening import free_port
from screening_index import generate

BIN = Path(sys.executable).parent
ASKER = Asker(kind="client", name="bench", bureau_code="FRA")


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[int]:
    """The server running and ready; yields its process id."""
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as server:  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    ready = httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                    if ready.status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("the server did not become ready")
            yield server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def cpu_seconds(root: int) -> float:
    """User and system CPU seconds of a process and all its descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    family, total = {root}, 0.0
    for _ in range(4):  # server, workers, and anything they start
        family |= {pid for pid, (parent, _) in stats.items() if parent in family}
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def timings(work: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each run, sorted. On a shared machine the CPU time of
    this thread is the steadier measure: waiting for a core does not count in it."""
    for _ in range(5):
        work()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        work()
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return sorted(wall), sorted(cpu)


def p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def in_process(records: int, runs: int) -> None:
    started = time.perf_counter()
    columns = generate(records, seed=7)
    index = columns.build()
    print(f"index of {records:,} records built in {time.perf_counter() - started:.1f} s")
    gc.collect()
    gc.freeze()  # as an API node does once its index is loaded (screening/live.py)
    planted = []
    for row in range(0, 5_000, 1_000):  # five recorded documents on the flight
        number = bytes(columns.numbers[row]).rstrip(b"\0").decode()
        kind = DOCUMENT_TYPES[int(columns.types[row])]
        planted.append(TravelDocument("P", kind, number, columns.countries[row].decode()))
    data = write_paxlst(synthetic_flight(400, seed=1, planted=planted), per_part=200).encode()
    flight = parse_paxlst(data).manifests[0]
    found = screen_manifest(index, flight, ASKER)
    hits = len(found.with_result("hit"))
    print(f"400-traveller list: {len(data):,} bytes, {hits} of 5 planted documents found")

    def screen_all() -> None:
        for manifest in parse_paxlst(data).manifests:
            screen_manifest(index, manifest, ASKER)

    requests = [
        ScreenRequest(document_number=d.number, issuing_country=d.issuing_country,
                      document_type=(d.document_type or DocumentType.OTHER).value)
        for t in flight.travellers for d in t.documents
    ]  # fmt: skip

    def one_by_one() -> None:
        for request in requests:
            screen_requests(index, [request], ASKER, source="manifest")

    rows = [
        ("read (parse) only", timings(lambda: parse_paxlst(data), runs)),
        ("screen only, one batch (list already read)",
         timings(lambda: screen_manifest(index, flight, ASKER), runs)),
        ("read and screen in one batch", timings(screen_all, runs)),
        ("baseline: the 400 documents screened one request at a time",
         timings(one_by_one, max(runs // 5, 10))),
    ]  # fmt: skip
    print()
    print("| 400 travellers | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {p(wall, 0.5):.1f} | {p(wall, 0.99):.1f} | {p(cpu, 0.5):.1f} | "
              f"{p(cpu, 0.99):.1f} |")  # fmt: skip
    ratio = p(rows[3][1][1], 0.5) / p(rows[1][1][1], 0.5)
    print(f"one batch vs one request at a time (screening alone, CPU p50): {ratio:.1f}x faster")


def over_http(records: int, seconds: int, clients: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-manifests-"))
    env = {
        **os.environ,
        "BORDERCHECK_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "BORDERCHECK_RATE_LIMIT_PER_SECOND": "0",  # measure the server, not the limiter
        "BORDERCHECK_LOG_LEVEL": "WARNING",
    }
    cli = str(BIN / "bordercheck")
    subprocess.run([cli, "demo", "--records", str(records), "--database", str(work / "bench.db"),
                    "--no-serve"], env=env, check=True, capture_output=True)  # fmt: skip
    env["BORDERCHECK_SETTINGS_FILE"] = str(work / "bordercheck.env")  # the demo's keys
    made = subprocess.run(
        [cli, "clients", "add", "gateway", "--bureau", "FRA", "--role", "border_officer"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    creds = dict(line.split(": ", 1) for line in made.stdout.splitlines() if ": " in line)
    bodies = [write_paxlst(synthetic_flight(400, seed=s)).encode() for s in range(20)]
    port = free_port()
    with serving([cli, "serve", "--port", str(port), "--workers", "2"], env, port) as pid:
        base = f"http://127.0.0.1:{port}/api/v1"
        token = httpx2.post(f"{base}/auth/token", data={
            "grant_type": "client_credentials", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"]}).json()["access_token"]  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/edifact"}
        latencies: list[float] = []
        failures: list[str] = []
        stop = time.monotonic() + seconds + 5  # the first 5 s warm both workers up
        lock = threading.Lock()

        def client(n: int) -> None:
            with httpx2.Client(timeout=60) as http:
                i = n
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    answer = http.post(f"{base}/manifests", content=bodies[i % 20], headers=headers)
                    spent = (time.perf_counter() - started) * 1000
                    i += clients
                    if answer.status_code == 503:  # a worker still loading its index
                        time.sleep(0.2)
                        continue
                    with lock:
                        if answer.status_code != 200:
                            failures.append(answer.text[:200])
                        elif time.monotonic() > stop - seconds:
                            latencies.append(spent)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(5)  # warm-up, not measured
        used = cpu_seconds(pid)
        for thread in threads:
            thread.join()
        used = cpu_seconds(pid) - used
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    if not latencies:
        raise SystemExit("no list was answered in the measured window")
    latencies.sort()
    print()
    print(f"| over HTTP, 2 workers, {clients} clients, {seconds} s | value |")
    print("| --- | --- |")
    print(f"| 400-traveller lists a minute | {len(latencies) * 60 / seconds:,.0f} |")
    print(f"| documents screened a second | {len(latencies) * 400 / seconds:,.0f} |")
    print(f"| latency p50 / p99 ms | {statistics.median(latencies):.0f} / "
          f"{p(latencies, 0.99):.0f} |")  # fmt: skip
    per_list = used * 1000 / len(latencies)
    print(f"| server CPU per list (both workers, query log and hit cases included) | "
          f"{per_list:.0f} ms |")  # fmt: skip
    print(f"| lists a minute the 2 cores would sustain at that cost | {120_000 / per_list:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--http-records", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    if not args.skip_in_process:
        in_process(args.records, args.runs)
    if not args.skip_http:
        over_http(args.http_records, args.seconds, args.clients)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
