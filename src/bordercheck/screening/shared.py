"""The snapshot that ``bordercheck serve`` prepares once for all its worker processes.

Without a configured snapshot (``BORDERCHECK_INDEX_SNAPSHOT``), every worker would build the
whole index from the database at start: N copies of the same arrays in memory and N full
reads of the registry. ``serve`` instead brings one snapshot file up to date in the cache
directory before the workers start; each worker maps it (the pages are shared) and catches up
from the changes feed.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bordercheck.db import Database
from bordercheck.logs import get_logger
from bordercheck.registry import feed
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.live import LiveIndex, build_from_registry
from bordercheck.screening.snapshot import SnapshotError

log = get_logger(__name__)


@dataclass(frozen=True)
class PreparedSnapshot:
    path: Path
    how: str  # "built", "refreshed" or "current"
    records: int
    sequence: int
    seconds: float


def cached_snapshot_path(cache_dir: Path, database_url: str, key: bytes) -> Path:
    """One file per database and key, so installations sharing a cache never mix."""
    name = hashlib.sha256(database_url.encode() + b"\0" + key).hexdigest()[:16]
    return cache_dir / f"screening-index-{name}.snapshot"


def prepare_snapshot(database: Database, key: bytes, path: Path) -> PreparedSnapshot:
    """Bring the snapshot at ``path`` up to the feed's end: refresh it if usable, else build."""
    started = time.perf_counter()
    # Only its owner reads the cache: a snapshot holds keyed hashes of document numbers.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    index: ScreeningIndex | None = None
    if path.exists():
        try:
            index = ScreeningIndex.load(path, key=key)
        except SnapshotError as exc:  # another key, an older format, a torn file: rebuild
            log.info("cached screening snapshot not usable; rebuilding it", reason=str(exc))
    if index is not None:
        with database.session() as session:
            end = feed.last_sequence(session)
        if index.sequence > end:
            # A database restored from a backup, or made anew at the same address: the
            # snapshot holds changes it never had, which no catching up would take back.
            log.info("cached screening snapshot is ahead of the database; rebuilding it")
            index = None
    if index is None:
        index = build_from_registry(database, key)
        how = "built"
    else:
        before = index.sequence
        LiveIndex(database, key=key).catch_up(index)
        how = "refreshed" if index.sequence != before else "current"
    if how != "current":
        index.save(path)
        os.chmod(path, 0o600)
    return PreparedSnapshot(
        path, how, index.size, index.sequence, round(time.perf_counter() - started, 3)
    )
