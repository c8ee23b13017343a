"""Server-sent events for a bureau: what it missed (from the database), then live ones.

The subscription is taken before the database is read, so that nothing posted in between
is lost; an event already sent from the database is skipped when it also arrives live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from starlette.concurrency import run_in_threadpool

from bordercheck.db import Database
from bordercheck.messaging import service
from bordercheck.messaging.live import MessageBroker, MessageEvent, Subscription, broker_for

# A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 15.0
CATCH_UP_LIMIT = 1000
# How often an open stream asks whether its token still holds (revoked by a sign-out, or
# its user or client deactivated): it closes within about this long of the revocation.
RECHECK_SECONDS = 0.5

# Whether the stream's token still holds; cheap (an in-memory look-up, and at most one
# small query per process when the revocation list is older than a second).
TokenCheck = Callable[[], Awaitable[bool]]


def format_event(message: MessageEvent) -> str:
    data = orjson.dumps(
        {
            "message_id": message.message_id,
            "thread_id": message.thread_id,
            "hit_id": message.hit_id,
            "sender_bureau": message.sender_bureau,
            "created_at": message.created_at.isoformat(),
        }
    ).decode()
    return f"id: {message.message_id}\nevent: message\ndata: {data}\n\n"


def _missed(database: Database, bureau_code: str, after: int) -> list[MessageEvent]:
    missed: list[MessageEvent] = []
    with database.session() as session:
        while True:
            page = service.events_since(session, bureau_code, after, CATCH_UP_LIMIT)
            missed.extend(page)
            if len(page) < CATCH_UP_LIMIT:
                return missed
            after = page[-1].message_id


async def event_stream(
    database: Database,
    bureau_code: str,
    after: int | None,
    *,
    until: float,
    still_valid: TokenCheck,
) -> AsyncIterator[str]:
    """Subscribes now (before the response starts), then yields events until the client
    goes away, falls too far behind, its token expires at ``until`` (Unix time) or
    ``still_valid`` says it was revoked: a stream is no way round a token's lifetime or its
    revocation."""
    broker = broker_for(database.engine)
    subscription = broker.subscribe(bureau_code)
    try:
        missed = await run_in_threadpool(_missed, database, bureau_code, after) if after else []
    except BaseException:
        broker.unsubscribe(subscription)
        raise
    return _events(broker, subscription, missed, after or 0, until, still_valid)


async def _events(
    broker: MessageBroker,
    subscription: Subscription,
    missed: list[MessageEvent],
    after: int,
    until: float,
    still_valid: TokenCheck,
) -> AsyncIterator[str]:
    try:
        yield ": connected\n\n"
        for message in missed:
            yield format_event(message)
            after = message.message_id
        quiet_since = time.monotonic()
        while not (subscription.overflowed and subscription.queue.empty()):
            left = until - time.time()
            if left <= 0 or not await still_valid():
                return
            try:
                message = await asyncio.wait_for(
                    subscription.queue.get(), min(RECHECK_SECONDS, left)
                )
            except TimeoutError:
                if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            quiet_since = time.monotonic()
            if message.message_id > after:
                after = message.message_id
                yield format_event(message)
    finally:
        broker.unsubscribe(subscription)
