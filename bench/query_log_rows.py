"""What moving clean entries into the query log costs an entry, by the shape of its key and
the way its rows are sent, on SQLite.

Writes ``--entries`` clean entries into a fresh database of the real schema with the real
``write_parts``, a thousand a transaction (as the log's thread moves what 0.2 s of single
screens left), four ways: query ids random (as before) or beginning with their millisecond
(``new_query_ids``), rows sent by ``executemany`` or as one JSON array in one statement. Each
way runs twice: alone, and beside a thread that keeps the interpreter busy, as a worker's
event loop does at full load (a thread doing pure Python work); the switch interval is the
API process's. Prints µs an entry for each slice of the log as it grows, and each way's ratio
to the first (random ids, ``executemany``), measured in the same run.

    .venv/bin/python bench/query_log_rows.py [--entries 2000000] [--slices 4]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bordercheck.api.app import GIL_SWITCH_SECONDS
from bordercheck.db import Database
from bordercheck.migrations import upgrade
from bordercheck.screening import querylog
from bordercheck.screening.querylog import LoggedQuery, new_query_ids, write_parts

GROUP = 1_000


def random_ids(count: int) -> str:
    return os.urandom(16 * count).hex()


def entries(ids: str, at: datetime) -> list[LoggedQuery]:
    return [
        LoggedQuery(ids[i : i + 32], at, "client", "gate-07", "FRA", "CDG-T2", None, "number",
                    f"Z{i:08d}", "DEU", "passport", "no_hit")
        for i in range(0, len(ids), 32)
    ]  # fmt: skip


@contextmanager
def rows_sent(one_statement: bool) -> Iterator[None]:
    """The query log's rows sent as one statement (now), or by ``executemany`` (before)."""
    original = querylog.insert_tuples

    def insert(session: Any, table: Any, columns: Any, rows: Any, **_: Any) -> None:
        original(session, table, columns, rows, one_statement=one_statement)

    with patch.object(querylog, "insert_tuples", insert):
        yield


@contextmanager
def busy_interpreter(enabled: bool) -> Iterator[None]:
    stop = threading.Event()

    def spin() -> None:
        n = 0
        while not stop.is_set():
            n = (n * 31 + 7) % 1_000_003

    thread = threading.Thread(target=spin, daemon=True)
    if enabled:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if enabled:
            thread.join()


def run(make_ids: Callable[[int], str], total: int, slices: int) -> list[float]:
    """µs an entry for each slice of ``total`` entries written, a GROUP a transaction."""
    key = secrets.token_urlsafe(32)
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-querylog-')) / 'bench.db'}"
    upgrade(url, secret_key=key)
    database = Database(url, secret_key=key)
    at = datetime.now(UTC)
    per_slice = total // slices
    figures = []
    for _ in range(slices):
        spent = 0.0
        for _ in range(per_slice // GROUP):
            group = entries(make_ids(GROUP), at)
            started = time.perf_counter()
            with database.session(write=True) as session:
                write_parts(session, [group], on_hits=[])
            spent += time.perf_counter() - started
        figures.append(spent / per_slice * 1e6)
    database.dispose()
    Path(url.removeprefix("sqlite:///")).unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--slices", type=int, default=4)
    args = parser.parse_args()
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    ways = (
        ("random ids, executemany (before)", random_ids, False),
        ("time-ordered ids, executemany", new_query_ids, False),
        ("random ids, one statement", random_ids, True),
        ("time-ordered ids, one statement (now)", new_query_ids, True),
    )
    step = args.entries // args.slices
    slices = " | ".join(f"{(i + 1) * step:,}" for i in range(args.slices))
    print(f"µs an entry moved, {GROUP:,} a transaction, as the log reaches … entries; "
          f"load average at start {os.getloadavg()[0]:.1f}")  # fmt: skip
    print()
    print(f"| way | interpreter | {slices} | ratio to the first |")
    print("|" + " --- |" * (args.slices + 3))
    for busy in (False, True):
        baseline: float | None = None
        for name, make_ids, single in ways:
            with rows_sent(single), busy_interpreter(busy):
                figures = run(make_ids, args.entries, args.slices)
            mean = sum(figures) / len(figures)
            baseline = baseline or mean
            cells = " | ".join(f"{f:.1f}" for f in figures)
            print(f"| {name} | {'busy' if busy else 'idle'} | {cells} | "
                  f"{baseline / mean:.1f}× |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
