"""The API process's periodic background work: it goes on after a failure, and stopping it
never holds a shutdown for ever."""

from __future__ import annotations

import threading
import time

import pytest

from bordercheck.hits.worker import Periodic
from bordercheck.logs import configure_logging
from bordercheck.settings import Settings


@pytest.fixture(autouse=True)
def logging_as_served() -> None:
    configure_logging(Settings(secret_key="k" * 40, log_level="WARNING"))


def test_a_failing_task_runs_again_at_its_next_interval(capsys: pytest.CaptureFixture[str]) -> None:
    runs: list[float] = []

    def task() -> None:
        runs.append(time.monotonic())
        if len(runs) == 1:
            raise RuntimeError("the database went away\nsecond line")

    worker = Periodic("sweep", 0.01, task)
    worker.start()
    deadline = time.monotonic() + 10
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert len(runs) >= 3
    logged = capsys.readouterr().err
    assert "sweep failed; will try again" in logged
    assert "the database went away" in logged
    assert "second line" not in logged


def test_a_run_that_never_ends_does_not_hold_the_stop(capsys: pytest.CaptureFixture[str]) -> None:
    started, release = threading.Event(), threading.Event()

    def task() -> None:  # a remote end that never answers
        started.set()
        release.wait(60)

    worker = Periodic("webhook-delivery", 60, task)
    worker.start()
    assert started.wait(10)
    began = time.monotonic()
    worker.stop(within=0.2)
    assert time.monotonic() - began < 5
    assert "webhook-delivery did not stop within 0.2 s" in capsys.readouterr().err
    release.set()
