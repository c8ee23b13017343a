"""Tables of the hits domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base


class Hit(Base):
    """A case opened by a hit: the query, where and when, both bureaus, the matched record."""

    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_id: Mapped[str] = mapped_column(String(32), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    owner_bureau: Mapped[str] = mapped_column(String(3))
    querying_bureau: Mapped[str] = mapped_column(String(3))
    queried_by: Mapped[str] = mapped_column(String(100))
    match: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    location: Mapped[str | None] = mapped_column(String(32))
    operation_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_hits_owner_state", "owner_bureau", "state"),
        Index("ix_hits_querying_state", "querying_bureau", "state"),
    )
