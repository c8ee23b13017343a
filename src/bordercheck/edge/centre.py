"""The centre's side of syncing: a kit's snapshot and its change bundles, from the registry.

A snapshot holds every active record at one feed sequence number, as rows under the kit's
own keys, sorted; a bundle takes a kit from sequence A to B: for each record changed in
(A, B], the row(s) it had at A are removed and the row(s) it has at B are added. Both are
computed from the feed (gap-free, append-only), so they follow on exactly.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bordercheck.auth.policy import details_withheld, withheld_codes
from bordercheck.db import Database
from bordercheck.edge import signed
from bordercheck.edge.models import EdgeKit
from bordercheck.edge.rows import (
    MAX_RANGE_MEMBERS,
    ROW,
    KitEntry,
    KitKeys,
    Rows,
    build_rows,
    chunked,
    coarse_bits,
    coarse_table,
    range_members,
    range_size,
    sort_rows,
    withheld_entry,
)
from bordercheck.edge.signing import EdgeKeys
from bordercheck.errors import Conflict
from bordercheck.registry import feed
from bordercheck.registry.models import Change, Record
from bordercheck.screening.keys import HASHES
from bordercheck.screening.query import normalised_number
from bordercheck.settings import Settings

_BATCH = 1 << 20


@dataclass
class Expansion:
    """Counts what could not go into a kit (ranges too wide to expand)."""

    ranges_left_out: int = 0


def entries_of(
    number: str,
    serial_end: str | None,
    country: str,
    document_type: str,
    status: str,
    blank: bool,
    withheld: bool,
    created_at: datetime | date,
    expansion: Expansion,
) -> list[KitEntry]:
    """A record's rows in a kit; ``withheld``: its details are withheld from the kit's country,
    whose rows then say "restricted" and nothing else the kit could open."""
    reported = created_at.date() if isinstance(created_at, datetime) else created_at
    number = normalised_number(number)
    common = (country, document_type, status, bool(blank), False, reported)
    if serial_end is None:
        entries = [KitEntry(number, *common)]
    else:
        end = normalised_number(serial_end)
        if range_size(number, end) > MAX_RANGE_MEMBERS:
            expansion.ranges_left_out += 1
            return []
        entries = [KitEntry(member, *common, True) for member in range_members(number, end)]
    return [withheld_entry(e) for e in entries] if withheld else entries


def withheld_for(bureau: str, country: str, withheld_from: str | None) -> bool:
    """Whether a kit of ``bureau`` may not open a record's details (see ``auth.policy``)."""
    return details_withheld(bureau, country, withheld_codes(withheld_from))


def registry_entries(session: Session, bureau: str, expansion: Expansion) -> Iterator[KitEntry]:
    """Every active record, as it stands in the session's transaction, for a kit of ``bureau``."""
    query = (
        select(
            Record.document_number, Record.serial_end, Record.issuing_country,
            Record.document_type, Record.status, Record.blank, Record.withheld_from,
            Record.created_at,
        )
        .where(Record.active)
        .execution_options(yield_per=50_000)
    )  # fmt: skip
    for n, end, country, kind, status, blank, withheld, created in session.execute(query):
        yield from entries_of(n, end, country, kind, status, blank,
                              withheld_for(bureau, country, withheld), created,
                              expansion)  # fmt: skip


def snapshot_rows(entries: Iterator[KitEntry], keys: KitKeys) -> tuple[Rows, NDArray[np.uint8]]:
    """The rows, sorted, and the coarse filter over them."""
    parts = [build_rows(batch, keys) for batch in chunked(entries, _BATCH)]
    rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, ROW)
    coarse = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.uint64)
    return sort_rows(rows), coarse_table(coarse, coarse_bits(len(rows)), keys.scheme)


def cache_directory(settings: Settings) -> Path:
    path = (
        settings.edge_cache_dir or Path(tempfile.gettempdir()) / f"bordercheck-edge-{os.getuid()}"
    )
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class IssuedSnapshot:
    path: Path
    sequence: int
    size: int
    built: bool


def snapshot_file(
    database: Database, kit: EdgeKit, secret: bytes, keys: EdgeKeys, directory: Path
) -> IssuedSnapshot:
    """The kit's snapshot at the feed's current end: built once, then served from the file."""
    with database.session() as session:
        if not database.is_sqlite:
            # The records and the sequence number must come from one state of the database.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        sequence = feed.last_sequence(session)
        epoch = f"-e{kit.feed_epoch}" if kit.feed_epoch else ""
        path = directory / f"{kit.kit_id}-{sequence}{epoch}-h{HASHES}.snap"
        if path.exists():
            return IssuedSnapshot(path, sequence, path.stat().st_size, False)
        expansion = Expansion()
        entries = registry_entries(session, kit.bureau_code, expansion)
        rows, coarse = snapshot_rows(entries, KitKeys(secret))
    header = {
        "kind": "snapshot", "kit_id": kit.kit_id, "sequence": sequence, "rows": len(rows),
        "coarse_bytes": len(coarse), "hashes": HASHES,
        "issued_at": datetime.now(UTC).isoformat(), "ranges_left_out": expansion.ranges_left_out,
    }  # fmt: skip
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")  # requests may race
    signed.write(temporary, keys, header, [rows.tobytes(), coarse.tobytes()])
    os.replace(temporary, path)
    for old in directory.glob(f"{kit.kit_id}-*.snap"):
        if old != path:
            old.unlink(missing_ok=True)
    return IssuedSnapshot(path, sequence, path.stat().st_size, True)


def _states(
    session: Session, seqs: Select[Any], bureau: str, expansion: Expansion
) -> dict[int, list[KitEntry]]:
    query = (
        select(
            Change.record_id, Change.active, Change.document_number, Change.serial_end,
            Change.issuing_country, Change.document_type, Change.status, Change.blank,
            Change.withheld_from, Record.created_at,
        )
        .join(Record, Record.id == Change.record_id)
        .where(Change.seq.in_(seqs))
    )  # fmt: skip
    states: dict[int, list[KitEntry]] = {}
    for rid, active, n, end, country, kind, status, blank, withheld, created in session.execute(
        query
    ):
        states[rid] = (
            entries_of(n, end, country, kind, status, blank,
                       withheld_for(bureau, country, withheld), created, expansion)
            if active
            else []
        )  # fmt: skip
    return states


def bundle(
    session: Session, kit: EdgeKit, secret: bytes, keys: EdgeKeys, since: int, limit: int
) -> bytes:
    """A signed bundle from ``since`` to at most ``limit`` feed entries further."""
    if kit.needs_snapshot:
        raise Conflict(
            "the centre was restored from a backup since this kit's last snapshot, and its feed "
            "may have numbered other changes as the kit's: run `bordercheck edge sync --snapshot`"
        )
    last = feed.last_sequence(session)
    if since > last:
        raise Conflict(
            f"the kit is at sequence {since} but the centre's feed ends at {last}: "
            "run `bordercheck edge sync --snapshot`"
        )
    until = min(last, since + limit)
    # Every entry up to ``last`` was committed when ``last`` was read (the counter row is
    # locked until its writer commits), so the reads below see all of (since, until].
    touched = select(Change.record_id).where(Change.seq > since, Change.seq <= until)
    before = (
        select(func.max(Change.seq))
        .where(Change.seq <= since, Change.record_id.in_(touched))
        .group_by(Change.record_id)
    )
    after = (
        select(func.max(Change.seq))
        .where(Change.seq > since, Change.seq <= until)
        .group_by(Change.record_id)
    )
    expansion = Expansion()
    old = _states(session, before, kit.bureau_code, expansion)
    new = _states(session, after, kit.bureau_code, expansion)
    removes: list[KitEntry] = []
    adds: list[KitEntry] = []
    for record_id in new.keys() | old.keys():
        was, now = old.get(record_id, []), new.get(record_id, [])
        if was != now:  # a review, say, changes nothing a kit holds
            removes += was
            adds += now
    kit_keys = KitKeys(secret)
    header = {
        "kind": "bundle", "kit_id": kit.kit_id, "from_sequence": since, "sequence": until,
        "latest_sequence": last, "issued_at": datetime.now(UTC).isoformat(),
        "removes": len(removes), "adds": len(adds), "hashes": HASHES,
        "ranges_left_out": expansion.ranges_left_out,
    }  # fmt: skip
    added, coarse = build_rows(adds, kit_keys)
    parts: Sequence[bytes] = (
        build_rows(removes, kit_keys)[0].tobytes(),
        added.tobytes(),
        coarse.tobytes(),
    )
    return signed.pack(keys, header, parts)
