"""Tables of the registry: records, their superseded versions, and the changes feed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"
    REVIEWED = "reviewed"


class Record(Base):
    """One reported document, or one serial range of blank documents (``serial_end`` set)."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign keys on the bulk-written columns (here and in ``changes``): bureaus and
    # records are never deleted, every write path takes the id from the table it names, and
    # on PostgreSQL the checks cost a third of an import's time (54,000 against 34,000 rows/s).
    bureau_id: Mapped[int] = mapped_column(Integer)
    document_number: Mapped[str] = mapped_column(String(24))
    issuing_country: Mapped[str] = mapped_column(String(3))
    document_type: Mapped[str] = mapped_column(String(32))
    type_family: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    blank: Mapped[bool] = mapped_column(Boolean, default=False)
    serial_end: Mapped[str | None] = mapped_column(String(24))
    issue_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    event_date: Mapped[date | None] = mapped_column(Date)
    event_place: Mapped[str | None] = mapped_column(String(200))
    event_country: Mapped[str | None] = mapped_column(String(3))
    circumstances: Mapped[str | None] = mapped_column(Text)
    holder_surname: Mapped[str | None] = mapped_column(String(200))
    holder_given_names: Mapped[str | None] = mapped_column(String(200))
    holder_birth_date: Mapped[date | None] = mapped_column(Date)
    holder_nationality: Mapped[str | None] = mapped_column(String(3))
    incident_ref: Mapped[str | None] = mapped_column(String(100))
    # 0 while the record is active; its own id once withdrawn. One unique index on
    # (number, country, family, withdrawn_key) then allows one active record per document,
    # keeps every withdrawn one, and serves look-ups by number: one index instead of two.
    withdrawn_key: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawal_reason: Mapped[str | None] = mapped_column(String(200))
    # Querying countries the owner withholds this record's details from (space-separated
    # codes): screening from there answers only "possible hit, contact the owning bureau".
    withheld_from: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    last_change: Mapped[str] = mapped_column(String(16))
    review_due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))

    # SQLAlchemy adds ``WHERE version = :old`` to every UPDATE, so two officers who read
    # the same version cannot both write: the second UPDATE matches no row.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @hybrid_property
    def active(self) -> bool:
        """Screened and counted; a withdrawn record is kept only for its history."""
        return self.withdrawn_key == 0

    __table_args__ = (
        Index(
            "uq_records_document",
            "document_number",
            "issuing_country",
            "type_family",
            "withdrawn_key",
            unique=True,
        ),
        Index("ix_records_review_due", "review_due"),
    )


class RecordVersion(Base):
    """A superseded version of a record, kept for its history (the current one is the record)."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(100))


class Change(Base):
    """One entry of the changes feed. ``seq`` has no gaps: followers can tell they missed one.

    Each entry carries the fields screening needs, so a follower applies it without a join.
    """

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(Integer)  # no foreign key: see Record.bureau_id
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    restricted: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # Who the record was withheld from at this change (space-separated codes): an offline kit
    # of one of those countries gets a row that says "restricted" and nothing else.
    withheld_from: Mapped[str | None] = mapped_column(String(400))
    document_number: Mapped[str] = mapped_column(String(24))
    serial_end: Mapped[str | None] = mapped_column(String(24))
    issuing_country: Mapped[str] = mapped_column(String(3))
    document_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    blank: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FeedCounter(Base):
    """The last sequence number handed out. Its one row is locked by each writer until commit,
    which is what keeps the feed free of gaps (a sequence object skips numbers on rollback)."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


# The tables as Core objects, for bulk writes that bypass the ORM.
records_table: Table = Record.__table__  # type: ignore[assignment]
changes_table: Table = Change.__table__  # type: ignore[assignment]


class RecordImport(Base):
    """A file imported from the console: how far it has gone and, once done, its report.

    In the database, not in the memory of the process running it, so that whichever process
    of whichever node answers the page following the import can show it.
    """

    __tablename__ = "record_imports"

    # Random: the page that follows an import is named by it.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3), index=True)
    started_by: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    skip_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    merge: Mapped[bool] = mapped_column(Boolean, default=False)
    # running, done (written), rejected (invalid rows, nothing written), failed (unreadable)
    state: Mapped[str] = mapped_column(String(16))
    total_rows: Mapped[int] = mapped_column(Integer, default=0)  # estimated from the lines
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # [{"line", "field", "reason"}], the first ones (the rejects file holds every row).
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rejects_file: Mapped[str | None] = mapped_column(Text)  # the refused rows, with why
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The process running it (host, boot, pid, start time): one gone is noticed and its
    # import marked failed instead of running for ever (import_jobs.notice_stopped).
    runner: Mapped[str | None] = mapped_column(String(200))
