"""How a passenger list comes in, from the API or the console: what it costs before it is
read (its rate-limit charge, a parsing slot), then read, screened and stored.

A list is charged by its size before its body is read or parsed, so that a caller cannot
make the server parse megabytes for the price of one request; and only a few lists per
process are parsed at once, so that they cannot take the threads and the processor that
the border posts' screening needs (four 1 MB lists at once took one screening from 2 ms to
69 ms).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bordercheck.api.limits import RateLimiter
from bordercheck.auth.tokens import Principal
from bordercheck.db import Database
from bordercheck.errors import BordercheckError, InvalidInput, ServiceUnavailable
from bordercheck.logs import get_logger
from bordercheck.manifests import service
from bordercheck.manifests.flight import Interchange
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.service import ScreenedManifest
from bordercheck.screening.api import DOCUMENTS_PER_REQUEST
from bordercheck.screening.live import LiveIndex
from bordercheck.screening.querylog import write_entries
from bordercheck.screening.service import Asker
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

# A traveller with one document takes about 168 bytes of PAXLST (a 400-traveller list is
# 67 KB): a list is charged as a /screen/batch of as many documents as its size holds.
BYTES_PER_DOCUMENT = 168
BYTES_PER_REQUEST = BYTES_PER_DOCUMENT * DOCUMENTS_PER_REQUEST
# Lists waiting for a slot beyond this many per slot are turned away (503, retry shortly):
# each holds its body in memory while it waits.
WAITING_PER_SLOT = 16
PURGE_EVERY = timedelta(days=1)
log = get_logger(__name__)


def size_cost(size: int) -> int:
    """Requests' worth of the rate limit that a list of ``size`` bytes costs (at least 1)."""
    return max(1, math.ceil(size / BYTES_PER_REQUEST))


class ParsingSlots:
    """At most ``slots`` lists parsed at once in this process; the others wait on the loop."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.waiting = 0
        self._semaphore = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.waiting >= self.slots * WAITING_PER_SLOT:
            raise ServiceUnavailable(
                "too many passenger lists are waiting to be screened; try again shortly",
                retry_after=1,
            )
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()


class ManifestTooLarge(BordercheckError):
    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class Received:
    """A list read, screened and stored (committed, hit cases included)."""

    interchange: Interchange
    screened: list[ScreenedManifest]


async def receive(
    request: Request,
    principal: Principal,
    *,
    location: str | None,
    operation_id: str | None,
    charged: int,
    source: str = "api",
) -> Received:
    """A PAXLST file sent to the API or uploaded in the console: charged by its size, read in
    a parsing slot, screened, and stored with its queries and hit cases in one transaction.

    ``charged`` is the requests' worth of the rate limit the caller already took.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    settings: Settings = request.app.state.settings
    # Charged by size before a byte is read: the declared length, else the length read.
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit():
        charged = _charge(limiter, principal, int(declared), charged)
    data = await _file(request, settings.manifest_max_bytes)
    charged = _charge(limiter, principal, len(data), charged)
    live: LiveIndex = request.app.state.live_index
    if live.index is None:
        raise ServiceUnavailable(
            "the screening index is still loading; try again in a moment", retry_after=1
        )
    slots: ParsingSlots = request.app.state.manifest_parsing
    async with slots.slot():
        return await run_in_threadpool(
            _screen_and_store, request, principal, data, location, operation_id, charged, source
        )


async def _file(request: Request, max_bytes: int) -> bytes:
    """The PAXLST file: the body itself, or the form field ``file`` of an upload."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the PAXLST file in the form field 'file'")
        data = await upload.read(max_bytes + 1)
    else:
        data = await request.body()
    if len(data) > max_bytes:
        raise ManifestTooLarge(
            f"the manifest is larger than {max_bytes:,} bytes (BORDERCHECK_MANIFEST_MAX_BYTES)",
            max_bytes=max_bytes,
        )
    if not data.strip():
        raise InvalidInput(
            "the body is empty: send the PAXLST file as the body, or as the form field 'file'"
        )
    return data


def _charge(limiter: RateLimiter, principal: Principal, size: int, charged: int) -> int:
    """Take what a list of ``size`` bytes costs beyond what was ``charged``; the new total."""
    cost = size_cost(size)
    if cost > charged:
        limiter.take(principal.subject, cost - charged)
    return max(cost, charged)


def _screen_and_store(
    request: Request,
    principal: Principal,
    data: bytes,
    location: str | None,
    operation_id: str | None,
    charged: int,
    source: str,
) -> Received:
    started = time.perf_counter()
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    interchange = parse_paxlst(data)
    documents = sum(m.documents for m in interchange.manifests)
    # A list denser than its size suggested pays the rest, as /screen/batch would.
    extra = math.ceil(documents / DOCUMENTS_PER_REQUEST) - charged
    if extra > 0:
        request.app.state.rate_limiter.take(principal.subject, extra)
    live: LiveIndex = request.app.state.live_index
    assert live.index is not None
    asker = Asker(kind=principal.kind, name=principal.name, bureau_code=principal.bureau_code)
    screened = [
        service.screen_manifest(live.index, manifest, asker, withheld_from=live.withheld_from,
                                location=location, operation_id=operation_id)
        for manifest in interchange.manifests
    ]  # fmt: skip
    with database.session(write=True) as session:
        for one in screened:
            service.store(session, interchange, one, asker, source=source)
            # After ``store``: the hit cases name the list, which now has its id.
            write_entries(session, one.logged, on_hits=request.app.state.on_hits)
        _purge_if_due(request, session, settings)
    for one in screened:
        request.app.state.metrics.screenings.inc(len(one.logged))
        log.info(
            "manifest screened",
            manifest_id=one.stored_id, flight=one.manifest.flight,
            travellers=len(one.manifest.travellers), hits=len(one.with_result("hit")),
            by=principal.name, bureau=principal.bureau_code, source=source,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )  # fmt: skip
    return Received(interchange, screened)


def _purge_if_due(request: Request, session: Session, settings: Settings) -> None:
    """Once a day per process, forget lists past their retention, in the same transaction."""
    now = utcnow()
    last: datetime | None = getattr(request.app.state, "manifests_purged_at", None)
    if last is not None and now - last < PURGE_EVERY:
        return
    request.app.state.manifests_purged_at = now
    cutoff = now - timedelta(days=settings.manifest_retention_days)
    purged = service.purge(session, cutoff, actor="system:retention")
    if purged:
        log.info("manifests past their retention forgotten", manifests=purged)
