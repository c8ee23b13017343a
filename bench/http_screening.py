"""HTTP screening throughput: single screens under load, and 10,000-document batches.

Serves a demo database with ``bordercheck serve --workers 2``, drives it with ``wrk`` from the
same machine, and measures a bare FastAPI endpoint served the same way as the ceiling.

    .venv/bin/python bench/http_screening.py [--records 200000] [--seconds 15]

Needs ``wrk`` (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
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
import orjson

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
            deadline = time.monotonic() + 300
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    database = work / "bench.db"
    env = {
        **os.environ,
        "BORDERCHECK_DATABASE_URL": f"sqlite:///{database}",
        "BORDERCHECK_RATE_LIMIT_PER_SECOND": "0",  # measure the server, not the limiter
        "BORDERCHECK_LOG_LEVEL": "WARNING",
    }
    cli = str(BIN / "bordercheck")
    started = time.perf_counter()
    subprocess.run([cli, "demo", "--records", str(args.records), "--database", str(database),
                    "--no-serve"], env=env, check=True, capture_output=True)  # fmt: skip
    print(f"demo database with {args.records:,} records in {time.perf_counter() - started:.1f} s")
    env["BORDERCHECK_SETTINGS_FILE"] = str(work / "bordercheck.env")  # the demo's keys
    made = subprocess.run(
        [cli, "clients", "add", "bench", "--bureau", "FRA", "--role", "border_officer"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    creds = dict(line.split(": ", 1) for line in made.stdout.splitlines() if ": " in line)
    exported = work / "records.csv"
    subprocess.run(
        [cli, "records", "export", str(exported)], env=env, check=True, capture_output=True
    )
    rows = [line.split(",") for line in exported.read_text().splitlines()[1:]]
    hits = [(row[0], row[1]) for row in rows[:50] if not row[5]]
    country = hits[0][1]
    numbers = [n for n, c in hits if c == country][:5] + [f"Z{n:08d}" for n in range(995)]

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
        batch = [{"document_number": numbers[i % len(numbers)], "issuing_country": country}
                 for i in range(10_000)]  # fmt: skip
        body = orjson.dumps({"documents": batch})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        timings = []
        with httpx2.Client(timeout=30) as client:
            for _ in range(12):
                t = time.perf_counter()
                response = client.post(f"http://127.0.0.1:{port}/api/v1/screen/batch",
                                       content=body, headers=headers)  # fmt: skip
                timings.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.text
        timings = timings[2:]

    bare = work / "bare_app.py"
    bare.write_text(textwrap.dedent(BARE_APP))
    port = free_port()
    command = [str(BIN / "uvicorn"), "bare_app:app", "--port", str(port), "--workers", "2",
               "--log-level", "warning", "--no-access-log", "--app-dir", str(work)]  # fmt: skip
    with serving(command, env, port, "/docs"):
        run_wrk(port, script, 3, warm_up=True)
        ceiling = run_wrk(port, script, args.seconds)

    print()
    print("| measure | bordercheck | bare FastAPI endpoint | ratio |")
    print("| --- | --- | --- | --- |")
    ratio = ours[0] / ceiling[0]
    print(f"| single screens/s (wrk -t2 -c32) | {ours[0]:,.0f} | {ceiling[0]:,.0f} | {ratio:.2f} |")
    print(f"| p50 latency ms | {ours[1]:.1f} | {ceiling[1]:.1f} | |")
    print(f"| p99 latency ms | {ours[2]:.1f} | {ceiling[2]:.1f} | |")
    print(f"| 10,000-document batch ms (median of 10) | {statistics.median(timings):.0f} "
          f"(p90 {sorted(timings)[8]:.0f}) | | |")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
