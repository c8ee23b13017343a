"""Where the time of one ``POST /api/v1/screen`` goes inside the API process.

Drives the ASGI app in process (no sockets, no uvicorn: what is left is the app's own work),
on the database of ``BORDERCHECK_SETTINGS_FILE`` / ``BORDERCHECK_DATABASE_URL``, with an API
client's token it makes, and the bare FastAPI endpoint of ``bench/http_screening.py`` the
same way. Prints the µs per request of each and, with ``--profile``, the functions that take
the time (cProfile, cumulative).

    BORDERCHECK_SETTINGS_FILE=DIR/bordercheck.env .venv/bin/python bench/screen_request.py \
        [--requests 20000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import select

from bordercheck.api.app import create_app
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import ApiClient, Role
from bordercheck.auth.tokens import Principal, TokenAuthority

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Body(BaseModel):
    document_number: str
    issuing_country: str


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/screen")
    async def screen(body: Body) -> dict[str, object]:
        return {"query_id": "0", "result": "no_hit", "matches": []}

    return app


async def one_request(app: App, body: bytes, token: str, path: str = "/api/v1/screen") -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"authorization", f"Bearer {token}".encode())],
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def rate(app: App, bodies: list[bytes], token: str, requests: int) -> tuple[float, float]:
    """CPU µs per request of this process (its threads included: the query log's writer
    moves the journalled entries meanwhile) and of the thread that answers, the best of
    three passes. CPU time rather than wall-clock time: on a shared machine the latter
    measures the other work too."""
    best = (float("inf"), float("inf"))
    for _ in range(3):
        started = time.process_time(), time.thread_time()
        for i in range(requests):
            status = await one_request(app, bodies[i % len(bodies)], token)
            assert status == 200, status
        spent = time.process_time() - started[0], time.thread_time() - started[1]
        best = min(best, (spent[0] / requests * 1e6, spent[1] / requests * 1e6))
    return best


def client_token(app: FastAPI) -> str:
    database = app.state.database
    with database.session(write=True) as session:
        client = session.scalar(select(ApiClient).where(ApiClient.name == "request-bench"))
        if client is None:
            client, _ = auth_service.add_client(
                session, "request-bench", bureau="FRA", role=Role.BORDER_OFFICER
            )
        client_id = client.client_id
    tokens: TokenAuthority = app.state.tokens
    principal = Principal("client", client_id, "request-bench", Role.BORDER_OFFICER, "FRA")
    return tokens.issue(principal).access_token


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--bare", action="store_true", help="measure the bare endpoint too")
    args = parser.parse_args()
    app = create_app()
    bodies = [
        orjson.dumps({"document_number": f"Z{n:08d}", "issuing_country": "DEU",
                      "location": "BENCH"})
        for n in range(1000)
    ]  # fmt: skip
    async with app.router.lifespan_context(app):
        while app.state.live_index.index is None:
            await asyncio.sleep(0.1)
        token = client_token(app)
        await rate(app, bodies, token, 2000)  # warm: caches, subjects
        ours = await rate(app, bodies, token, args.requests)
        print(f"bordercheck POST /screen (clean): {ours[0]:.1f} µs CPU a request "
              f"({ours[1]:.1f} µs of it answering)")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for i in range(args.requests):
                await one_request(app, bodies[i % len(bodies)], token)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
    if args.bare:
        bare = bare_app()
        bare_rate = await rate(bare, bodies, "x", args.requests)
        print(f"bare FastAPI endpoint: {bare_rate[0]:.1f} µs CPU a request")


if __name__ == "__main__":
    asyncio.run(main())
