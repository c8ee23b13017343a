"""The hash chain: canonical encoding of an entry, its keyed hash, and checking the chain.

Each entry's hash is an HMAC-SHA256, keyed from the deployment secret, over every field of
the entry and the hash of the entry before it. Someone who can edit the database but does
not hold ``BORDERCHECK_SECRET_KEY`` cannot recompute the chain after altering an entry;
verifying it therefore needs the same secret the entries were written with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.models import GENESIS_HASH, AuditEntry, AuditHead

HEAD_ID = 1
# Rows fetched per round trip while verifying; the chain may hold millions of entries.
VERIFY_BATCH = 5000


class AuditDetailsError(ValueError):
    """The details of an event cannot be written as JSON (a programming error, not a user's)."""


def chain_key(secret_key: str) -> bytes:
    """A key of its own for the chain, so that it is not the secret key itself."""
    return hmac.new(secret_key.encode(), b"bordercheck audit chain v1", hashlib.sha256).digest()


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def canonical_details(details: Mapping[str, Any] | None) -> str:
    """Details as canonical JSON: sorted keys, no spaces, dates as ISO 8601 strings."""
    try:
        return json.dumps(
            dict(details or {}),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_json_value,
        )
    except (TypeError, ValueError) as exc:
        raise AuditDetailsError(f"audit details must be JSON-serialisable: {exc}") from None


def canonical_time(at: datetime) -> str:
    """UTC with microseconds. SQLite hands back naive datetimes; they were written in UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    key: bytes,
    *,
    seq: int,
    at: datetime,
    actor: str,
    bureau_code: str | None,
    action: str,
    subject: str,
    details: str,
    prev_hash: str,
) -> str:
    fields = [seq, canonical_time(at), actor, bureau_code, action, subject, details, prev_hash]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """The first entry that does not fit the chain, and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_seq: int
    last_hash: str
    problem: ChainProblem | None

    @property
    def whole(self) -> bool:
        return self.problem is None


def verify_chain(session: Session, key: bytes) -> ChainReport:
    """Walk the chain in sequence order and stop at the first entry that was altered or removed.

    The head is read first and the walk stops at the entry it names, so entries appended
    while the walk runs are neither checked nor taken for tampering.
    """
    head = session.get(AuditHead, HEAD_ID)
    last_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    # Plain rows, not ORM objects: a third of the time, and nothing kept in the session.
    rows = session.execute(
        select(*_COLUMNS).where(AuditEntry.seq <= last_seq).order_by(AuditEntry.seq),
        execution_options={"yield_per": VERIFY_BATCH},
    )
    expected, prev_hash, checked = 1, GENESIS_HASH, 0
    try:
        for row in rows:
            entry = _Entry(*row)
            problem = _check(entry, key, expected, prev_hash)
            if problem:
                return ChainReport(checked, last_seq, head_hash, problem)
            checked += 1
            expected, prev_hash = entry.seq + 1, entry.hash
    finally:
        rows.close()
    if expected <= last_seq:
        reason = f"removed: the chain ends at entry {expected - 1}, the head records {last_seq}"
        return ChainReport(checked, last_seq, head_hash, ChainProblem(expected, reason))
    if prev_hash != head_hash:
        reason = "altered: its hash differs from the one the head records"
        return ChainReport(checked, last_seq, head_hash, ChainProblem(last_seq, reason))
    return ChainReport(checked, last_seq, head_hash, None)


class _Entry(NamedTuple):
    seq: int
    at: datetime
    actor: str
    bureau_code: str | None
    action: str
    subject: str
    details: str
    prev_hash: str
    hash: str


_COLUMNS = [getattr(AuditEntry, name) for name in _Entry._fields]


def _check(entry: _Entry, key: bytes, expected: int, prev_hash: str) -> ChainProblem | None:
    if entry.seq != expected:
        return ChainProblem(expected, f"removed: the next entry found is {entry.seq}")
    if entry.prev_hash != prev_hash:
        return ChainProblem(entry.seq, "altered: it does not link to the entry before it")
    recomputed = entry_hash(
        key,
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        bureau_code=entry.bureau_code,
        action=entry.action,
        subject=entry.subject,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )
    if not hmac.compare_digest(recomputed, entry.hash):
        return ChainProblem(entry.seq, "altered: its content does not match its hash")
    return None
