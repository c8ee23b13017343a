"""Importing records in bulk: every row checked, all or nothing unless told to skip bad rows.

Rows are validated and written in batches inside the caller's one transaction. Once a row
fails (and bad rows are not being skipped) nothing more is written, but every remaining
row is still checked so that the report lists them all; the caller then rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.documents.numbers import split_serial
from bordercheck.errors import BordercheckError, FieldError
from bordercheck.registry import service
from bordercheck.registry.bulk import allocate_ids, insert_rows
from bordercheck.registry.feed import append_changes, change_row
from bordercheck.registry.models import ChangeKind, Record, records_table
from bordercheck.registry.schemas import RECORD_FIELDS, RecordFields, field_errors

Key = tuple[str, str, str]


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


@dataclass
class _Row:
    line: int
    raw: dict[str, Any]
    fields: RecordFields


Rejected = Callable[[int, dict[str, Any], list[FieldError]], None]


class Importer:
    """One import: feed it rows, then ``finish``. Keeps per-file state (duplicates, ranges)."""

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
        self.actor = actor
        self.skip_invalid = skip_invalid
        self.merge = merge
        self.batch_size = batch_size
        self.review_years = review_years
        self.on_rejected = on_rejected
        self.report = ImportReport()
        self._bureaus = auth_service.bureau_ids_by_country(session)
        self._seen: dict[Key, int] = {}
        self._ranges: dict[tuple[str, str, str, int], list[tuple[int, int, int]]] = {}
        self._batch: list[_Row] = []

    @property
    def writing(self) -> bool:
        return self.skip_invalid or self.report.ok

    def add_rows(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        for line, raw in rows:
            self.add(line, raw)

    def add(self, line: int, raw: dict[str, Any]) -> None:
        self.report.rows += 1
        fields, errors = self._check(line, raw)
        if fields is None:
            self._reject(line, raw, errors)
            return
        self._batch.append(_Row(line, raw, fields))
        if len(self._batch) >= self.batch_size:
            self._flush()

    def finish(self) -> ImportReport:
        """Write what is left; raise ImportRejected (caller rolls back) if any row failed."""
        self._flush()
        if not self.report.ok and not self.skip_invalid:
            raise ImportRejected(self.report)
        return self.report

    def _reject(self, line: int, raw: dict[str, Any], errors: list[FieldError]) -> None:
        self.report.errors.extend(errors)
        self.report.rejected_rows += 1
        if self.on_rejected is not None:
            self.on_rejected(line, raw, errors)

    def _check(
        self, line: int, raw: dict[str, Any]
    ) -> tuple[RecordFields | None, list[FieldError]]:
        if "__error__" in raw:
            return None, [FieldError(field="row", reason=str(raw["__error__"]), line=line)]
        try:
            fields = RecordFields.model_validate(raw)
        except ValidationError as exc:
            return None, field_errors(exc, line)
        country = fields.issuing_country
        try:
            self.actor.ensure_may_write_records_of(country)
        except BordercheckError as exc:
            return None, [FieldError(field="issuing_country", reason=exc.message, line=line)]
        if country not in self._bureaus:
            reason = (
                f"there is no bureau for {country}; add it with `bordercheck bureaus add {country}`"
            )
            return None, [FieldError(field="issuing_country", reason=reason, line=line)]
        first = self._seen.setdefault(fields.key, line)
        if first != line:
            reason = f"the same document as line {first} (number, country and type family)"
            return None, [FieldError(field="document_number", reason=reason, line=line)]
        clash = self._range_clash(fields, line)
        if clash is not None:
            reason = f"this range overlaps the range on line {clash}"
            return None, [FieldError(field="serial_end", reason=reason, line=line)]
        return fields, []

    def _range_clash(self, fields: RecordFields, line: int) -> int | None:
        if fields.serial_end is None:
            return None
        prefix, start, width = split_serial(fields.document_number)
        end = split_serial(fields.serial_end)[1]
        group = (fields.issuing_country, fields.type_family.value, prefix, width)
        ranges = self._ranges.setdefault(group, [])
        for other_start, other_end, other_line in ranges:
            if other_start <= end and start <= other_end:
                return other_line
        ranges.append((start, end, line))
        return None

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        existing = self._existing({row.fields.key for row in batch})
        fresh: list[_Row] = []
        for row in batch:
            record = existing.get(row.fields.key)
            if record is None and row.fields.serial_end is not None:
                record = service.overlapping_range(self.session, row.fields)
                if record is not None:
                    self._duplicate(row, record, "overlaps range")
                    continue
            if record is None:
                fresh.append(row)
            elif service.record_fields(record) == row.fields:
                self.report.unchanged += 1
            elif self.merge:
                if self.writing:
                    service.update_record(
                        self.session, self.actor, record.id, record.version, row.fields.model_dump()
                    )
                self.report.updated += 1
            else:
                self._duplicate(row, record, "is already recorded differently as")
        if self.writing and fresh:
            self._insert(fresh)
        self.report.created += len(fresh)

    def _duplicate(self, row: _Row, record: Record, what: str) -> None:
        reason = f"{what} record {record.id}; use --merge to update it from this file"
        self._reject(
            row.line, row.raw, [FieldError(field="document_number", reason=reason, line=row.line)]
        )

    def _existing(self, keys: set[Key]) -> dict[Key, Record]:
        # Look up by number alone (indexed), then keep exact key matches: a row-value IN
        # over thousands of keys makes PostgreSQL scan the table.
        numbers = {number for number, _, _ in keys}
        found = self.session.scalars(
            select(Record).where(Record.document_number.in_(numbers), Record.active)
        )
        by_key = {(r.document_number, r.issuing_country, r.type_family): r for r in found}
        return {key: record for key, record in by_key.items() if key in keys}

    def _insert(self, rows: list[_Row]) -> None:
        now = service.utcnow()
        due = service.review_due(now.date(), self.review_years)
        ids = allocate_ids(self.session, records_table, len(rows))
        values = [
            self._values(record_id, row.fields, now, due)
            for record_id, row in zip(ids, rows, strict=True)
        ]
        insert_rows(self.session, records_table, values)
        append_changes(self.session, [change_row(v, ChangeKind.CREATED, now) for v in values])

    def _values(
        self, record_id: int, fields: RecordFields, now: datetime, due: date
    ) -> dict[str, Any]:
        row = fields.as_row()
        row.update(
            id=record_id,
            bureau_id=self._bureaus[fields.issuing_country],
            withdrawn_key=0,
            version=1,
            last_change=ChangeKind.CREATED.value,
            review_due=due,
            created_at=now,
            created_by=self.actor.name,
            updated_at=now,
            updated_by=self.actor.name,
        )
        return row


def export_rows(session: Session, *, include_withdrawn: bool = False) -> Iterable[dict[str, Any]]:
    """Every record's fields, in id order, streamed in chunks (memory stays flat)."""
    columns = [getattr(Record, name) for name in RECORD_FIELDS]
    query = select(*columns).order_by(Record.id)
    if not include_withdrawn:
        query = query.where(Record.active)
    for row in session.execute(query.execution_options(yield_per=10_000)):
        yield dict(zip(RECORD_FIELDS, row, strict=True))
