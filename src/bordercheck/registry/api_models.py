"""The bodies ``/records`` and ``/changes`` take and answer, as pydantic models for OpenAPI."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from bordercheck.api.types import UtcDatetime, Version
from bordercheck.documents.types import DocumentType, Status
from bordercheck.inputs import Input
from bordercheck.registry.models import Record
from bordercheck.registry.schemas import RECORD_FIELDS, RecordFields
from bordercheck.registry.search import MAX_PAGE

if TYPE_CHECKING:
    from bordercheck.registry.importer import ImportReport

BULK_LIMIT = 10_000
WITHDRAWAL_REASON_LENGTH = 200


class RecordOut(RecordFields):
    """A record: its fields, and what the registry keeps about it."""

    id: int
    version: int = Field(description="Send it back with a change; a stale one gets 409.")
    active: bool = Field(description="False once withdrawn: no longer screened.")
    withdrawal_reason: str | None = None
    withheld_from: list[str] = Field(
        default_factory=list, description="Querying countries the details are withheld from."
    )
    last_change: str
    review_due: date
    review_overdue: bool = Field(description="The owning bureau should review the record.")
    created_at: UtcDatetime
    created_by: str
    updated_at: UtcDatetime
    updated_by: str


def record_out(record: Record, today: date | None = None) -> RecordOut:
    today = today or date.today()
    data: dict[str, Any] = {name: getattr(record, name) for name in RECORD_FIELDS}
    return RecordOut.model_validate(
        {
            **data,
            "id": record.id,
            "version": record.version,
            "active": record.active,
            "withdrawal_reason": record.withdrawal_reason,
            "withheld_from": sorted((record.withheld_from or "").split()),
            "last_change": record.last_change,
            "review_due": record.review_due,
            "review_overdue": record.active and record.review_due < today,
            "created_at": record.created_at,
            "created_by": record.created_by,
            "updated_at": record.updated_at,
            "updated_by": record.updated_by,
        }
    )


class RecordChanges(Input):
    """``PATCH``: the version you read, and only the fields to change (``null`` clears one).

    The record's fields after the change are checked as a whole, like a new record's.
    """

    model_config = ConfigDict(extra="forbid")

    version: Version
    document_number: str | None = None
    issuing_country: str | None = None
    document_type: DocumentType | None = None
    status: Status | None = None
    blank: bool | None = None
    serial_end: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    event_date: date | None = None
    event_place: str | None = None
    event_country: str | None = None
    circumstances: str | None = None
    holder_surname: str | None = None
    holder_given_names: str | None = None
    holder_birth_date: date | None = None
    holder_nationality: str | None = None
    incident_ref: str | None = None


class Withdrawal(Input):
    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: str = Field(
        max_length=WITHDRAWAL_REASON_LENGTH, examples=["document recovered at the border"]
    )


class Withholding(Input):
    """The querying countries a record's details are withheld from; empty lifts it."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    countries: list[str] = Field(max_length=300, examples=[["RUS", "BLR"]])


class Review(Input):
    model_config = ConfigDict(extra="forbid")

    version: Version


class HistoryEntry(BaseModel):
    version: int
    kind: str = Field(description="created, updated, withdrawn or reviewed")
    at: UtcDatetime
    by: str
    data: dict[str, Any] = Field(description="The record's fields as they were at this version.")


class RecordHistory(BaseModel):
    record_id: int
    versions: list[HistoryEntry]


class BulkRequest(Input):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=BULK_LIMIT,
        description="Records, each with the fields of POST /records.",
    )
    skip_invalid: bool = Field(
        default=False, description="Write the valid items and report the others."
    )
    merge: bool = Field(
        default=False, description="An item for a recorded document updates its record."
    )


class BulkError(BaseModel):
    index: int = Field(description="The item's position in `records`, from 0.")
    field: str
    reason: str


class BulkReport(BaseModel):
    items: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[BulkError]

    @classmethod
    def of(cls, report: ImportReport) -> BulkReport:
        return cls(
            items=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=report.rejected_rows,
            errors=[
                BulkError(
                    index=e.line if e.line is not None else -1, field=e.field, reason=e.reason
                )
                for e in report.errors
            ],
        )


class RecordQuery(Input):
    """``GET /records``: what to list; every criterion left out matches everything."""

    model_config = ConfigDict(extra="forbid")

    document_number: str | None = Field(
        None, max_length=64, description="Exactly this number (spaces and dashes ignored)."
    )
    number_prefix: str | None = Field(
        None, max_length=64, description="Numbers that begin with this."
    )
    issuing_country: str | None = Field(None, max_length=64, description="This country's only.")
    status: Status | None = None
    document_type: DocumentType | None = None
    blank: bool | None = Field(None, description="Blank documents only, or issued ones only.")
    incident_ref: str | None = Field(None, max_length=100)
    event_from: date | None = Field(None, description="Stolen or lost on or after.")
    event_to: date | None = Field(None, description="Stolen or lost on or before.")
    created_from: date | None = Field(None, description="Recorded on or after.")
    created_to: date | None = Field(None, description="Recorded on or before.")
    review_due_by: date | None = Field(
        None, description="Review due on or before this day (today's date: the overdue ones)."
    )
    include_withdrawn: bool = Field(False, description="Withdrawn records too.")
    oldest_first: bool = Field(False, description="Oldest records first (newest by default).")
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        None, max_length=100, description="`next_cursor` of the previous page."
    )


class RecordsPage(BaseModel):
    """One page of a listing, newest first unless ``oldest_first``."""

    records: list[RecordOut]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the next page; null on the last one."
    )


class ChangeOut(BaseModel):
    """One entry of the changes feed: what screening needs to apply it, without a look-up."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    record_id: int
    version: int
    kind: str
    active: bool
    document_number: str
    serial_end: str | None
    issuing_country: str
    document_type: str
    status: str
    blank: bool
    restricted: bool = Field(description="The owner withholds the details from some countries.")
    changed_at: UtcDatetime


class ChangesPage(BaseModel):
    changes: list[ChangeOut]
    next_since: int = Field(description="Pass it as `since` to read on.")
    last_seq: int = Field(description="The newest entry of the feed when this page was read.")
