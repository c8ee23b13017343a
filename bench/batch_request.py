"""Where the time of a 10,000-document ``POST /api/v1/screen/batch`` goes inside the API
process: the batch sent as a list of documents and as columns, answered in full and with its
matches only.

Drives the ASGI app in process as ``bench/screen_request.py`` does (no sockets), on the
database of ``BORDERCHECK_SETTINGS_FILE`` (``bench/http_screening.py --work DIR`` makes one),
with a batch made as that script makes its own: 1 % of its numbers recorded (hits, committed
with their cases before the answer), the rest clean (journalled). Prints, for each form and
answer, the CPU ms of the whole process per batch, the query log's thread moving the clean
entries into the database included, and the wall-clock ms of the answer; ``--profile FORM``
adds the functions that take the time (cProfile).

    BORDERCHECK_SETTINGS_FILE=DIR/bordercheck.env .venv/bin/python bench/batch_request.py \\
        [--rounds 20] [--profile columns]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import select

from bordercheck.api.app import create_app
from bordercheck.documents.types import DocumentType, family_of
from bordercheck.registry.models import Record
from screen_request import client_token, one_request

BATCH = 10_000
PATH = "/api/v1/screen/batch"
RECORDED_SHARE = 0.01


def batch_documents(app: FastAPI) -> list[dict[str, Any]]:
    """10,000 documents of one country, 1 % of them recorded numbers (as http_screening's)."""
    with app.state.database.session() as session:
        rows = session.execute(
            select(Record.document_number, Record.issuing_country, Record.document_type)
            .where(Record.serial_end.is_(None))
            .limit(2000)
        ).all()
    country = rows[0].issuing_country
    share = round(1000 * RECORDED_SHARE)
    recorded = [row for row in rows if row.issuing_country == country][:share]
    kinds = {r.document_number: family_of(DocumentType(r.document_type)).value for r in recorded}
    numbers = [row.document_number for row in recorded]
    numbers += [f"Z{n:08d}" for n in range(1000 - len(numbers))]
    return [
        {"document_number": numbers[i % len(numbers)], "issuing_country": country,
         "document_type": kinds.get(numbers[i % len(numbers)], "passport")}
        for i in range(BATCH)
    ]  # fmt: skip


def bodies(documents: list[dict[str, Any]]) -> dict[str, bytes]:
    columns = {name: [d[name] for d in documents]
               for name in ("document_number", "issuing_country", "document_type")}  # fmt: skip
    return {
        "documents, full": orjson.dumps({"documents": documents}),
        "documents, matches": orjson.dumps({"documents": documents, "answer": "matches"}),
        "columns, full": orjson.dumps({"columns": columns}),
        "columns, matches": orjson.dumps({"columns": columns, "answer": "matches"}),
    }


async def drained(app: FastAPI) -> None:
    """Until the query log's thread has moved every entry into the database."""
    while app.state.query_log.pending:
        await asyncio.sleep(0.005)


async def measure(app: FastAPI, body: bytes, token: str, rounds: int) -> tuple[float, float]:
    """CPU ms of the process per batch (the log's thread included, drained after each) and
    the median wall-clock ms of the answers."""
    await drained(app)
    walls = []
    cpu = 0.0
    for _ in range(rounds):
        started = time.process_time(), time.perf_counter()
        assert await one_request(app, body, token, PATH) == 200
        walls.append((time.perf_counter() - started[1]) * 1000)
        await drained(app)
        cpu += time.process_time() - started[0]
    return cpu / rounds * 1000, statistics.median(walls)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", choices=["documents", "columns"])
    args = parser.parse_args()
    app = create_app()
    async with app.router.lifespan_context(app):
        while app.state.live_index.index is None:
            await asyncio.sleep(0.1)
        token = client_token(app)
        sent = bodies(batch_documents(app))
        for body in sent.values():  # warm: caches, the first pass of each path
            await measure(app, body, token, 2)
        print(f"{app.state.live_index.index.size:,} records; CPU ms per 10,000-document batch "
              "(the process, the log's thread included) / wall-clock ms of the answer")  # fmt: skip
        for name, body in sent.items():
            cpu, wall = await measure(app, body, token, args.rounds)
            print(f"  {name}: {cpu:.1f} CPU ms / {wall:.1f} ms, {BATCH / cpu * 1000:,.0f} docs/s")
        if args.profile:
            profile = cProfile.Profile()
            body = sent[f"{args.profile}, full"]
            profile.enable()
            for _ in range(args.rounds):
                await one_request(app, body, token, PATH)
                await drained(app)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    asyncio.run(main())
