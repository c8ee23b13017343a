"""Real processes for the tests that kill them: ``bordercheck serve`` and commands, started
with only the settings a test gives, in a process group of their own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx2

READY_WITHIN = 60.0  # seconds for a server to come up on a loaded two-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(url: str, secret_key: str, **settings: str) -> dict[str, str]:
    """This process's environment without its BORDERCHECK_* settings, and the given ones."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BORDERCHECK_")},
        "BORDERCHECK_DATABASE_URL": url,
        "BORDERCHECK_SECRET_KEY": secret_key,
        "BORDERCHECK_ENV": "test",
        "BORDERCHECK_LOG_LEVEL": "WARNING",
        **settings,
    }


def command(
    *args: str,
    env: dict[str, str],
    preexec_fn: Callable[[], Any] | None = None,
    stdout: int = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """``bordercheck ARGS…`` started, in a session of its own (killed with its children)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bordercheck", *args],
        env=env, stdout=stdout, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=preexec_fn,
    )  # fmt: skip


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and what it started, if still there."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_ready(base: str, process: subprocess.Popen[bytes], within: float = READY_WITHIN) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx2.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"the server exited before it was ready:\n{stderr}")
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.05)


@contextmanager
def server(
    url: str,
    secret_key: str,
    settings: dict[str, str] | None = None,
    *,
    ready: bool = True,
    preexec_fn: Callable[[], Any] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``bordercheck serve`` with one worker (the process that answered is the one killed),
    ready unless told not to wait; killed at the end if still running."""
    port = free_port()
    env = environment(url, secret_key, **(settings or {}))
    args = ("serve", "--workers", "1", "--port", str(port))
    process = command(*args, env=env, preexec_fn=preexec_fn, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        if ready:
            wait_ready(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            kill(process)
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
