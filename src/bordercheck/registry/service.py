"""Records: create, change, withdraw, review, read. Helpers here never commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bordercheck.audit.service import record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.policy import withheld_codes
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.documents.numbers import split_serial
from bordercheck.errors import (
    Conflict,
    DuplicateRecord,
    FieldError,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from bordercheck.registry.feed import append_changes, change_row
from bordercheck.registry.models import ChangeKind, Record, RecordVersion
from bordercheck.registry.schemas import RECORD_FIELDS, RecordFields, field_errors
from bordercheck.timestamps import utcnow


def review_due(created: date, years: int) -> date:
    try:
        return created.replace(year=created.year + years)
    except ValueError:  # 29 February
        return created.replace(year=created.year + years, day=28)


def record_fields(record: Record) -> RecordFields:
    return RecordFields.model_validate({name: getattr(record, name) for name in RECORD_FIELDS})


def parse_fields(data: dict[str, Any]) -> RecordFields:
    try:
        return RecordFields.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from None


def get_record(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"there is no record {record_id}", record_id=record_id)
    return record


def find_active(session: Session, key: tuple[str, str, str]) -> Record | None:
    number, country, family = key
    return session.scalar(
        select(Record).where(
            Record.document_number == number,
            Record.issuing_country == country,
            Record.type_family == family,
            Record.active,
        )
    )


def find_records(session: Session, number: str, country: str | None = None) -> list[Record]:
    """Every record, withdrawn ones included, with this normalised number."""
    query = select(Record).where(Record.document_number == number)
    if country is not None:
        query = query.where(Record.issuing_country == country)
    return list(session.scalars(query.order_by(Record.id)))


def overlapping_range(session: Session, fields: RecordFields) -> Record | None:
    """An active range of the same country and family that shares a number with this one."""
    if fields.serial_end is None:
        return None
    prefix, start, width = split_serial(fields.document_number)
    _, end, _ = split_serial(fields.serial_end)
    candidates = session.scalars(
        select(Record).where(
            Record.issuing_country == fields.issuing_country,
            Record.type_family == fields.type_family.value,
            Record.serial_end.is_not(None),
            Record.active,
        )
    )
    for other in candidates:
        other_prefix, other_start, other_width = split_serial(other.document_number)
        _, other_end, _ = split_serial(other.serial_end or other.document_number)
        if (
            (other_prefix, other_width) == (prefix, width)
            and other_start <= end
            and start <= other_end
        ):
            return other
    return None


def create_record(
    session: Session,
    actor: Actor,
    fields: RecordFields,
    *,
    merge: bool = False,
    review_years: int = 10,
) -> Record:
    """Add a record. A duplicate is refused, or with ``merge`` becomes a new version of the old."""
    actor.ensure_may_write_records_of(fields.issuing_country)
    existing = find_active(session, fields.key) or overlapping_range(session, fields)
    if existing is not None:
        if not merge:
            raise DuplicateRecord(
                f"{fields.document_type.value} {fields.issuing_country} {fields.document_number} "
                f"is already recorded as record {existing.id}; update it or merge explicitly",
                record_id=existing.id,
            )
        return update_record(session, actor, existing.id, existing.version, fields.model_dump())
    bureau = auth_service.bureau_for_country(session, fields.issuing_country)
    now = utcnow()
    record = Record(
        **fields.as_row(),
        bureau_id=bureau.id,
        last_change=ChangeKind.CREATED.value,
        review_due=review_due(now.date(), review_years),
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        updated_by=actor.name,
    )
    session.add(record)
    _flush(session, fields)
    append_changes(session, [change_row(record, ChangeKind.CREATED, now)])
    _audit(session, actor, record, "record.created")
    return record


def update_record(
    session: Session,
    actor: Actor,
    record_id: int,
    version: int,
    changes: dict[str, Any],
    *,
    audited: bool = True,
) -> Record:
    """Apply ``changes`` to the record at ``version``; a stale version is refused (409).

    An import passes ``audited=False``: it writes one audit entry for the whole file.
    """
    record = _current(session, actor, record_id, version)
    _ensure_active(record)
    merged = {**record_fields(record).model_dump(), **changes}
    fields = parse_fields(merged)
    if fields.key != record_fields(record).key:
        clash = find_active(session, fields.key)
        if clash is not None and clash.id != record.id:
            raise DuplicateRecord(
                f"record {clash.id} already holds {' '.join(fields.key)}", record_id=clash.id
            )
    actor.ensure_may_write_records_of(fields.issuing_country)
    before = record_fields(record)
    if fields == before:
        return record
    # Names of the fields changed, not their values: the trail is kept for good, and
    # holder details do not belong in it.
    changed = sorted(
        name for name in RECORD_FIELDS if getattr(fields, name) != getattr(before, name)
    )
    record = _new_version(session, actor, record, ChangeKind.UPDATED, fields.as_row())
    if audited:
        _audit(session, actor, record, "record.updated", fields=changed)
    return record


def withdraw_record(
    session: Session, actor: Actor, record_id: int, version: int, reason: str
) -> Record:
    """Take a record out of screening (document recovered, reported in error); history stays."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            errors=[FieldError(field="reason", reason="say why the record is withdrawn")]
        )
    record = _current(session, actor, record_id, version)
    _ensure_active(record)
    record = _new_version(
        session,
        actor,
        record,
        ChangeKind.WITHDRAWN,
        {"withdrawn_key": record.id, "withdrawal_reason": reason},
    )
    _audit(session, actor, record, "record.withdrawn", reason=reason)
    return record


def mark_reviewed(
    session: Session,
    actor: Actor,
    record_id: int,
    version: int,
    *,
    review_years: int = 10,
    today: date | None = None,
) -> Record:
    """The owner confirms the record is still valid: its review date moves on."""
    record = _current(session, actor, record_id, version)
    _ensure_active(record)
    due = review_due(today or utcnow().date(), review_years)
    record = _new_version(session, actor, record, ChangeKind.REVIEWED, {"review_due": due})
    _audit(session, actor, record, "record.reviewed", review_due=due)
    return record


def withhold(
    session: Session, actor: Actor, record_id: int, version: int, countries: list[str]
) -> Record:
    """Withhold the record's details from these querying countries (an empty list lifts it).

    Screening from one of them still learns that the document is recorded, and whom to
    contact, but not the record's details.
    """
    errors, codes = [], set()
    for index, code in enumerate(countries):
        try:
            codes.add(normalise_country(code))
        except InvalidCountry as exc:
            errors.append(FieldError(field=f"countries.{index}", reason=str(exc)))
    if errors:
        raise ValidationFailed(errors=errors)
    record = _current(session, actor, record_id, version)
    _ensure_active(record)
    value = " ".join(sorted(codes)) or None
    if value == record.withheld_from:
        return record
    record = _new_version(session, actor, record, ChangeKind.UPDATED, {"withheld_from": value})
    _audit(session, actor, record, "record.withheld", withheld_from=sorted(codes))
    return record


def withheld_from(record: Record) -> frozenset[str]:
    return withheld_codes(record.withheld_from)


def history(session: Session, record_id: int) -> list[dict[str, Any]]:
    """Every version of a record, oldest first: what it said, who made it, when, and how."""
    record = get_record(session, record_id)
    versions = session.scalars(
        select(RecordVersion)
        .where(RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version)
    )
    entries = [
        {
            "version": v.version,
            "kind": v.kind,
            "at": v.changed_at,
            "by": v.changed_by,
            "data": v.data,
        }
        for v in versions
    ]
    entries.append(
        {
            "version": record.version,
            "kind": record.last_change,
            "at": record.updated_at,
            "by": record.updated_by,
            "data": snapshot(record),
        }
    )
    return entries


def overdue(session: Session, today: date, limit: int = 1000) -> list[Record]:
    """Active records whose review date has passed: their owners should review them."""
    return list(
        session.scalars(
            select(Record)
            .where(Record.active, Record.review_due < today)
            .order_by(Record.review_due, Record.id)
            .limit(limit)
        )
    )


def snapshot(record: Record) -> dict[str, Any]:
    """A record's state as JSON-ready data, for its history."""
    data: dict[str, Any] = record_fields(record).model_dump(mode="json")
    data["active"] = record.active
    data["withdrawal_reason"] = record.withdrawal_reason
    data["withheld_from"] = sorted(withheld_from(record))
    data["review_due"] = record.review_due.isoformat()
    return data


def _current(session: Session, actor: Actor, record_id: int, version: int) -> Record:
    record = get_record(session, record_id)
    actor.ensure_may_write_records_of(record.issuing_country)
    if record.version != version:
        raise StaleVersion(
            f"record {record_id} is at version {record.version}, not {version}: "
            "someone changed it since you read it; read it again and re-apply your change",
            record_id=record_id,
            current_version=record.version,
        )
    return record


def _ensure_active(record: Record) -> None:
    if not record.active:
        raise Conflict(
            f"record {record.id} is withdrawn; report the document again to screen it",
            record_id=record.id,
        )


def _new_version(
    session: Session, actor: Actor, record: Record, kind: ChangeKind, values: dict[str, Any]
) -> Record:
    session.add(
        RecordVersion(
            record_id=record.id,
            version=record.version,
            kind=record.last_change,
            data=snapshot(record),
            changed_at=record.updated_at,
            changed_by=record.updated_by,
        )
    )
    now = utcnow()
    for name, value in values.items():
        setattr(record, name, value)
    record.last_change = kind.value
    record.updated_at = now
    record.updated_by = actor.name
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(
            f"record {record.id} was changed by someone else while you changed it; read it again",
            record_id=record.id,
        ) from None
    append_changes(session, [change_row(record, kind, now)])
    return record


def _audit(session: Session, actor: Actor, record: Record, action: str, **details: Any) -> None:
    """The change in the audit trail, under the owning bureau so that it can search it."""
    record_event(
        session,
        actor=actor.name,
        bureau_code=record.issuing_country,
        action=action,
        subject=f"record:{record.id}",
        details={
            "document_number": record.document_number,
            "document_type": record.document_type,
            "version": record.version,
            **details,
        },
    )


def _flush(session: Session, fields: RecordFields) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateRecord(
            f"{' '.join(fields.key)} was recorded by someone else at the same moment"
        ) from None
