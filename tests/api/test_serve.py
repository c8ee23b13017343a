"""``bordercheck serve``: several workers share one snapshot, and it says where it listens."""

from __future__ import annotations

import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from bordercheck.api.server import default_workers
from bordercheck.memory import SETTINGS, return_freed_memory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(env: dict[str, str], port: int) -> Iterator[tuple[queue.Queue[str], int]]:
    command = [sys.executable, "-m", "bordercheck", "serve", "--workers", "2", "--port", str(port)]
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None
        stdout = server.stdout
        threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
        try:
            yield lines, server.pid
        finally:
            server.terminate()
            server.wait(timeout=20)


def _line_with(lines: queue.Queue[str], text: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if text in line:
            return line.strip()
        seen.append(line)
    raise AssertionError(f"no line with {text!r} in {seen}")


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (uvicorn's workers, and its own helper, if any)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def _ready(port: int, seconds: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        answer = httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return dict(answer.json())
        time.sleep(0.1)


def test_workers_share_one_snapshot_and_the_address_is_printed(
    fresh_url: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "BORDERCHECK_DATABASE_URL": fresh_url,
        "BORDERCHECK_SECRET_KEY": secrets.token_urlsafe(48),
        "BORDERCHECK_ENV": "dev",
        "BORDERCHECK_SETTINGS_FILE": "",
        "BORDERCHECK_CACHE_DIR": str(cache),
    }
    port = _free_port()
    with _serving(env, port) as (lines, supervisor):
        built = _line_with(lines, "screening index")
        assert "screening index built" in built
        served = _line_with(lines, "serving")
        assert (
            served
            == f"bordercheck: serving http://127.0.0.1:{port}/ (2 workers; API docs at /docs)"
        )
        assert _ready(port) == {"status": "ready"}
        # The workers start with the allocator's settings (bordercheck.memory).
        workers = _children(supervisor)
        assert len(workers) >= 2, workers
        for worker in workers:
            environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
            for name, value in SETTINGS.items():
                assert f"{name}={value}".encode() in environ, (worker, name)
    [snapshot] = cache.iterdir()
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert cache.stat().st_mode & 0o777 == 0o700
    assert str(snapshot) in built
    # The next start finds it current and maps it again rather than building anew.
    with _serving(env, port) as (lines, _supervisor):
        assert "screening index current" in _line_with(lines, "screening index")
        _line_with(lines, "serving")
        assert _ready(port) == {"status": "ready"}


def test_the_default_is_one_worker_per_core() -> None:
    assert default_workers() == len(os.sched_getaffinity(0))


def test_a_setting_the_deployment_made_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    return_freed_memory()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(SETTINGS["MALLOC_MMAP_THRESHOLD_"])
