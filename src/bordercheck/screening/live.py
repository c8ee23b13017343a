"""The screening index of one API node: loaded at start, then kept current from the feed.

Start-up loads the snapshot file when there is one (built with the same key), otherwise
builds the index from the registry; then a thread polls the changes feed every
``poll_interval`` seconds and applies what is new, so a change made anywhere is screened
on every node within about that interval; a process that changes a record applies the feed
before answering (``catch_up``), so it screens with its own change at once.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from sqlalchemy import select

from bordercheck.db import Database
from bordercheck.documents.types import DocumentType, family_of
from bordercheck.logs import get_logger
from bordercheck.registry import feed
from bordercheck.registry.models import Change, Record
from bordercheck.screening.index import IndexChange, IndexEntry, ScreeningIndex

log = get_logger(__name__)
FEED_PAGE = 10_000
COMPACT_AT = 50_000


def screening_key(secret_key: str) -> bytes:
    """The index's hash key, derived from the deployment's secret (a label keeps it apart)."""
    return hmac.new(secret_key.encode(), b"bordercheck screening index", hashlib.sha256).digest()


def withheld_records(
    database: Database, record_ids: Sequence[int] | None = None
) -> dict[int, frozenset[str]]:
    """Record id → the querying countries its details are withheld from (few records)."""
    query = select(Record.id, Record.withheld_from).where(
        Record.withheld_from.is_not(None), Record.active
    )
    if record_ids is not None:
        query = query.where(Record.id.in_(record_ids))
    with database.session() as session:
        return {rid: frozenset(codes.split()) for rid, codes in session.execute(query) if codes}


def registry_entries(database: Database) -> Iterator[IndexEntry]:
    """Every active record as an index entry, streamed from the registry."""
    columns = (
        Record.id,
        Record.document_number,
        Record.serial_end,
        Record.issuing_country,
        Record.type_family,
        Record.status,
        Record.document_type,
        Record.blank,
        Record.withheld_from,
    )
    query = select(*columns).where(Record.active).execution_options(yield_per=50_000)
    with database.session() as session:
        for row in session.execute(query):
            yield IndexEntry(
                record_id=row[0],
                number=row[1],
                serial_end=row[2],
                country=row[3],
                family=row[4],
                status=row[5],
                document_type=row[6],
                blank=row[7],
                restricted=row[8] is not None,
            )


def index_change(change: Change) -> IndexChange:
    return IndexChange(
        record_id=change.record_id,
        active=change.active,
        number=change.document_number,
        serial_end=change.serial_end,
        country=change.issuing_country,
        family=family_of(DocumentType(change.document_type)).value,
        status=change.status,
        document_type=change.document_type,
        blank=change.blank,
        restricted=change.restricted,
    )


def build_from_registry(database: Database, key: bytes) -> ScreeningIndex:
    with database.session() as session:
        sequence = feed.last_sequence(session)
    # Changes committed while the entries stream in are applied again by the follower;
    # applying a change twice leaves the index as applying it once.
    return ScreeningIndex.build(registry_entries(database), key=key, sequence=sequence)


GC_THRESHOLD: Final = 50_000
# With that threshold the collector's own full collections come hours apart under load, and
# the reference cycles that SQLAlchemy's statements leave behind (thousands of small objects
# a minute in a busy worker) would pile up until then: a heap growing by megabytes a minute.
# The index's thread makes a full collection this often: it walks what was not frozen, 14 to
# 59 ms of a worker's time measured under load, against megabytes a minute (docs/benchmarks.md,
# "Load").
FULL_COLLECTION_SECONDS: Final = 30.0


class LiveIndex:
    def __init__(
        self,
        database: Database,
        *,
        key: bytes,
        snapshot: Path | None = None,
        poll_interval: float = 0.2,
    ) -> None:
        self.database = database
        self.key = key
        self.snapshot = snapshot
        self.poll_interval = poll_interval
        self.index: ScreeningIndex | None = None
        self.withheld: dict[int, frozenset[str]] = {}
        self.loaded = threading.Event()
        self.error: str | None = None
        self.last_poll = 0.0
        self.feed_sequence = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The follower and a request that wrote (read your writes) may both catch up.
        self._applying = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.index is not None

    @property
    def feed_lag(self) -> int:
        """Feed entries committed but not yet applied here (as of the last poll)."""
        return max(self.feed_sequence - (self.index.sequence if self.index else 0), 0)

    def load(self) -> ScreeningIndex:
        started = time.perf_counter()
        if self.snapshot is not None and self.snapshot.exists():
            index = ScreeningIndex.load(self.snapshot, key=self.key)
            source = str(self.snapshot)
        else:
            index = build_from_registry(self.database, self.key)
            source = "registry"
        self.withheld = withheld_records(self.database)
        self.catch_up(index)  # a snapshot may be a day old: screen only once it is current
        self.index = index
        # What exists now lives as long as the process: keep the garbage collector from
        # walking it again on every full collection (pauses that show as latency spikes).
        gc.collect()
        gc.freeze()
        # Requests allocate thousands of short-lived objects and make almost no cycles: a
        # collection every 700 allocations (the default) is mostly wasted, and shows in p99.
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        self.loaded.set()
        log.info(
            "screening index ready",
            source=source,
            records=index.size,
            sequence=index.sequence,
            seconds=round(time.perf_counter() - started, 3),
        )
        return index

    def catch_up(self, index: ScreeningIndex | None = None) -> int:
        """Apply every feed entry after the index's sequence; returns how many."""
        index = index or self.index
        assert index is not None
        with self._applying:
            return self._apply_feed(index)

    def _apply_feed(self, index: ScreeningIndex) -> int:
        applied = 0
        while True:
            with self.database.session() as session:
                changes = feed.changes_since(session, index.sequence, FEED_PAGE)
                self.feed_sequence = max(self.feed_sequence, feed.last_sequence(session))
            if not changes:
                break
            # Withholdings first: if reading them fails, nothing is applied and all is retried.
            self._update_withheld(changes)
            index.apply([index_change(c) for c in changes], sequence=changes[-1].seq)
            if index.overlay_size >= COMPACT_AT:
                index.compact()  # applying costs grow with the overlay; lookups go on meanwhile
            applied += len(changes)
            if len(changes) < FEED_PAGE:
                break
        self.last_poll = time.time()
        return applied

    def withheld_from(self, record_id: int) -> frozenset[str]:
        return self.withheld.get(record_id, frozenset())

    def _update_withheld(self, changes: Sequence[Change]) -> None:
        restricted = [c.record_id for c in changes if c.restricted and c.active]
        fresh = withheld_records(self.database, restricted) if restricted else {}
        withheld = dict(self.withheld)
        for change in changes:
            withheld.pop(change.record_id, None)
        withheld.update(fresh)
        self.withheld = withheld  # one assignment: readers see the old or the new map

    def start(self) -> None:
        """Load (or build) the index, then follow the feed, on a thread of its own.

        Loading 100 M records takes seconds; until it is done ``ready`` is False and
        screening answers 503, so the server can answer health checks meanwhile.
        """
        self._thread = threading.Thread(target=self._run, name="screening-index", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.loaded.wait(timeout)

    def _run(self) -> None:
        try:
            self.load()
        except Exception as exc:  # reported by /readyz; the process stays up for diagnosis
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("screening index could not be loaded", error=self.error)
            return
        self._follow()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following the feed; a load still running is left to end with the process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _follow(self) -> None:
        collected = time.monotonic()
        while not self._stop.wait(self.poll_interval):
            try:
                self.catch_up()
            except Exception as exc:  # the database may be down for a while: keep polling
                log.warning("following the changes feed failed; retrying", error=str(exc))
            if time.monotonic() - collected >= FULL_COLLECTION_SECONDS:
                gc.collect()
                collected = time.monotonic()
