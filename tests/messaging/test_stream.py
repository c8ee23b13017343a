"""Live updates: server-sent events read as a real stream, each wait bounded by a timeout."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.messaging import service
from bordercheck.messaging.live import broker_for
from bordercheck.messaging.stream import event_stream
from bordercheck.settings import Settings
from tests.factories import keyed_database, make_bureau, officer
from tests.messaging.conftest import THREADS, start_thread
from tests.signin import Api

STREAM = f"{THREADS}/stream"
TIMEOUT = 10.0


class EventReader:
    """Reads the stream on a thread of its own; the test waits for events with a timeout."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(lines,), daemon=True)
        self._thread.start()

    def _read(self, lines: Iterator[str]) -> None:
        event: dict[str, Any] = {}
        try:
            for line in lines:
                if line.startswith(":"):
                    continue
                if not line:
                    if event:
                        self._events.put(event)
                    event = {}
                    continue
                name, _, value = line.partition(": ")
                event[name] = json.loads(value) if name == "data" else value
        except Exception:  # the stream was closed by the test  # noqa: S110
            pass

    def next(self) -> dict[str, Any]:
        return self._events.get(timeout=TIMEOUT)


@contextmanager
def events(api: Api, headers: dict[str, str], **extra: str) -> Iterator[EventReader]:
    with api.client.stream("GET", STREAM, headers={**headers, **extra}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        # The subscription exists once the response has started: nothing posted now is lost.
        yield EventReader(response.iter_lines())


def test_a_bureau_hears_of_messages_in_its_threads_as_they_are_posted(
    api: Api, deu: dict[str, str], fra: dict[str, str], ita: dict[str, str]
) -> None:
    with events(api, ita) as italy, events(api, fra) as france:
        shared = start_thread(api, deu)
        heard = france.next()
        assert heard["event"] == "message"
        assert heard["id"] == str(shared["messages"][0]["id"])
        assert heard["data"]["thread_id"] == shared["id"]
        assert heard["data"]["sender_bureau"] == "DEU"
        assert "body" not in heard["data"]
        with_italy = start_thread(api, deu, recipients=["ITA"])
        # Italy's first event is its own thread's: it never heard of the DEU-FRA one.
        assert italy.next()["data"]["thread_id"] == with_italy["id"]


def test_a_client_reconnecting_with_last_event_id_gets_what_it_missed(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    thread = start_thread(api, deu)
    path = f"{THREADS}/{thread['id']}"
    seen = thread["messages"][0]["id"]
    missed = [
        api.client.post(path, headers=deu, json={"body": f"update {n}"}).json()["id"]
        for n in range(3)
    ]
    with events(api, fra, **{"Last-Event-ID": str(seen)}) as france:
        assert [int(france.next()["id"]) for _ in missed] == missed
        live = api.client.post(path, headers=deu, json={"body": "live"}).json()["id"]
        assert int(france.next()["id"]) == live


def test_only_bureau_officers_may_listen(api: Api) -> None:
    for role, bureau in ((Role.BORDER_OFFICER, "FRA"), (Role.ADMIN, "XPO")):
        response = api.client.get(STREAM, headers=api.bearer(role, bureau))
        assert response.status_code == 403
    bad = api.client.get(
        STREAM,
        headers={**api.bearer(Role.BUREAU_OFFICER, "FRA"), "Last-Event-ID": "yesterday"},
    )
    assert bad.status_code == 422
    assert bad.json()["message"] == "Last-Event-ID: must be a message id (1 to 2147483647)"


def test_streams_hear_only_of_committed_messages(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    config = Settings(env="test")

    def post(subject: str, *, fail: bool) -> int:
        with database.session(write=True) as session:
            for code in ("DEU", "FRA"):
                make_bureau(session, code)
            _thread, message_id = service.create_thread(
                session, config, officer("DEU"), subject=subject, recipients=["FRA"], body="b"
            )
            if fail:
                raise RuntimeError("the request failed after posting")
            return message_id

    async def listen() -> int:
        broker = broker_for(database.engine)
        subscription = broker.subscribe("FRA")
        with pytest.raises(RuntimeError):
            await asyncio.to_thread(post, "rolled back", fail=True)
        committed = await asyncio.to_thread(post, "committed", fail=False)
        heard = await asyncio.wait_for(subscription.queue.get(), TIMEOUT)
        broker.unsubscribe(subscription)
        assert heard.message_id == committed
        return heard.message_id

    assert asyncio.run(listen()) > 0
    database.dispose()


def test_a_stream_ends_when_its_token_expires(fresh_url: str) -> None:
    database = keyed_database(fresh_url)

    async def read_all() -> list[str]:
        lines = await event_stream(
            database, "FRA", None, until=time.time() - 1, still_valid=_always_valid
        )
        return [line async for line in lines]

    assert asyncio.run(read_all()) == [": connected\n\n"]
    assert broker_for(database.engine).subscribers("FRA") == 0
    database.dispose()


async def _always_valid() -> bool:
    return True


def _closes_within(api: Api, headers: dict[str, str], revoke: Callable[[], None]) -> float:
    """Seconds between ``revoke()`` and the open stream's end (bounded by TIMEOUT)."""
    ended = threading.Event()
    with api.client.stream("GET", STREAM, headers=headers) as response:
        assert response.status_code == 200

        def read() -> None:
            try:
                for _line in response.iter_lines():
                    pass
            except Exception:  # the stream was closed under the reader  # noqa: S110
                pass
            ended.set()

        threading.Thread(target=read, daemon=True).start()
        revoked_at = time.monotonic()
        revoke()
        assert ended.wait(TIMEOUT), "the stream was still open"
        return time.monotonic() - revoked_at


def test_a_stream_closes_within_a_second_or_so_of_its_users_deactivation(api: Api) -> None:
    api.add_user("anna.k", Role.BUREAU_OFFICER, "FRA")
    headers = api.sign_in("anna.k")

    def deactivate_elsewhere() -> None:
        # As `bordercheck users deactivate` does, from another process: only the database
        # knows, not this process's revocation list.
        elsewhere = keyed_database(api.database.url)
        with elsewhere.session(write=True) as session:
            auth_service.deactivate_user(session, "anna.k")
        elsewhere.dispose()

    assert _closes_within(api, headers, deactivate_elsewhere) < 2.5


def test_a_stream_closes_when_its_token_is_signed_out(api: Api) -> None:
    api.add_user("anna.k", Role.BUREAU_OFFICER, "FRA")
    headers = api.sign_in("anna.k")

    def sign_out() -> None:
        assert api.client.post("/api/v1/auth/revoke", headers=headers).status_code < 300

    assert _closes_within(api, headers, sign_out) < 2.5
