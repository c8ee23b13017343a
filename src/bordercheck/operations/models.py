"""Tables of the operations domain: an operation and who and what takes part in it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class MemberKind(StrEnum):
    """What takes part in an operation: where, which bureaus, which machines."""

    LOCATION = "location"  # a border post code, as screens name it in ``location``
    BUREAU = "bureau"  # a participating bureau's country code: it sees the figures
    CLIENT = "client"  # an API client's ``client_id``: its screens during the dates count
    KIT = "kit"  # an offline kit's ``kit_id``: its uploads, dated when made, count
    PARTNER = "partner"  # an invited partner organisation's code: it sees figures and thread


class Operation(Base):
    """A time-boxed deployment: its dates are whole UTC days, both included."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(2000))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    coordinator_bureau: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class OperationMember(Base):
    """One location, bureau, API client or kit taking part in an operation."""

    __tablename__ = "operation_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("operation_id", "kind", "value"),)


class OperationThread(Base):
    """The operation's message thread: its bureaus and invited partner organisations talk there."""

    __tablename__ = "operation_threads"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"), unique=True)
