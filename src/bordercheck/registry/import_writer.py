"""The database side of an import: rows already recorded, merges, and batches of new records.

Rows arrive checked on their own (``import_rows.FileChecks``). Here they meet the database in
batches inside the caller's one transaction. Once a row fails (and bad rows are not being
skipped) nothing more is written, but the remaining rows are still looked up so that the
report lists every problem; the caller then rolls back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.db import bulk_page_cache
from bordercheck.documents.numbers import split_serial
from bordercheck.errors import BordercheckError, FieldError
from bordercheck.registry import service
from bordercheck.registry.bulk import allocate_ids, insert_tuples, stored_values
from bordercheck.registry.feed import append_record_changes
from bordercheck.registry.import_rows import (
    COUNTRY,
    FAMILY,
    NEW_RECORD_COLUMNS,
    NUMBER,
    ROW_COLUMNS,
    SERIAL_END,
    VALUE_BLANK,
    VALUE_COLUMNS,
    VALUE_DATES,
    VALUES,
    Key,
    Row,
    Values,
    row_key,
    values_fields,
    values_from_fields,
    values_key,
)
from bordercheck.registry.models import ChangeKind, Record, records_table
from bordercheck.registry.schemas import RecordFields
from bordercheck.timestamps import utcnow


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[FieldError] = field(default_factory=list)
    rejected_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRejected(BordercheckError):
    """The file had invalid rows and nothing was written."""

    status_code = 422
    code = "import_rejected"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.rejected_rows:,} of {report.rows:,} rows are invalid; nothing was imported"
        )
        self.report = report


Rejected = Callable[[int, dict[str, Any], list[FieldError]], None]

# Only placeholders are formatted into {where}; the numbers are bound.
_LOOKUP = (
    f"SELECT {', '.join(VALUE_COLUMNS)}, id, version FROM records "  # noqa: S608
    "WHERE withdrawn_key = 0 AND {where}"
)


# An active record: its id, version and values (VALUE_COLUMNS) as the driver gave them.
_Stored = tuple[int, int, Values]


class RecordWriter:
    """Takes checked rows in file order and writes them in batches of ``batch_size``."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        *,
        skip_invalid: bool = False,
        merge: bool = False,
        batch_size: int = 5000,
        review_years: int = 10,
        on_rejected: Rejected | None = None,
    ) -> None:
        self.session = session
        bulk_page_cache(session)
        self.actor = actor
        self.skip_invalid = skip_invalid
        self.merge = merge
        self.batch_size = batch_size
        self.on_rejected = on_rejected
        self.report = ImportReport()
        self.bureaus = auth_service.bureau_ids_by_country(session)
        # One moment for the whole import, which is one transaction.
        self.now = utcnow()
        self.new_record = new_record_values(session, actor, self.now, review_years)
        # Lines refused whose raw row was not at hand: on_rejected gets them later.
        self.unreported: list[int] = []
        self._pending: list[Row] = []
        self._raws: list[dict[str, Any] | None] = []
        self._ranges: dict[tuple[str, str], list[tuple[str, int, int, int, int]]] = {}
        self._postgres = session.connection().dialect.name == "postgresql"
        # Whether records not written by this import are active: unknown (None) until the
        # first insert, then known for good (see _insert).
        self._others: bool | None = None

    @property
    def writing(self) -> bool:
        return self.skip_invalid or self.report.ok

    def add(self, row: Row, raw: dict[str, Any] | None = None) -> None:
        self.report.rows += 1
        self._pending.append(row)
        self._raws.append(raw)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def add_rows(self, rows: list[Row]) -> None:
        """``add`` for many rows whose raw rows are not at hand; batches fill up alike."""
        self.report.rows += len(rows)
        self._pending += rows
        self._raws += [None] * len(rows)
        while len(self._pending) >= self.batch_size:
            self.flush(self.batch_size)

    def reject(self, line: int, raw: dict[str, Any] | None, errors: list[FieldError]) -> None:
        self.report.rows += 1
        self._refuse(line, raw, errors)

    def finish(self) -> ImportReport:
        """Write what is left; raise ImportRejected (caller rolls back) if any row failed."""
        self.flush()
        if not self.report.ok and not self.skip_invalid:
            raise ImportRejected(self.report)
        report = self.report
        # One entry for the whole import, never one per row: an import may hold millions.
        record_event(
            self.session,
            actor=self.actor.name,
            bureau_code=self.actor.bureau_code,
            action="records.imported",
            subject="records",
            details={
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected_rows,
            },
        )
        return report

    def flush(self, count: int | None = None) -> None:
        """Look up and write the first ``count`` pending rows (all by default)."""
        count = len(self._pending) if count is None else count
        rows, raws = self._pending[:count], self._raws[:count]
        del self._pending[:count], self._raws[:count]
        if not rows:
            return
        alone = self._others is False
        existing = {} if alone else self._existing(rows)
        if existing or (not alone and any(row[SERIAL_END] is not None for row in rows)):
            fresh = self._sort_out(rows, raws, existing)
        else:
            fresh = rows  # the usual case of new records: nothing recorded to compare with
        if self.writing and fresh:
            self._insert(fresh)
        self.report.created += len(fresh)

    def _sort_out(
        self, rows: list[Row], raws: list[dict[str, Any] | None], existing: dict[Key, _Stored]
    ) -> list[Row]:
        """The rows to create; the others are counted, merged or refused here."""
        fresh = []
        for row, raw in zip(rows, raws, strict=True):
            stored = existing.get(row_key(row))
            if stored is None:
                overlap = self._overlapping_range(row) if row[SERIAL_END] is not None else None
                if overlap is None:
                    fresh.append(row)
                else:
                    self._duplicate(row, raw, overlap, "overlaps range")
                continue
            record_id, version, values = stored
            if _same(values, tuple(row[VALUES])):
                self.report.unchanged += 1
            elif self.merge:
                if self.writing:
                    changes = values_fields(tuple(row[VALUES]))
                    service.update_record(
                        self.session, self.actor, record_id, version, changes, audited=False
                    )
                    # The range may have moved: read the group's ranges again when needed.
                    self._ranges.pop((row[COUNTRY], row[FAMILY]), None)
                self.report.updated += 1
            else:
                self._duplicate(row, raw, record_id, "is already recorded differently as")
        return fresh

    def _refuse(self, line: int, raw: dict[str, Any] | None, errors: list[FieldError]) -> None:
        self.report.errors.extend(errors)
        self.report.rejected_rows += 1
        if self.on_rejected is None:
            return
        if raw is None:
            self.unreported.append(line)
        else:
            self.on_rejected(line, raw, errors)

    def _duplicate(self, row: Row, raw: dict[str, Any] | None, record_id: int, what: str) -> None:
        line = row[0]
        reason = f"{what} record {record_id}; use --merge to update it from this file"
        self._refuse(line, raw, [FieldError(field="document_number", reason=reason, line=line)])

    def _existing(self, rows: list[Row]) -> dict[Key, _Stored]:
        """The active records with the same keys as ``rows``."""
        # By number alone (indexed), then exact keys: a row-value IN over thousands of keys
        # makes PostgreSQL scan the table. Through the driver: plain tuples, fetched at once.
        numbers = [row[NUMBER] for row in rows]
        driver = _driver(self.session)
        found: list[tuple[Any, ...]] = []
        if self._postgres:
            # One text parameter: psycopg sends a list of thousands of strings slowly.
            # Normalised numbers hold only A-Z and 0-9, so a comma separates them safely.
            where = "document_number = ANY(string_to_array(%s, ','))"
            with driver.cursor() as cursor:
                cursor.execute(_LOOKUP.format(where=where), (",".join(numbers),))
                found += cursor.fetchall()
        else:
            step = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            for start in range(0, len(numbers), step):
                chunk = numbers[start : start + step]
                where = f"document_number IN ({', '.join('?' * len(chunk))})"
                found += driver.execute(_LOOKUP.format(where=where), chunk).fetchall()
        if not found:
            return {}
        keys = {row_key(row) for row in rows}
        width = len(VALUE_COLUMNS)
        result = {}
        for record in found:
            key = values_key(record)
            if key in keys:
                result[key] = (record[width], record[width + 1], record[:width])
        return result

    def _overlapping_range(self, row: Row) -> int | None:
        """An active range of the same country and family sharing a number with the row's."""
        group = (row[COUNTRY], row[FAMILY])
        ranges = self._ranges.get(group)
        if ranges is None:
            ranges = self._ranges[group] = self._load_ranges(*group)
        prefix, start, width = split_serial(row[NUMBER])
        end = split_serial(row[SERIAL_END])[1]
        for other_prefix, other_start, other_end, other_width, record_id in ranges:
            if (other_prefix, other_width) == (prefix, width) and (
                other_start <= end and start <= other_end
            ):
                return record_id
        return None

    def _load_ranges(self, country: str, family: str) -> list[tuple[str, int, int, int, int]]:
        # Ranges this import writes later need not be added: FileChecks has already refused
        # any row of the file that overlaps another.
        found = self.session.execute(
            select(Record.id, Record.document_number, Record.serial_end)
            .where(
                Record.issuing_country == country,
                Record.type_family == family,
                Record.serial_end.is_not(None),
                Record.active,
            )
            .order_by(Record.id)
        )
        ranges = []
        for record_id, first, last in found:
            prefix, start, width = split_serial(first)
            ranges.append((prefix, start, split_serial(last or first)[1], width, record_id))
        return ranges

    def _insert(self, rows: list[Row]) -> None:
        ids = allocate_ids(self.session, records_table, len(rows))
        for record_id, row in zip(ids, rows, strict=True):
            row[0] = record_id
        insert_tuples(self.session, records_table, ROW_COLUMNS, rows)
        append_record_changes(self.session, ids, ChangeKind.CREATED, self.now)
        if self._others is None:
            # Appending to the feed has locked its counter row until this transaction ends
            # (see FeedCounter), and every change to a record appends to the feed: no one
            # else can commit a record now (on SQLite, no one else can write at all). If no
            # record but ours is active, none will be, and as FileChecks keeps this file's
            # rows from clashing with each other, later look-ups could only come back empty.
            self._others = self._any_other_active(ids)

    def _any_other_active(self, ours: list[int]) -> bool:
        if ours[-1] - ours[0] + 1 == len(ours):
            others = ~Record.id.between(ours[0], ours[-1])
        else:
            others = Record.id.not_in(ours)
        found = self.session.execute(select(Record.id).where(Record.active, others).limit(1))
        return found.first() is not None


def new_record_values(session: Session, actor: Actor, now: datetime, review_years: int) -> Values:
    """The NEW_RECORD_COLUMNS of a record created now, as the database driver takes them."""
    values = {
        "withdrawn_key": 0,
        "version": 1,
        "last_change": ChangeKind.CREATED.value,
        "review_due": service.review_due(now.date(), review_years),
        "created_at": now,
        "created_by": actor.name,
        "updated_at": now,
        "updated_by": actor.name,
    }
    stored = stored_values(session, records_table, values)
    return tuple(stored[name] for name in NEW_RECORD_COLUMNS)


def _canonical(values: Values) -> Values:
    """A record's values as a driver returns them, in the form of a file's row."""
    canonical = list(values)
    canonical[VALUE_BLANK] = bool(canonical[VALUE_BLANK])
    for index in VALUE_DATES:
        value = canonical[index]
        if isinstance(value, date):
            canonical[index] = value.isoformat()
    return tuple(canonical)


def _same(stored: Values, values: Values) -> bool:
    """Whether the record already says what the row says."""
    # As SQLite returns them the values compare equal as they are (0 == False, dates are
    # text); PostgreSQL's dates need turning into text first.
    if stored == values:
        return True
    stored = _canonical(stored)
    if stored == values:
        return True
    # Values not written through RecordFields may differ only in form: let it judge.
    try:
        fields = RecordFields.model_validate(values_fields(stored))
    except ValidationError:
        return False
    return values_from_fields(fields) == values


def _driver(session: Session) -> Any:
    """The DB-API connection under the session's, in the same transaction."""
    return session.connection().connection.driver_connection
