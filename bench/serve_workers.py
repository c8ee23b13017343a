"""Start-up time and memory of ``bordercheck serve --workers N`` on an existing database.

Starts the real command in a subprocess (JSON logs), times from launch until every worker has
logged ``screening index ready``, then reads each process's resident (RSS) and proportional
(PSS: shared pages divided among the processes that map them) memory from
``/proc/PID/smaps_rollup``, and stops the server. Each run gets an empty cache directory,
then the same one again, so that the second start finds the shared snapshot current.

    .venv/bin/python bench/serve_workers.py --settings-file DIR/bordercheck.env [--workers 2]

The database: ``bordercheck demo --records 200000 --database DIR/bench.db --no-serve``.
To measure another version of the code, run it with ``PYTHONPATH=OTHER/src``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

READY_EVENT = "screening index ready"
START_DEADLINE = 600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        values[name] = int(value.split()[0])
    return {"rss": values["Rss"], "pss": values["Pss"]}


def start_once(settings_file: Path, workers: int, cache: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "BORDERCHECK_SETTINGS_FILE": str(settings_file),
        "BORDERCHECK_LOG_FORMAT": "json",
        "BORDERCHECK_CACHE_DIR": str(cache),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "bordercheck", "serve",
        "--workers", str(workers), "--port", str(free_port()),
    ]  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stderr is not None
        stderr = server.stderr
        threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
        try:
            ready = 0
            while ready < workers:
                line = lines.get(timeout=START_DEADLINE)
                if line.startswith("{") and json.loads(line).get("event") == READY_EVENT:
                    ready += 1
            seconds = time.perf_counter() - started
            time.sleep(1.0)  # let the feed followers settle before reading memory
            workers_memory = [memory_kib(pid) for pid in children(server.pid)]
            parent = memory_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "seconds": round(seconds, 2),
        "workers_rss_mib": round(sum(m["rss"] for m in workers_memory) / 1024, 1),
        "workers_pss_mib": round(sum(m["pss"] for m in workers_memory) / 1024, 1),
        "parent_pss_mib": round(parent["pss"] / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings-file", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"# {platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as cache:
        for attempt in ("first start", "second start"):
            result = start_once(args.settings_file, args.workers, Path(cache))
            print(f"{attempt}, {args.workers} workers: {json.dumps(result)}", flush=True)


if __name__ == "__main__":
    main()
