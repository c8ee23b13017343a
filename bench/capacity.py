"""Capacity of a deployment at the real system's scale, from figures measured per node.

From the per-node figures of docs/benchmarks.md (or given on the command line) and the real
system's volumes, works out: the screening nodes needed at the peak with headroom and with
one node down, what each node holds in memory and how fast it starts, the PostgreSQL write
load at the peak (query log rows and transactions, hits), and the query log's storage per
day and per year. With ``--postgres-url`` it first measures the query log on that
PostgreSQL (rows a second through the writer's path, bytes a row with its indexes) and uses
those figures; the schema it makes is dropped at the end.

    .venv/bin/python bench/capacity.py [--peak 5000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, text

from bordercheck.db import Database, normalise_url
from bordercheck.migrations import upgrade
from bordercheck.screening.live import COMPACT_AT
from bordercheck.screening.querylog import MOVE_SECONDS, LoggedMatch, LoggedQuery, write_entries
from bordercheck.timestamps import utcnow

console = Console()
SECONDS_A_YEAR = 365 * 24 * 3600
MIB = 1024 * 1024
GB = 1e9


@dataclass(frozen=True)
class Figures:
    """What the plan rests on; the defaults are measured (docs/benchmarks.md) or given."""

    records: float = 128e6  # the real database (docs/design)
    searches_a_year: float = 3.6e9  # 2023
    hits_a_year: float = 232_423  # 2023: about 1 in 15,000 searches
    peak: float = 5_000.0  # searches a second at the busiest moment ("several thousand")
    # docs/benchmarks.md, "Screening index": 20.66 B/record at 100 M (all arrays, ranges).
    index_bytes_a_record: float = 20.66
    # "Starting several workers": a worker process with the index mapped, about 155 MiB PSS
    # beside the shared snapshot.
    worker_mib: float = 155.0
    workers: int = 2  # a node: 2 cores, one worker each
    # "Screening over HTTP", "Journalling clean answers", idle run: 2,187 single screens/s
    # for one 2-core node (2 workers), clean answers journalled, matches committed.
    node_screens: float = 2_187.0
    # The same run: a 10,000-document batch in 156 ms.
    node_batch_docs: float = 10_000 / 0.156
    # "Screening index": snapshot load with CRC check, 0.29 s at 100 M; a rebuild from
    # columns 81 s at 100 M (the registry read from the database comes on top).
    load_seconds_100m: float = 0.29
    build_seconds_100m: float = 81.0
    utilisation: float = 0.6  # at most this share of a node's measured rate at the peak
    # Query log on PostgreSQL: bytes a row with its indexes, rows a second one writer
    # commits in transactions of 2,000 (measured with --postgres-url, 2026-12-06, PostgreSQL
    # 15 on the same 2 cores at a load average of 23: docs/deployment.md).
    log_bytes_a_row: float = 275.0
    log_rows_a_second: float = 12_522.0
    rate_limit_slice: int = 10  # api.limits.default_slice(100, 200)
    retention_days: int = 365  # how long query log partitions are kept online


def measure_query_log(url: str, rows: int, group: int) -> tuple[float, float]:
    """Write ``rows`` query log entries through the writer's path in transactions of
    ``group``, in a schema of their own; returns (rows a second, bytes a row)."""
    schema = f"bench_{secrets.token_hex(6)}"
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in url else "?"
    scoped = f"{normalise_url(url)}{joiner}options=-csearch_path%3D{schema}"
    key = secrets.token_urlsafe(32)
    try:
        upgrade(scoped, secret_key=key)
        database = Database(scoped, secret_key=key)
        start = utcnow() - timedelta(days=1)
        written = 0
        took = 0.0
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("query log rows", total=rows)
            while written < rows:
                batch = [_entry(start, written + i) for i in range(min(group, rows - written))]
                began = time.perf_counter()
                with database.session(write=True) as session:
                    write_entries(session, batch, on_hits=())
                took += time.perf_counter() - began
                written += len(batch)
                progress.update(task, completed=written)
        with database.session() as session:
            session.execute(text("ANALYZE screening_queries"))
            size = session.scalar(text("SELECT pg_total_relation_size('screening_queries')"))
        database.dispose()
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
    return rows / took, float(size or 0) / rows


def _entry(start: object, n: int) -> LoggedQuery:
    """A query as a border post sends it: mostly clean, 1 in 15,000 a hit."""
    hit = n % 15_000 == 0
    return LoggedQuery(
        id=uuid.uuid4().hex,
        at=start + timedelta(milliseconds=n),  # type: ignore[operator]
        principal_kind="client",
        principal_name=f"gate {n % 40:02d} terminal 2",
        bureau_code="FRA",
        location=f"CDG-T2-{n % 40:02d}",
        operation_id=None,
        source="mrz",
        document_number=f"C{n % 10_000_000:08d}",
        issuing_country="DEU",
        document_type="passport",
        result="hit" if hit else "no_hit",
        matches=(LoggedMatch(record_id=1, match="exact", score=1.0),) if hit else (),
    )


def plan(f: Figures) -> list[tuple[str, str, str]]:
    """The table: (what, figure, how it is worked out)."""
    mean = f.searches_a_year / SECONDS_A_YEAR
    per_node = f.node_screens * f.utilisation
    serving = math.ceil(f.peak / per_node)
    nodes = serving + 1  # one node down (failure, upgrade) still carries the peak
    index_bytes = f.records * f.index_bytes_a_record
    node_memory = index_bytes + f.workers * f.worker_mib * MIB
    compacted = node_memory + f.workers * index_bytes
    load = f.load_seconds_100m * f.records / 100e6
    build = f.build_seconds_100m * f.records / 100e6
    hits_peak = f.peak * f.hits_a_year / f.searches_a_year
    # Each worker's writer commits the journalled clean entries every MOVE_SECONDS (or at
    # 10,000), and a transaction for the requests that wait on a match.
    commits = nodes * f.workers / MOVE_SECONDS + hits_peak
    leases = f.peak / f.rate_limit_slice
    # Each worker polls the feed every 0.2 s and reloads callers and revocations every second.
    polls = nodes * f.workers * (1 / 0.2 + 2)
    rows_a_day = f.searches_a_year / 365
    log_day = rows_a_day * f.log_bytes_a_row
    log_year = f.searches_a_year * f.log_bytes_a_row
    return [
        ("searches a second, mean / peak", f"{mean:,.0f} / {f.peak:,.0f}",
         f"{f.searches_a_year:,.0f} a year; peak given"),
        ("one node (2 cores, 2 workers), measured", f"{f.node_screens:,.0f} screens/s",
         "benchmarks.md, Journalling clean answers (idle run)"),
        ("one node's share of the peak", f"{per_node:,.0f} screens/s",
         f"{f.utilisation:.0%} of measured: headroom for bursts, batches, GC"),
        ("nodes serving the peak / deployed", f"{serving} / {nodes}",
         "ceil(peak / share), + 1 so that one node down still carries it"),
        ("peak with one node down, per node", f"{f.peak / serving:,.0f} screens/s",
         f"{f.peak / serving / f.node_screens:.0%} of a node's measured rate"),
        ("batch capacity of the deployed nodes", f"{nodes * f.node_batch_docs / 1e6:,.1f} M docs/s",
         "10,000-document batch in 156 ms per node"),
        ("index in memory, per node", f"{index_bytes / GB:,.2f} GB",
         f"{f.records / 1e6:,.0f} M records × {f.index_bytes_a_record} B"),
        ("node memory (index shared + workers)", f"{node_memory / GB:,.2f} GB",
         f"+ {f.workers} × {f.worker_mib:.0f} MiB per worker"),
        ("node memory once the index compacts", f"{compacted / GB:,.2f} GB",
         f"each {COMPACT_AT:,} changes, a private copy per worker (+1 meanwhile)"),
        ("node start: map snapshot / rebuild", f"{load:,.2f} s / {build:,.0f} s",
         "scaled from 100 M (CRC check; build from columns)"),
        ("PostgreSQL: query log rows a second at peak", f"{f.peak:,.0f}",
         f"one per search, over {nodes * f.workers} writers; "
         f"{f.peak / f.log_rows_a_second:.0%} of one writer's measured rate"),
        ("PostgreSQL: query log transactions a second", f"{commits:,.0f}",
         f"{nodes * f.workers} writers every {MOVE_SECONDS} s + hits"),
        ("PostgreSQL: hits (cases) a second at peak", f"{hits_peak:,.2f}",
         f"1 in {f.searches_a_year / f.hits_a_year:,.0f} searches"),
        ("PostgreSQL: rate-limit leases a second, at most", f"{leases:,.0f}",
         f"one per {f.rate_limit_slice} requests (the default slice at 100 requests/s)"),
        ("PostgreSQL: small reads a second from the nodes", f"{polls:,.0f}",
         "each worker: the feed every 0.2 s, callers and revocations every 1 s"),
        ("query log rows a day (mean)", f"{rows_a_day / 1e6:,.1f} M", ""),
        ("query log bytes a day / a year", f"{log_day / GB:,.1f} GB / {log_year / 1e12:,.2f} TB",
         f"{f.log_bytes_a_row:,.0f} B a row with its indexes"),
        (f"query log kept online ({f.retention_days} days)",
         f"{log_day * f.retention_days / 1e12:,.2f} TB",
         "monthly partitions; older ones detached and archived"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peak", type=float, default=Figures.peak, help="searches a second")
    parser.add_argument("--records", type=float, default=Figures.records)
    parser.add_argument("--node-screens", type=float, default=Figures.node_screens,
                        help="single screens a second one node sustains (measured)")  # fmt: skip
    parser.add_argument("--utilisation", type=float, default=Figures.utilisation)
    parser.add_argument("--postgres-url", help="measure the query log on this PostgreSQL")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--log-rows", type=int, default=200_000)
    parser.add_argument("--log-group", type=int, default=2_000,
                        help="entries a transaction, as a node's writer groups them")  # fmt: skip
    args = parser.parse_args()
    extra: dict[str, float] = {}
    if args.postgres_url:
        rate, size = measure_query_log(args.postgres_url, args.log_rows, args.log_group)
        console.print(
            f"query log on PostgreSQL: {rate:,.0f} rows/s in transactions of "
            f"{args.log_group:,}; {size:,.0f} bytes a row with its indexes "
            f"({args.log_rows:,} rows)"
        )
        extra = {"log_rows_a_second": rate, "log_bytes_a_row": size}
    figures = Figures(
        peak=args.peak, records=args.records, node_screens=args.node_screens,
        utilisation=args.utilisation, **extra,
    )  # fmt: skip
    rows = plan(figures)
    if args.markdown:
        print("| what | figure | from |\n| --- | --- | --- |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    table = Table(title=f"bordercheck at {figures.records / 1e6:,.0f} M records, "
                  f"peak {figures.peak:,.0f} searches/s")  # fmt: skip
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_column("from")
    for row in rows:
        table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    main()
