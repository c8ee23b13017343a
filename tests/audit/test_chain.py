"""The chain: every entry linked to the one before; verify names the first one tampered with."""

from __future__ import annotations

import itertools
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bordercheck.audit.chain import AuditDetailsError, canonical_details
from bordercheck.audit.models import GENESIS_HASH, AuditEntry
from bordercheck.audit.service import AuditEvent, record_event, record_events, verify
from bordercheck.db import Database
from tests.audit.conftest import append, edit_directly


def last_seq(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def test_an_untouched_chain_is_whole(database: Database) -> None:
    append(database, 5)
    with database.session() as session:
        report = verify(session)
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert report.whole
    assert report.checked == len(entries) == report.last_seq
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert report.last_hash == entries[-1].hash


def test_an_altered_entry_is_named(database: Database) -> None:
    append(database, 6)
    target = last_seq(database) - 3
    edit_directly(database, "UPDATE audit_entries SET actor = 'x' WHERE seq = :seq", seq=target)
    with database.session() as session:
        report = verify(session)
    assert report.problem is not None
    assert report.problem.seq == target
    assert "altered" in report.problem.reason
    assert report.checked == target - 1


def test_altered_details_are_named_even_with_the_hash_left_alone(database: Database) -> None:
    append(database, 3)
    target = last_seq(database) - 1
    edit_directly(
        database,
        "UPDATE audit_entries SET details = :details WHERE seq = :seq",
        details='{"n":99}',
        seq=target,
    )
    with database.session() as session:
        report = verify(session)
    assert report.problem is not None
    assert report.problem.seq == target


def test_a_recomputed_hash_without_the_secret_breaks_the_next_link(database: Database) -> None:
    append(database, 4)
    target = last_seq(database) - 2
    # Someone who knows the scheme but not the secret rewrites an entry's hash: the entry
    # no longer matches, whatever hash they write.
    edit_directly(
        database,
        "UPDATE audit_entries SET hash = :hash WHERE seq = :seq",
        hash="a" * 64,
        seq=target,
    )
    with database.session() as session:
        report = verify(session)
    assert report.problem is not None
    assert report.problem.seq == target


def test_a_removed_entry_is_named(database: Database) -> None:
    append(database, 5)
    target = last_seq(database) - 2
    edit_directly(database, "DELETE FROM audit_entries WHERE seq = :seq", seq=target)
    with database.session() as session:
        report = verify(session)
    assert report.problem is not None
    assert report.problem.seq == target
    assert "removed" in report.problem.reason


def test_a_removed_tail_is_named(database: Database) -> None:
    append(database, 5)
    end = last_seq(database)
    edit_directly(database, "DELETE FROM audit_entries WHERE seq >= :seq", seq=end - 1)
    with database.session() as session:
        report = verify(session)
    assert report.problem is not None
    assert report.problem.seq == end - 1
    assert f"the head records {end}" in report.problem.reason


def test_verifying_needs_the_secret_the_entries_were_written_with(database: Database) -> None:
    append(database, 2)
    with database.session() as session:
        report = verify(session, secret_key="another-secret-of-at-least-32-characters")
    assert report.problem is not None
    assert report.problem.seq == 1


def test_the_database_refuses_to_change_or_delete_entries(database: Database) -> None:
    append(database, 1)
    for statement in ("UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"), database.session(write=True) as s:
            s.execute(text(statement))
    with database.session() as session:
        assert verify(session).whole


def test_an_entry_rolled_back_with_its_transaction_leaves_no_gap(database: Database) -> None:
    append(database, 2)

    def fail_after_recording() -> None:
        with database.session(write=True) as session:
            record_event(session, actor="a", bureau_code=None, action="x.y", subject="s")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        fail_after_recording()
    append(database, 2)
    with database.session() as session:
        assert verify(session).whole


def test_concurrent_writers_chain_one_after_the_other(database: Database) -> None:
    before = last_seq(database)
    writers, each = 4, 15
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(bureau: str) -> None:
        try:
            start.wait()
            for _ in range(each):
                append(database, 1, bureau=bureau)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in ("DEU", "FRA", "ITA", "ESP")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with database.session() as session:
        report = verify(session)
    assert report.whole
    assert report.last_seq == before + writers * each


def test_details_are_canonical_json_with_iso_dates() -> None:
    text_ = canonical_details({"b": date(2024, 3, 1), "a": datetime(2024, 3, 1, 12, 30), "c": [1]})
    assert text_ == '{"a":"2024-03-01T12:30:00","b":"2024-03-01","c":[1]}'
    assert canonical_details(None) == "{}"


def test_details_that_are_not_json_are_refused_clearly() -> None:
    with pytest.raises(AuditDetailsError, match="JSON-serialisable: object"):
        canonical_details({"thing": object()})
    with pytest.raises(AuditDetailsError):
        canonical_details({"nan": float("nan")})


def test_many_events_at_once_chain_like_one_at_a_time(database: Database) -> None:
    before = last_seq(database)
    with database.session(write=True) as session:
        record_event(session, actor="a", bureau_code="DEU", action="x.one", subject="s:0")
        events = [AuditEvent("a", "FRA", "x.many", f"s:{n}", {"n": n}) for n in range(1, 6)]
        record_events(session, events)
        record_events(session, [])
        record_event(session, actor="a", bureau_code="DEU", action="x.one", subject="s:6")
    with database.session() as session:
        report = verify(session)
        subjects = session.scalars(
            select(AuditEntry.subject).where(AuditEntry.seq > before).order_by(AuditEntry.seq)
        )
        assert list(subjects) == [f"s:{n}" for n in range(7)]
    assert report.whole
    assert report.last_seq == before + 7
