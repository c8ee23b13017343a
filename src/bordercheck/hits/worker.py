"""The API process's background work for hits: the deadline sweep and the webhook courier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from bordercheck.db import Database
from bordercheck.hits.deadlines import SweepReport, sweep
from bordercheck.logs import get_logger
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

log = get_logger(__name__)

# How long stopping waits for the run under way (seconds): a shutdown is never held for ever.
STOP_SECONDS = 30.0


def run_sweep(database: Database, settings: Settings, now: datetime | None = None) -> SweepReport:
    """One sweep in a transaction of its own."""
    with database.session(write=True) as session:
        return sweep(session, now or utcnow(), secretariat=settings.secretariat_code)


class Periodic:
    """Runs ``task`` every ``interval`` seconds in a thread until stopped; a failure is logged
    and the task runs again at the next interval (the database may be away for a while)."""

    def __init__(self, name: str, interval: float, task: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.task = task
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, within: float = STOP_SECONDS) -> None:
        """Stop after the run under way; a run that does not end within ``within`` seconds
        (a remote end that never answers) is left to end with the process, and said."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(within)
            if self._thread.is_alive():
                log.warning(f"{self.name} did not stop within {within:g} s; left to the exit")
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.task()
            except Exception as exc:  # keep going: the next run may well succeed
                first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
                log.warning(f"{self.name} failed; will try again", error=first_line)
            self._stopping.wait(self.interval)
