"""Tables of the screening domain: the query log and who follows searches on a record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class ScreeningQuery(Base):
    """One screening query: when, who, where, what was asked, and the answer."""

    __tablename__ = "screening_queries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    principal_kind: Mapped[str] = mapped_column(String(8))
    principal_name: Mapped[str] = mapped_column(String(100))
    bureau_code: Mapped[str] = mapped_column(String(3))
    location: Mapped[str | None] = mapped_column(String(32))
    operation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))
    document_number: Mapped[str] = mapped_column(String(24))
    issuing_country: Mapped[str | None] = mapped_column(String(3))
    document_type: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(16))
    match_count: Mapped[int] = mapped_column(Integer)


class ScreeningMatch(Base):
    """A record a query matched, and how; owners can list the searches on their records."""

    __tablename__ = "screening_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_id: Mapped[str] = mapped_column(String(32), index=True)
    record_id: Mapped[int] = mapped_column(Integer)
    match: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_screening_matches_record", "record_id"),)


class RecordWatch(Base):
    """The owning bureau asked to be told of every search that finds this record."""

    __tablename__ = "record_watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    bureau_code: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("record_id", "bureau_code"),)
