"""Audit trail: what one entry costs a transaction, how fast ``audit verify`` walks, and what
a signed checkpoint costs.

    .venv/bin/python bench/audit_chain.py [--url postgresql://…] [--entries 200000]

Without ``--url`` it runs on a fresh SQLite file. On PostgreSQL it makes a schema of its own
and drops it afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bordercheck.audit.checkpointing import take_checkpoint
from bordercheck.audit.checkpoints import CheckpointSigner
from bordercheck.audit.service import AuditEvent, record_event, record_events, verify
from bordercheck.db import Database, normalise_url
from bordercheck.migrations import upgrade

DETAILS = {"fields": ["status", "event_date"], "document_number": "C01X00T47", "version": 3}


def _event(session: Session, n: int) -> None:
    record_event(
        session,
        actor="officer.deu",
        bureau_code="DEU",
        action="record.updated",
        subject=f"record:{n}",
        details=DETAILS,
    )


def run(url: str, entries: int) -> None:
    key = secrets.token_urlsafe(32)  # the installation's secret key, this run's own
    upgrade(url, secret_key=key)
    database = Database(url, secret_key=key)
    try:
        singles = 500
        started = time.perf_counter()
        for n in range(singles):
            with database.session(write=True) as session:
                _event(session, n)
        elapsed = time.perf_counter() - started
        print(f"one entry per transaction: {elapsed / singles * 1e3:.2f} ms each (commit included)")

        baseline_started = time.perf_counter()
        for _ in range(singles):
            with database.session(write=True) as session:
                session.execute(text("SELECT 1"))
        baseline = time.perf_counter() - baseline_started
        print(f"  an empty write transaction: {baseline / singles * 1e3:.2f} ms")

        many = 2000
        started = time.perf_counter()
        with database.session(write=True) as session:
            for n in range(many):
                _event(session, n)
        elapsed = time.perf_counter() - started
        print(f"{many:,} record_event calls in one transaction: {many / elapsed:,.0f} entries/s")

        batch = [AuditEvent("officer.deu", "DEU", "record.updated", "record:1", DETAILS)] * 1000
        started = time.perf_counter()
        for _ in range(entries // len(batch)):
            with database.session(write=True) as session:
                record_events(session, batch)
        elapsed = time.perf_counter() - started
        print(f"record_events, 1,000 a transaction: {entries / elapsed:,.0f} entries/s")

        started = time.perf_counter()
        with database.session() as session:
            report = verify(session)
        elapsed = time.perf_counter() - started
        assert report.whole, report.problem
        print(f"verify: {report.checked:,} entries in {elapsed:.1f} s "
              f"({report.checked / elapsed:,.0f} entries/s)")  # fmt: skip

        # Checkpoints: the first checks the whole chain; each later one only the entries
        # written since the one before (what the server does every BORDERCHECK_AUDIT_
        # CHECKPOINT_MINUTES), then signs.
        signer = CheckpointSigner(bytes(range(32)))
        started = time.perf_counter()
        first = take_checkpoint(database, signer)
        elapsed = time.perf_counter() - started
        print(f"first checkpoint (whole chain checked): {elapsed:.1f} s")
        for since in (1000, 100_000):
            for start in range(0, since, len(batch)):
                with database.session(write=True) as session:
                    record_events(session, batch[: min(len(batch), since - start)])
            started = time.perf_counter()
            first = take_checkpoint(database, signer, after=first)
            elapsed = time.perf_counter() - started
            print(f"next checkpoint, {since:,} entries since the last: {elapsed * 1e3:,.1f} ms")
        started = time.perf_counter()
        rounds = 2000
        for _ in range(rounds):
            signer.sign(first.seq, first.hash, first.at)
        elapsed = time.perf_counter() - started
        print(f"  signing alone: {elapsed / rounds * 1e6:.0f} µs")
        started = time.perf_counter()
        with database.session() as session:
            report = verify(session, pins=[first.pin()])
        elapsed = time.perf_counter() - started
        assert report.whole, report.problem
        print(f"verify with a checkpoint: {report.checked:,} entries in {elapsed:.1f} s")
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL URL; default: a fresh SQLite file")
    parser.add_argument("--entries", type=int, default=200_000)
    args = parser.parse_args()
    if args.url is None:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'audit.db'}", args.entries)
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(args.url))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in args.url else "?"
    try:
        run(f"{normalise_url(args.url)}{joiner}options=-csearch_path%3D{schema}", args.entries)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
