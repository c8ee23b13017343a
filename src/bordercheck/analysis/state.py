"""The analysis kept current: one link graph per process, caught up from the database's
high-water marks before each read, rebuilt from scratch only when a hit it used is refuted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bordercheck.analysis.graph import LinkGraph
from bordercheck.analysis.networks import Picture, picture
from bordercheck.analysis.sources import Marks, catch_up
from bordercheck.logs import get_logger

log = get_logger(__name__)


@dataclass
class AnalysisState:
    links: LinkGraph = field(default_factory=LinkGraph)
    marks: Marks = field(default_factory=Marks)
    _picture: Picture | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def reading(self, session: Session) -> Iterator[Picture]:
        """The picture as of now, held still while the caller reads it: another request's
        catch-up waits (the graph is not changed under a reader's feet)."""
        with self._lock:
            yield self._current(session)

    def current(self, session: Session) -> Picture:
        """The picture as of now: what arrived since the last read is added first."""
        with self._lock:
            return self._current(session)

    def _current(self, session: Session) -> Picture:
        started = time.perf_counter()
        read = catch_up(session, self.links, self.marks)
        if self.links.stale:
            self.links, self.marks, self._picture = LinkGraph(), Marks(), None
            read = catch_up(session, self.links, self.marks)
        if self._picture is None or self._picture.version != self.links.version:
            self._picture = picture(self.links, self._picture)
        if read:
            log.info(
                "analysis caught up",
                rows=read,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return self._picture
