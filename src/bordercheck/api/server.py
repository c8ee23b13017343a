"""Running the API under uvicorn; each worker builds its app through ``create_app``."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import uvicorn

from bordercheck.console import err, out
from bordercheck.db import Database
from bordercheck.memory import return_freed_memory
from bordercheck.screening.live import screening_key
from bordercheck.screening.shared import PreparedSnapshot, cached_snapshot_path, prepare_snapshot
from bordercheck.settings import Settings

# How long the ready line waits for a worker's first answer (a large index loads after it).
READY_WAIT_SECONDS = 300.0


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def share_index(settings: Settings) -> None:
    """Prepare one snapshot for every worker, unless the deployment names its own."""
    if settings.index_snapshot is not None:
        return
    key = screening_key(settings.secret_key)
    path = cached_snapshot_path(settings.cache_dir, settings.database_url, key)
    # In a process of its own: the supervisor lives as long as the server, and would keep the
    # memory that building took (Python seldom gives it back) for nothing.
    spawn = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as builder:
            prepared = builder.submit(_prepare, settings.database_url, key, path).result()
    except Exception as exc:  # the workers still start, and /readyz tells what is wrong
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        err.print(
            f"bordercheck: no shared screening index ({reason}); each worker builds its own",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
        return
    out.print(
        f"bordercheck: screening index {prepared.how} in {prepared.seconds:.1f} s "
        f"({prepared.records:,} records), shared by the workers: {prepared.path}",
        soft_wrap=True,
        highlight=False,
    )
    # Workers read their settings from the environment when uvicorn starts them.
    os.environ["BORDERCHECK_INDEX_SNAPSHOT"] = str(path)


def _prepare(database_url: str, key: bytes, path: Path) -> PreparedSnapshot:
    database = Database(database_url)
    try:
        return prepare_snapshot(database, key, path)
    finally:
        database.dispose()


def announce_when_ready(host: str, port: int, workers: int) -> threading.Thread:
    """Print the address once a worker answers, from a thread (uvicorn holds the main one)."""
    # A wildcard address is reached on the loopback one (this names it, it binds nothing).
    local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    shown = f"[{local}]" if ":" in local else local
    address = f"http://{shown}:{port}/"
    plural = "worker" if workers == 1 else "workers"

    def wait() -> None:
        deadline = time.monotonic() + READY_WAIT_SECONDS
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection(local, port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass  # not listening yet
            finally:
                connection.close()
            time.sleep(0.1)
        else:
            return  # the server never came up: uvicorn has said why
        listening = "" if local == host else f", listening on {host}"
        out.print(
            f"bordercheck: serving {address} ({workers} {plural}{listening}; API docs at /docs)",
            soft_wrap=True,
            highlight=False,
        )

    thread = threading.Thread(target=wait, name="ready-line", daemon=True)
    thread.start()
    return thread


def run(*, host: str, port: int, workers: int, settings: Settings) -> None:
    return_freed_memory()
    if workers > 1:
        share_index(settings)
    announce_when_ready(host, port, workers)
    uvicorn.run(
        "bordercheck.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # bordercheck writes its own, in the structured log (api.access)
        log_level="warning",
        proxy_headers=True,
    )
