"""The access log: one structured line per request, that says who asked for what, not what.

Each line holds the method, the route template (``/api/v1/records/{record_id}``; the raw
path only when no route answered), the status, the time taken and the caller's name. Never
the query string (a search carries document numbers in it), never a header (tokens), never
a body (documents and passwords).
"""

from __future__ import annotations

import time

from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bordercheck.api.metrics import route_template
from bordercheck.logs import get_logger

log = get_logger("bordercheck.access")
# A path no route answered is logged as sent, cut to this length (scanners send long ones).
UNMATCHED_PATH_CHARS = 200


def record_caller(state: State, name: str) -> None:
    """Remember who the request is from, for its access log line (``request.state``)."""
    state.caller = name


class AccessLog:
    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            template = route_template(scope, self.prefix)
            log.info(
                "request",
                method=scope["method"],
                path=template or scope["path"][:UNMATCHED_PATH_CHARS],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                caller=scope.get("state", {}).get("caller"),
            )
