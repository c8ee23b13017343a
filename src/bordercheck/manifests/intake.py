"""What a passenger list costs before it is read: its rate-limit charge, and a parsing slot.

A list is charged by its size before its body is read or parsed, so that a caller cannot
make the server parse megabytes for the price of one request; and only a few lists per
process are parsed at once, so that they cannot take the threads and the processor that
the border posts' screening needs (four 1 MB lists at once took one screening from 2 ms to
69 ms).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bordercheck.errors import ServiceUnavailable
from bordercheck.screening.api import DOCUMENTS_PER_REQUEST

# A traveller with one document takes about 168 bytes of PAXLST (a 400-traveller list is
# 67 KB): a list is charged as a /screen/batch of as many documents as its size holds.
BYTES_PER_DOCUMENT = 168
BYTES_PER_REQUEST = BYTES_PER_DOCUMENT * DOCUMENTS_PER_REQUEST
# Lists waiting for a slot beyond this many per slot are turned away (503, retry shortly):
# each holds its body in memory while it waits.
WAITING_PER_SLOT = 16


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
