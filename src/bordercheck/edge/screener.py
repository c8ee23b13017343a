"""Answering on the kit: the centre's answer, adjusted for a kit, and queued for the centre.

Answers have the JSON of ``POST /screen``, with these differences: a hit is a possible hit
until the owning bureau confirms it (the kit's data may be hours old, and the kit cannot
see the record itself); matches carry the owning bureau and the date the record was
reported, not a record id (the kit has none); every answer says how old the kit's data is,
and past the configured age carries a warning. Each query is in the queue, on disk, before
its answer is returned.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bordercheck.edge.kitindex import KitSource
from bordercheck.edge.queue import OfflineQueue
from bordercheck.edge.signing import seal
from bordercheck.edge.store import QUEUE, STATE, KitDirectory, KitMissing, LoadedKit
from bordercheck.logs import get_logger
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.screening.service import Asker, screen_requests

log = get_logger(__name__)
POSSIBLE_HIT = "possible hit: confirm with the owning bureau ({bureau}) when connected"


class KitScreener:
    """Screens against a kit directory, picking up each new state a sync commits."""

    def __init__(self, directory: Path, *, max_age_hours: float, background: bool = False) -> None:
        self.directory = KitDirectory(directory)
        self.directory.config()  # says plainly when the directory is not a kit
        self.max_age_hours = max_age_hours
        self.background = background
        self.queue = OfflineQueue(directory / QUEUE)
        self._lock = threading.Lock()
        self._current: tuple[int, LoadedKit, KitSource] | None = None

    def current(self) -> tuple[LoadedKit, KitSource]:
        """The committed state; reloaded when ``state.json`` changed (one ``stat`` a call).

        With ``background``, the new state is loaded on a thread of its own while answers go
        on from the previous one (a new snapshot takes seconds at ten million rows to check
        and index; new changes, their number); either way each answer comes from one whole
        state.
        """
        try:
            stamp = os.stat(self.directory.path / STATE).st_mtime_ns
        except FileNotFoundError:
            raise KitMissing(f"{self.directory.path} holds no data yet: run `edge sync`") from None
        current = self._current
        if current is not None and current[0] != stamp and self.background:
            if self._lock.acquire(blocking=False):
                threading.Thread(target=self._reload, args=(stamp,), daemon=True).start()
        elif current is None or current[0] != stamp:
            with self._lock:
                current = self._current
                if current is None or current[0] != stamp:
                    current = self._load(stamp)
        return current[1], current[2]

    def settled(self) -> None:
        """Wait for a reload in progress to finish."""
        with self._lock:
            pass

    def _load(self, stamp: int) -> tuple[int, LoadedKit, KitSource]:
        previous = self._current[1] if self._current else None
        loaded = self.directory.load(previous)
        self._current = (stamp, loaded, loaded.source())
        return self._current

    def _reload(self, stamp: int) -> None:
        try:
            self._load(stamp)
        except Exception as exc:  # the previous state goes on answering; the next call retries
            log.error("the kit's new state could not be loaded", error=str(exc))
        finally:
            self._lock.release()

    def stale_warning(self, loaded: LoadedKit, now: datetime) -> str | None:
        hours = loaded.age_seconds(now) / 3600
        if hours <= self.max_age_hours:
            return None
        return (
            f"stale data: the kit's records are {hours:.0f} hours old (more than "
            f"{self.max_age_hours:g}); recent reports may be missing. Sync the kit."
        )

    def screen(self, requests: Sequence[ScreenRequest], asked_by: str) -> list[dict[str, Any]]:
        loaded, source = self.current()
        now = datetime.now(UTC)
        bureau = loaded.config.bureau
        asker = Asker(kind="kit", name=asked_by, bureau_code=bureau)
        answered = screen_requests(
            source,
            requests,
            asker,
            source="kit",
            # A restricted row is one withheld from this kit's country (and holds no details).
            withheld_from=lambda _record: frozenset({bureau}),
            stale_warning=self.stale_warning(loaded, now),
        )
        kit_info = {
            "kit_id": loaded.config.kit_id,
            "sequence": loaded.state.sequence,
            "data_as_of": loaded.state.data_as_of.isoformat(),
            "age_seconds": round(loaded.age_seconds(now)),
        }
        entries = []
        answers = []
        for request, item in zip(requests, answered, strict=True):
            answer = item.answer
            entry = {
                "id": answer["query_id"],
                "kit_id": loaded.config.kit_id,
                "at": now.isoformat(),
                "request": request.model_dump(mode="json", exclude_none=True),
                "result": answer["result"],
                "asked_by": asked_by,
            }
            sealed = seal(loaded.config.sealing_key, json.dumps(entry).encode())
            entries.append((answer["query_id"], sealed))
            answers.append(_for_kit(answer, source, kit_info))
        self.queue.add(entries)  # on disk before anyone sees an answer
        return answers


def _for_kit(answer: dict[str, Any], source: KitSource, kit: dict[str, Any]) -> dict[str, Any]:
    for match in answer["matches"]:
        owner = match["issuing_country"]
        match["owning_bureau"] = owner
        if match["record_id"] is not None:
            details = source.details(match["record_id"], match["document_number"])
            match["reported_on"] = details.reported.isoformat()
            match["record_id"] = None  # the kit's row numbers mean nothing elsewhere
            if match["match"] in ("exact", "range"):
                match["message"] = POSSIBLE_HIT.format(bureau=owner)
    if answer["result"] == "hit":
        answer["result"] = "possible_hit"
    answer["kit"] = kit
    return answer
