"""The hash chain: canonical encoding of an entry, its keyed hash, and checking the chain.

Each entry's hash is an HMAC-SHA256, keyed from the deployment secret, over every field of
the entry and the hash of the entry before it. Someone who can edit the database but does
not hold ``BORDERCHECK_SECRET_KEY`` cannot recompute the chain after altering an entry;
verifying it therefore needs the same secret the entries were written with.

The head row (last sequence and hash) is sealed the same way, with a key of its own: a head
moved back to an earlier entry by someone without the secret, to hide a removed tail, no
longer matches its seal. What the secret's holder could still do (cut or rewrite the chain
and reseal the head) only a signed checkpoint kept outside the database shows: see
``checkpoints``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
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


def head_key(secret_key: str) -> bytes:
    """The head's sealing key: derived apart from the chain's, so one is not the other."""
    return hmac.new(secret_key.encode(), b"bordercheck audit head v1", hashlib.sha256).digest()


def head_seal(key: bytes, last_seq: int, last_hash: str) -> str:
    return hmac.new(key, f"{last_seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


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
    """UTC with microseconds (timestamps are read back aware: ``timestamps.UtcDateTime``)."""
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


@dataclass(frozen=True)
class Pin:
    """A hash the entry at ``seq`` must have, vouched for from outside the database."""

    seq: int
    hash: str
    source: str  # named in a problem, e.g. "the checkpoint of 2026-12-06T04:00Z (key 1a2b…)"


@dataclass(frozen=True)
class Head:
    last_seq: int
    last_hash: str
    seal: str


def read_head(session: Session) -> Head | None:
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return None
    return Head(head.last_seq, head.last_hash, head.seal)


def verify_chain(
    session: Session,
    key: bytes,
    seal_key: bytes,
    *,
    pins: Sequence[Pin] = (),
    start: tuple[int, str] = (0, GENESIS_HASH),
) -> ChainReport:
    """Walk the chain in sequence order and stop at the first entry that was altered or removed.

    The head is read first and the walk stops at the entry it names (or at the last pin, if
    that is further), so entries appended while the walk runs are neither checked nor taken
    for tampering. ``start`` is an entry already known good (sequence, hash): the walk
    checks that it is still there and goes on from it, which is how a new checkpoint is
    chained onto the one before without walking everything again.
    """
    head = read_head(session)
    if head is None:
        return ChainReport(0, 0, GENESIS_HASH, ChainProblem(1, "the head row is missing"))
    pinned = {pin.seq: pin for pin in pins}
    end = max([head.last_seq, *pinned])
    first, prev_hash = start
    if first > head.last_seq:
        reason = f"removed: the head records {head.last_seq}, before entry {first} checked earlier"
        return ChainReport(
            0, head.last_seq, head.last_hash, ChainProblem(head.last_seq + 1, reason)
        )
    if first > 0:
        found = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == first))
        if found is None:
            return ChainReport(0, head.last_seq, head.last_hash, _removed_at(first, head))
        if found != prev_hash:
            reason = f"altered: its hash is no longer the one already checked ({prev_hash})"
            return ChainReport(0, head.last_seq, head.last_hash, ChainProblem(first, reason))
    # Plain rows, not ORM objects: a third of the time, and nothing kept in the session.
    rows = session.execute(
        select(*_COLUMNS)
        .where(AuditEntry.seq > first, AuditEntry.seq <= end)
        .order_by(AuditEntry.seq),
        execution_options={"yield_per": VERIFY_BATCH},
    )
    expected, checked, hash_at_head = first + 1, 0, prev_hash if first == head.last_seq else None

    def report(problem: ChainProblem | None) -> ChainReport:
        return ChainReport(checked, head.last_seq, head.last_hash, problem)

    try:
        for row in rows:
            entry = _Entry(*row)
            problem = _check(entry, key, expected, prev_hash)
            if problem is None and entry.seq in pinned and entry.hash != pinned[entry.seq].hash:
                problem = _rewritten(entry.seq, pinned[entry.seq], pins)
            if problem:
                return report(problem)
            checked += 1
            expected, prev_hash = entry.seq + 1, entry.hash
            if entry.seq == head.last_seq:
                hash_at_head = entry.hash
    finally:
        rows.close()
    if expected <= end:
        return report(_removed(expected, head, pinned))
    if head.last_seq < end:
        furthest = pinned[end]
        reason = (
            f"the head records entry {head.last_seq}, but {furthest.source} records entry "
            f"{end}: the head was moved back"
        )
        return report(ChainProblem(head.last_seq + 1, reason))
    if head.last_seq > 0 and hash_at_head != head.last_hash:
        reason = "altered: its hash differs from the one the head records"
        return report(ChainProblem(head.last_seq, reason))
    if not hmac.compare_digest(head_seal(seal_key, head.last_seq, head.last_hash), head.seal):
        reason = (
            "the head that ends the chain here was rewritten by someone without the secret "
            "key (its seal does not match): entries after it may have been removed"
        )
        return report(ChainProblem(head.last_seq, reason))
    return report(None)


def _removed_at(seq: int, head: Head) -> ChainProblem:
    return ChainProblem(seq, f"removed: entry {seq} is missing (the head records {head.last_seq})")


def _removed(expected: int, head: Head, pinned: Mapping[int, Pin]) -> ChainProblem:
    if expected <= head.last_seq:
        reason = (
            f"removed: the chain ends at entry {expected - 1}, the head records {head.last_seq}"
        )
        return ChainProblem(expected, reason)
    furthest = pinned[max(pinned)]
    reason = (
        f"removed: the chain ends at entry {expected - 1}, but {furthest.source} "
        f"records entry {furthest.seq} (the head was moved back to hide it)"
    )
    return ChainProblem(expected, reason)


def _rewritten(seq: int, pin: Pin, pins: Sequence[Pin]) -> ChainProblem:
    earlier = [p.seq for p in pins if p.seq < seq]
    after = max(earlier) if earlier else 0
    reason = (
        f"rewritten: its hash differs from the one signed in {pin.source}; an entry after "
        f"{after} up to {seq} was altered, removed or reordered and the chain recomputed "
        "with the secret key"
    )
    return ChainProblem(seq, reason)


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
