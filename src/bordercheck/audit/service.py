"""Writing the audit trail and searching it. Entries are only ever appended."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from bordercheck.audit.chain import (
    HEAD_ID,
    ChainReport,
    Pin,
    canonical_details,
    canonical_time,
    chain_key,
    entry_hash,
    head_key,
    head_seal,
    verify_chain,
)
from bordercheck.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from bordercheck.db import secret_key_of
from bordercheck.timestamps import utcnow

__all__ = [
    "SYSTEM_ACTOR",
    "AuditEvent",
    "AuditFilter",
    "AuditPage",
    "ChainReport",
    "canonical_time",
    "command_line_actor",
    "record_event",
    "record_events",
    "search",
    "verify",
]

# The actor of changes made by bordercheck itself (the secretariat's bureau at install).
SYSTEM_ACTOR = "system"

ACTOR_MAX = 100
SUBJECT_MAX = 200
ACTION_MAX = 64


@functools.lru_cache(maxsize=4)
def _chain_key(secret_key: str) -> bytes:
    # By the key, derived once: record_event is on every write path.
    return chain_key(secret_key)


@functools.lru_cache(maxsize=4)
def _head_key(secret_key: str) -> bytes:
    return head_key(secret_key)


def command_line_actor() -> str:
    """Who ran a command: the operating system's user, since commands need no sign-in."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in some containers
        return "cli"


def _clip(text: str, limit: int) -> str:
    # Actors can be names someone typed at the sign-in form: an over-long one is cut, not
    # allowed to fail the transaction it is recorded in.
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class AuditEvent:
    """One entry to append, for ``record_events``."""

    actor: str
    bureau_code: str | None
    action: str
    subject: str
    details: Mapping[str, Any] | None = None


def record_event(
    session: Session,
    *,
    actor: str,
    bureau_code: str | None,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry to the audit trail, in the caller's transaction.

    ``bureau_code`` is the bureau the entry belongs to (the acting bureau; for records the
    owning bureau), which may search it. ``details`` must be JSON-serialisable; dates and
    datetimes become ISO 8601 strings. Call it last in a transaction: the chain's head stays
    locked until commit, so every other writer of the trail waits for this one.
    """
    record_events(session, [AuditEvent(actor, bureau_code, action, subject, details)])


def record_events(session: Session, events: Sequence[AuditEvent]) -> None:
    """Append several entries at once: for a transaction that records many events.

    On PostgreSQL each ``record_event`` updates the head row, and a row updated thousands of
    times in one transaction gets slower with each update (its old versions cannot be
    cleaned up until commit); here the head is updated once for all of them.
    """
    if not events:
        return
    prepared = []
    for event in events:
        if len(event.action) > ACTION_MAX:
            raise ValueError(
                f"audit action {event.action!r} is longer than {ACTION_MAX} characters"
            )
        prepared.append(
            (
                _clip(event.actor, ACTOR_MAX),
                event.bureau_code,
                event.action,
                _clip(event.subject, SUBJECT_MAX),
                canonical_details(event.details),
            )
        )
    connection = session.connection()
    seq, prev_hash = _advance_head(connection, len(prepared))
    at = utcnow()
    # record_event is called from every domain's services, which are handed a session and
    # nothing else: the key comes with the session, from the app's or command's settings.
    secret_key = secret_key_of(session)
    key = _chain_key(secret_key)
    rows = []
    for actor, bureau_code, action, subject, details in prepared:
        digest = entry_hash(
            key,
            seq=seq,
            at=at,
            actor=actor,
            bureau_code=bureau_code,
            action=action,
            subject=subject,
            details=details,
            prev_hash=prev_hash,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "bureau_code": bureau_code,
                "action": action,
                "subject": subject,
                "details": details,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        seq, prev_hash = seq + 1, digest
    connection.execute(_APPEND, rows)
    seal = head_seal(_head_key(secret_key), seq - 1, prev_hash)
    connection.execute(_SET_HEAD_HASH, {"digest": prev_hash, "seal": seal})


# Built once: statements with only bound parameters are compiled once and cached, which
# keeps an entry to three round trips and little Python (it is on every write path).
_entries: Table = AuditEntry.__table__  # type: ignore[assignment]
_head: Table = AuditHead.__table__  # type: ignore[assignment]
_APPEND = insert(_entries)
_ADVANCE_HEAD = (
    update(_head)
    .where(_head.c.id == HEAD_ID)
    .values(last_seq=_head.c.last_seq + bindparam("count"))
    .returning(_head.c.last_seq, _head.c.last_hash)
)
_SET_HEAD_HASH = (
    update(_head)
    .where(_head.c.id == HEAD_ID)
    .values(last_hash=bindparam("digest"), seal=bindparam("seal"))
)


def _advance_head(connection: Connection, count: int) -> tuple[int, str]:
    """Reserve ``count`` sequence numbers; return the first and the hash to chain onto.

    The head stays locked until commit: on PostgreSQL the UPDATE takes the row lock; on
    SQLite the writer holds the database.
    """
    row = connection.execute(_ADVANCE_HEAD, {"count": count}).one_or_none()
    if row is None:
        # The migration creates the head; a schema made from the models alone has none yet.
        connection.execute(
            insert(_head), {"id": HEAD_ID, "last_seq": count, "last_hash": GENESIS_HASH}
        )
        return 1, GENESIS_HASH
    return int(row[0]) - count + 1, str(row[1])


def verify(
    session: Session,
    secret_key: str | None = None,
    *,
    pins: Sequence[Pin] = (),
    start: tuple[int, str] = (0, GENESIS_HASH),
) -> ChainReport:
    """Check the chain from ``start`` and the head's seal with the deployment secret (the
    session's unless one is given), and that it passes through every pinned hash."""
    secret_key = secret_key or secret_key_of(session)
    keys = _chain_key(secret_key), _head_key(secret_key)
    return verify_chain(session, *keys, pins=pins, start=start)


@dataclass(frozen=True)
class AuditFilter:
    """What to search for; ``bureau_code`` None means every bureau (admins only)."""

    bureau_code: str | None = None
    action: str | None = None
    actor: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    # Pass back as ``before`` for the next, older page; None when this was the last.
    next_cursor: int | None


def search(
    session: Session, criteria: AuditFilter, *, limit: int = 100, before: int | None = None
) -> AuditPage:
    """Entries matching ``criteria``, newest first, ``limit`` at a time (cursor: a sequence)."""
    query = select(AuditEntry)
    if criteria.bureau_code is not None:
        query = query.where(AuditEntry.bureau_code == criteria.bureau_code)
    if criteria.action is not None:
        if criteria.action.endswith("."):
            # "record." finds every record.* action.
            query = query.where(AuditEntry.action.startswith(criteria.action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == criteria.action)
    if criteria.actor is not None:
        query = query.where(AuditEntry.actor == criteria.actor)
    if criteria.subject is not None:
        query = query.where(AuditEntry.subject == criteria.subject)
    if criteria.since is not None:
        query = query.where(AuditEntry.at >= criteria.since)
    if criteria.until is not None:
        query = query.where(AuditEntry.at < criteria.until)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    entries = rows[:limit]
    return AuditPage(entries, entries[-1].seq if more and entries else None)
