"""Real servers for tests that stop things: ``bordercheck serve`` processes, and a PostgreSQL
cluster of the test's own that it may stop and start without disturbing any other test."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

READY_WITHIN = 90.0  # seconds for a server to come up on a loaded two-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


class PrivateCluster:
    """A PostgreSQL cluster in a temporary directory, on a free port: the test's own, to stop
    (``kill``: ``pg_ctl stop -m immediate``, as a crash) and start again.

    Run by the ``postgres`` system user when the tests run as root (PostgreSQL refuses
    root), else by the user running the tests."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bordercheck-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = (
            # No fsync (the machine does not crash, only PostgreSQL), but every commit is
            # written before it is acknowledged, so that an immediate stop loses none.
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def kill(self) -> None:
        """Stop at once, as a crash would: no checkpoint, connections cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


@contextmanager
def serve(
    url: str, secret_key: str, workdir: Path, *, workers: int = 1, **settings: str
) -> Iterator[Served]:
    """``bordercheck serve`` in a process group of its own, ready; stopped at the end.

    ``settings``: more ``BORDERCHECK_*`` variables, named without the prefix."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BORDERCHECK_")},
        "BORDERCHECK_SETTINGS_FILE": "",
        "BORDERCHECK_DATABASE_URL": url,
        "BORDERCHECK_SECRET_KEY": secret_key,
        "BORDERCHECK_ENV": "test",
        "BORDERCHECK_LOG_LEVEL": "WARNING",
        "BORDERCHECK_QUERY_JOURNAL_DIR": str(workdir / "journal"),
        "BORDERCHECK_CACHE_DIR": str(workdir / "cache"),
        **{f"BORDERCHECK_{name.upper()}": value for name, value in settings.items()},
    }
    stderr = workdir / f"serve-{port}.log"
    command = [sys.executable, "-m", "bordercheck", "serve", "--workers", str(workers),
               "--port", str(port)]  # fmt: skip
    with stderr.open("wb") as errors:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True
        )
    served = Served(f"http://127.0.0.1:{port}", process, stderr)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            try:
                if httpx2.get(f"{served.base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(f"the server exited before it was ready:\n{served.log()}")
            assert time.monotonic() < deadline, f"the server did not become ready:\n{served.log()}"
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
