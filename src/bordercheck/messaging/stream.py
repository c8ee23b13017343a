"""Server-sent events for a bureau: what it missed (from the database), then live ones.

The subscription is taken before the database is read, so that nothing posted in between
is lost; an event already sent from the database is skipped when it also arrives live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import orjson
from starlette.concurrency import run_in_threadpool

from bordercheck.db import Database
from bordercheck.messaging import service
from bordercheck.messaging.live import MessageBroker, MessageEvent, Subscription, broker_for

# A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 15.0
CATCH_UP_LIMIT = 1000


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
    database: Database, bureau_code: str, after: int | None, *, until: float
) -> AsyncIterator[str]:
    """Subscribes now (before the response starts), then yields events until the client
    goes away, falls too far behind, or its token expires at ``until`` (Unix time): a
    stream is no way round a token's lifetime or its revocation."""
    broker = broker_for(database.engine)
    subscription = broker.subscribe(bureau_code)
    try:
        missed = await run_in_threadpool(_missed, database, bureau_code, after) if after else []
    except BaseException:
        broker.unsubscribe(subscription)
        raise
    return _events(broker, subscription, missed, after or 0, until)


async def _events(
    broker: MessageBroker,
    subscription: Subscription,
    missed: list[MessageEvent],
    after: int,
    until: float,
) -> AsyncIterator[str]:
    try:
        yield ": connected\n\n"
        for message in missed:
            yield format_event(message)
            after = message.message_id
        while not (subscription.overflowed and subscription.queue.empty()):
            left = until - time.time()
            if left <= 0:
                return
            try:
                message = await asyncio.wait_for(
                    subscription.queue.get(), min(KEEPALIVE_SECONDS, left)
                )
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if message.message_id > after:
                after = message.message_id
                yield format_event(message)
    finally:
        broker.unsubscribe(subscription)
