"""Tables of the messaging domain. Subjects, bodies and attachments are stored encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class Thread(Base):
    """A conversation between bureaus: a hit's (one per hit) or a free one.

    The subject is sealed with the thread's own data key (``key_id``, ``wrapped_key``).
    ``message_count`` and ``last_message_at`` are kept as messages are posted, so that
    lists, and the secretariat's metadata view, need no count over the messages.
    """

    __tablename__ = "message_threads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    hit_id: Mapped[int | None] = mapped_column(ForeignKey("hits.id"), unique=True)
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_bureau: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)


class Participant(Base):
    """A bureau taking part in a thread: its officers read and write it."""

    __tablename__ = "message_participants"

    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"), primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3), primary_key=True)

    __table_args__ = (Index("ix_message_participants_bureau", "bureau_code", "thread_id"),)


class Message(Base):
    """One message: body sealed with its own data key, signed by the deployment."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"))
    sender_bureau: Mapped[str] = mapped_column(String(3))
    sender_user: Mapped[str] = mapped_column(String(100))
    # Posted by the system on a hit's events, not by a person.
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signing_key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_messages_thread", "thread_id", "id"),)


class Attachment(Base):
    """A file sent with a message, sealed with the message's data key (name and content)."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[bytes] = mapped_column(LargeBinary)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Receipt(Base):
    """A bureau read a message: who first read it for the bureau, and when."""

    __tablename__ = "message_receipts"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    read_by: Mapped[str] = mapped_column(String(100))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime())
