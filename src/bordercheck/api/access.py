"""The access log: one structured line per request, that says who asked for what, not what.

Each line holds the method, the route template (``/api/v1/records/{record_id}``; the raw
path only when no route answered), the status, the time taken and the caller's name. Never
the query string (a search carries document numbers in it), never a header (tokens), never
a body (documents and passwords).
"""

from __future__ import annotations

from starlette.datastructures import State
from starlette.types import Scope

from bordercheck.logs import get_logger

log = get_logger("bordercheck.access")
# A path no route answered is logged as sent, cut to this length (scanners send long ones).
UNMATCHED_PATH_CHARS = 200


def record_caller(state: State, name: str) -> None:
    """Remember who the request is from, for its access log line (``request.state``)."""
    state.caller = name


def log_request(scope: Scope, template: str | None, status: int, seconds: float) -> None:
    """One access log line; the request was timed by the metrics middleware, once for both."""
    log.info(
        "request",
        method=scope["method"],
        path=template or scope["path"][:UNMATCHED_PATH_CHARS],
        status=status,
        ms=round(seconds * 1000, 1),
        caller=scope.get("state", {}).get("caller"),
    )
