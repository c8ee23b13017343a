"""Limits that protect the service: request body size, and a request rate per caller.

The body limit is a bare ASGI middleware (a header look-up per request). The rate limit is
a token bucket per authenticated caller. ``RateLimiter`` counts in the memory of one
process. ``SharedRateLimiter`` (PostgreSQL) keeps each caller's bucket in the database,
shared by every process and node: a process takes a slice of the caller's budget at a time
(one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``) and spends it in memory, so a request
costs no database round trip unless its process's slice is spent. Across N processes a
caller gets at most the configured allowance plus the N slices held when a period begins.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from fastapi import Request
from sqlalchemy import Double, Table, case, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bordercheck.api.deps import PrincipalDep
from bordercheck.api.errors import error_body
from bordercheck.auth.models import RateBudget
from bordercheck.db import Database
from bordercheck.errors import TooManyRequests
from bordercheck.logs import get_logger

log = get_logger(__name__)


class BodySizeLimit:
    """Answers 413 to a request whose body is larger than ``max_bytes``.

    A declared ``Content-Length`` is checked before the app runs. A body sent in chunks,
    with no length declared, is read (up to the limit) and handed on once it is complete.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None:
            # The server holds the body to its declared length, so the header is the size.
            if length.isdigit() and int(length) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # no body at all
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; let the app see that
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        await self.app(scope, _replay(message, receive), send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            error_body(
                "too_large",
                f"the request body is larger than {self.max_bytes:,} bytes; send less at a "
                "time (e.g. fewer records per bulk request)",
                detail={"max_bytes": self.max_bytes},
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replay(first: Message, receive: Receive) -> Receive:
    pending: list[Message] = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per caller: ``burst`` requests at once, then ``per_second`` on average."""

    # Buckets of callers idle long enough to be full again are dropped beyond this many.
    PRUNE_ABOVE = 10_000

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, key: str, cost: int = 1) -> None:
        """Spend ``cost`` requests of ``key``'s allowance, or raise 429 saying when to retry."""
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.PRUNE_ABOVE:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return
            wait = (cost - bucket.tokens) / self.per_second
        raise self._refusal(wait)

    def try_take(self, key: str, cost: int = 1) -> bool:
        """``take`` if it needs no database: True when spent, False when ``take`` must run
        (off the event loop, as it may wait for the database). Raises 429 like ``take``."""
        self.take(key, cost)
        return True

    def _refusal(self, wait: float) -> TooManyRequests:
        retry_after = max(1, math.ceil(wait))
        return TooManyRequests(
            f"more than {self.per_second:g} requests a second (bursts of {self.burst}); "
            f"try again in {retry_after} s",
            retry_after=retry_after,
        )

    def _prune(self, now: float) -> None:
        refill = self.burst / self.per_second
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]


def default_slice(per_second: float, burst: int) -> int:
    """A tenth of a second's allowance (at least 1, at most half the burst): a caller at its
    full rate costs about ten leases a second, whatever the number of nodes."""
    return max(1, min(math.ceil(per_second / 10), burst // 2))


class SharedRateLimiter(RateLimiter):
    """One token bucket per caller for every process on the database, spent by slices.

    A process leases ``slice`` requests of a caller's budget at a time from the
    ``rate_budgets`` table and spends them in memory. What a process holds is at most one
    slice (plus less than one request), so over any period of T seconds the processes
    together accept at most ``burst + per_second × T + N × slice`` of one caller's requests
    (N: processes), where one process alone would accept ``burst + per_second × T``.

    While the database does not answer, each process falls back on its own bucket (the
    limit is then per process, as in ``RateLimiter``) and asks again after
    ``retry_seconds``.
    """

    def __init__(
        self,
        per_second: float,
        burst: int,
        database: Database,
        *,
        slice_size: int = 0,
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(per_second, burst, clock)
        self.database = database
        self.slice = slice_size or default_slice(per_second, burst)
        self.retry_seconds = retry_seconds
        self.leases = 0  # leases taken from the database since start
        self._wall_clock = wall_clock
        self._held: dict[str, float] = {}
        self._leasing: dict[str, threading.Lock] = {}
        self._refused_until: dict[str, tuple[float, int]] = {}  # until when, for what cost
        self._down_until = 0.0
        dialect = database.engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def try_take(self, key: str, cost: int = 1) -> bool:
        if not self.enabled:
            return True
        with self._lock:
            held = self._held.get(key, 0.0)
            if held >= cost:
                self._held[key] = held - cost
                return True
        return False

    def take(self, key: str, cost: int = 1) -> None:
        """Spend ``cost`` of ``key``'s budget; lease a slice first if this process has too
        little left (one database round trip). Raises 429 saying when to retry."""
        if self.try_take(key, cost):
            return
        now = self._clock()
        if now < self._down_until:
            super().take(key, cost)  # the database is not answering: this process's bucket
            return
        refused = self._refused_until.get(key)
        if refused is not None and now < refused[0] and cost >= refused[1]:
            # The shared budget cannot have refilled for this much yet: a caller past its limit
            # costs the database nothing until it may have (a cheaper request is asked for).
            raise self._refusal(refused[0] - now)
        with self._lease_lock(key):
            if self.try_take(key, cost):  # another thread leased meanwhile
                return
            with self._lock:
                want = cost - self._held.get(key, 0.0)
            try:
                granted, left = self._lease(key, want)
            except SQLAlchemyError as exc:
                self._down_until = self._clock() + self.retry_seconds
                log.warning("shared rate limit unreachable; limiting per process",
                            error=type(exc).__name__)  # fmt: skip
                super().take(key, cost)
                return
            with self._lock:
                held = self._held.get(key, 0.0) + granted
                if held >= cost:
                    self._held[key] = held - cost
                    self._refused_until.pop(key, None)
                    return
                self._held[key] = held
                wait = (want - left) / self.per_second
                self._refused_until[key] = (now + wait, cost)
        raise self._refusal(wait)

    def _lease_lock(self, key: str) -> threading.Lock:
        with self._lock:
            lock = self._leasing.get(key)
            if lock is None:
                if len(self._leasing) >= self.PRUNE_ABOVE:
                    # Forgetting what is held refuses nothing wrongly: it only leaves budget
                    # unspent.
                    self._leasing.clear()
                    self._held.clear()
                    self._refused_until.clear()
                lock = self._leasing[key] = threading.Lock()
            return lock

    def _lease(self, key: str, want: float) -> tuple[float, float]:
        """Refill ``key``'s shared bucket and take up to a slice (at least ``want``, or
        nothing): returns what was granted and what the bucket holds after."""
        amount = max(want, float(self.slice))
        now = self._wall_clock()
        table: Table = RateBudget.__table__  # type: ignore[assignment]
        c = table.c
        zero = literal(0.0, Double)
        # Clocks of several nodes differ a little: time never runs backwards for a bucket.
        elapsed = case((c.updated < now, now - c.updated), else_=zero)
        refilled = c.tokens + elapsed * self.per_second
        available = case((refilled > self.burst, literal(float(self.burst), Double)),
                         else_=refilled)  # fmt: skip
        grant = case(
            (available >= amount, literal(amount, Double)),
            (available >= want, available),
            else_=zero,
        )
        first = min(amount, float(self.burst)) if self.burst >= want else 0.0
        statement = (
            self._insert(table)
            .values(subject=key, tokens=self.burst - first, updated=now, granted=first)
            .on_conflict_do_update(
                index_elements=[c.subject],
                set_={
                    "tokens": available - grant,
                    "updated": case((c.updated < now, literal(now, Double)), else_=c.updated),
                    "granted": grant,
                },
            )
            .returning(c.granted, c.tokens)
        )
        with self.database.session(write=True) as session:
            granted, left = session.execute(statement).one()
        self.leases += 1
        return float(granted), float(left)


async def spend(request: Request, subject: str, cost: int = 1) -> None:
    """Spend ``cost`` of ``subject``'s allowance from async code (429 when past it): a lease
    from the database, when one is needed, waits off the event loop."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.try_take(subject, cost):
        # The process's slice is spent: leasing the next one waits for the database.
        await run_in_threadpool(limiter.take, subject, cost)


async def rate_limit(request: Request, principal: PrincipalDep) -> None:
    """Attach to a router: ``APIRouter(dependencies=[Depends(rate_limit)])``."""
    await spend(request, principal.subject)
