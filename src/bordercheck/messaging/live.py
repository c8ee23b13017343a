"""Live updates: committed messages fanned out to the open streams of this process.

Publishing happens after the transaction commits (a session event), so a stream never
announces a message that was rolled back. Each API process has its own subscribers; a
client that reconnects to another node sends ``Last-Event-ID`` and gets what it missed from
the database (``service.events_since``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

# Events a slow stream may hold before it is closed; the client reconnects and catches up.
QUEUE_SIZE = 1000
_PENDING = "bordercheck.messaging.pending"


@dataclass(frozen=True)
class MessageEvent:
    """That a message was posted; never its content."""

    message_id: int
    thread_id: int
    hit_id: int | None
    sender_bureau: str
    bureaus: tuple[str, ...]
    created_at: datetime


class Subscription:
    """One open stream of a bureau, read on the event loop that opened it."""

    def __init__(self, bureau_code: str) -> None:
        self.bureau_code = bureau_code
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[MessageEvent] = asyncio.Queue(QUEUE_SIZE)
        # Set when the queue was full and an event was dropped: the stream ends once it has
        # sent what it holds, and the client catches up from the database on reconnecting.
        self.overflowed = False

    def deliver(self, message: MessageEvent) -> None:
        """Runs on the subscriber's loop."""
        if self.queue.full():
            self.overflowed = True
            return
        self.queue.put_nowait(message)


class MessageBroker:
    """Fans events out to the subscriptions of their bureaus; publish from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, bureau_code: str) -> Subscription:
        subscription = Subscription(bureau_code)
        with self._lock:
            self._subscriptions.setdefault(bureau_code, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.get(subscription.bureau_code, set()).discard(subscription)

    def subscribers(self, bureau_code: str) -> int:
        with self._lock:
            return len(self._subscriptions.get(bureau_code, ()))

    def publish(self, events: Sequence[MessageEvent]) -> None:
        for message in events:
            with self._lock:
                targets = [s for b in message.bureaus for s in self._subscriptions.get(b, ())]
            for subscription in targets:
                try:
                    subscription.loop.call_soon_threadsafe(subscription.deliver, message)
                except RuntimeError:  # its loop has closed: the stream is gone
                    self.unsubscribe(subscription)


# One broker per database, by its address: the API's engine and the engines its write
# sessions use (the same one with other execution options) are different objects.
_brokers: dict[str, MessageBroker] = {}
_brokers_lock = threading.Lock()


def broker_for(engine: Engine) -> MessageBroker:
    key = engine.url.render_as_string(hide_password=False)
    with _brokers_lock:
        broker = _brokers.get(key)
        if broker is None:
            broker = _brokers[key] = MessageBroker()
        return broker


def publish_after_commit(session: Session, message: MessageEvent) -> None:
    """Announce ``message`` to this process's streams once the session commits."""
    pending: list[MessageEvent] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        if not session.info.get(_PENDING + ".listening"):
            session.info[_PENDING + ".listening"] = True
            event.listen(session, "after_commit", _after_commit)
            event.listen(session, "after_rollback", _after_rollback)
    pending.append(message)


def _after_commit(session: Session) -> None:
    pending: list[MessageEvent] | None = session.info.pop(_PENDING, None)
    if pending:
        broker_for(_engine_of(session)).publish(pending)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _engine_of(session: Session) -> Engine:
    bind: Any = session.get_bind()
    engine: Engine = bind.engine  # an Engine's .engine is itself; a Connection's its engine
    return engine
