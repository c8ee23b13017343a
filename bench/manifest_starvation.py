"""Screening latency while four clients post 1 MB passenger lists to the same worker.

``bordercheck serve --workers 1`` on a demo database; one client screens a document every
20 ms, first alone, then while four others post a 6,000-traveller PAXLST (about 1 MB) back
to back. Run it with the parse concurrency to compare (4 lets all four lists parse at once):

    .venv/bin/python bench/manifest_starvation.py --concurrency 1
    .venv/bin/python bench/manifest_starvation.py --concurrency 4
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).parent))
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from http_screening import free_port
from manifests import p, serving

BIN = Path(sys.executable).parent
SCREEN = {"document_number": "X1234567", "issuing_country": "DEU"}


def latencies(base: str, headers: dict[str, str], count: int) -> list[float]:
    spent = []
    with httpx2.Client(timeout=60) as http:
        for _ in range(count):
            started = time.perf_counter()
            answer = http.post(f"{base}/screen", json=SCREEN, headers=headers)
            spent.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"screening failed: {answer.text[:200]}")
            time.sleep(0.02)
    return sorted(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=12)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-starvation-"))
    env = {
        **os.environ,
        "BORDERCHECK_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "BORDERCHECK_RATE_LIMIT_PER_SECOND": "0",  # measure the parsing, not the limiter
        "BORDERCHECK_LOG_LEVEL": "WARNING",
        "BORDERCHECK_MANIFEST_MAX_BYTES": "2000000",
        "BORDERCHECK_MANIFEST_PARSE_CONCURRENCY": str(args.concurrency),
    }
    cli = str(BIN / "bordercheck")
    subprocess.run([cli, "demo", "--records", "20000", "--database", str(work / "bench.db"),
                    "--no-serve"], env=env, check=True, capture_output=True)  # fmt: skip
    made = subprocess.run(
        [cli, "clients", "add", "gateway", "--bureau", "FRA", "--role", "border_officer"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    creds = dict(line.split(": ", 1) for line in made.stdout.splitlines() if ": " in line)
    body = write_paxlst(synthetic_flight(6000, seed=3)).encode()
    port = free_port()
    with serving([cli, "serve", "--port", str(port), "--workers", "1"], env, port):
        base = f"http://127.0.0.1:{port}/api/v1"
        token = httpx2.post(f"{base}/auth/token", data={
            "grant_type": "client_credentials", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"]}).json()["access_token"]  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        quiet = latencies(base, headers, 100)
        stop = time.monotonic() + args.seconds

        edifact = {**headers, "Content-Type": "application/edifact"}

        def post_lists() -> None:
            with httpx2.Client(timeout=120) as http:
                while time.monotonic() < stop:
                    http.post(f"{base}/manifests", content=body, headers=edifact)

        posters = [threading.Thread(target=post_lists) for _ in range(4)]
        for poster in posters:
            poster.start()
        busy = latencies(base, headers, 200)
        for poster in posters:
            poster.join()
    print(
        f"| parse concurrency {args.concurrency}, list of {len(body):,} bytes | p50 ms | p99 ms |"
    )
    print("| --- | --- | --- |")
    print(f"| screening alone | {p(quiet, 0.5):.1f} | {p(quiet, 0.99):.1f} |")
    print(
        f"| screening beside 4 clients posting lists | {p(busy, 0.5):.1f} | {p(busy, 0.99):.1f} |"
    )


if __name__ == "__main__":
    main()
