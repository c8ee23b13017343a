"""Limits that protect the service: request body size, and a request rate per caller.

The body limit is a bare ASGI middleware (a header look-up per request). The rate limit is
a token bucket per authenticated caller, in memory: each process counts on its own, so with
N worker processes a caller gets up to N times the configured rate in all.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bordercheck.api.deps import PrincipalDep
from bordercheck.api.errors import error_body
from bordercheck.errors import TooManyRequests


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
        retry_after = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"more than {self.per_second:g} requests a second (bursts of {self.burst}); "
            f"try again in {retry_after} s",
            retry_after=retry_after,
        )

    def _prune(self, now: float) -> None:
        refill = self.burst / self.per_second
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]


async def rate_limit(request: Request, principal: PrincipalDep) -> None:
    """Attach to a router: ``APIRouter(dependencies=[Depends(rate_limit)])``."""
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.take(principal.subject)
