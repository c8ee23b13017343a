"""Tables of the hits domain: cases and their sightings, each bureau's rules, console
notifications, webhooks and their outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class HitState(StrEnum):
    OPEN = "open"  # waiting for the owner's answer
    ANSWERED = "answered"  # answered; waiting for the querying side's outcome
    CLOSED = "closed"  # answered and the outcome recorded


class Answer(StrEnum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    NO_MATCH = "no_match"


class Action(StrEnum):
    """What a confirming owner asks the querying side to do."""

    SEIZE_DOCUMENT = "seize_document"
    REFUSE_ENTRY = "refuse_entry"
    ARREST = "arrest"
    CONTACT_BUREAU = "contact_bureau"
    OTHER = "other"


class Outcome(StrEnum):
    SEIZED = "seized"
    REFUSED_ENTRY = "refused_entry"
    ARRESTED = "arrested"
    RELEASED = "released"
    OTHER = "other"


class Source(StrEnum):
    """Where the screening that opened the case came from; desk hits get less time."""

    DESK = "desk"
    BATCH = "batch"
    MANIFEST = "manifest"
    KIT = "kit"


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
    state: Mapped[str] = mapped_column(String(16), default=HitState.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(
        String(16), default=Source.DESK.value, server_default=text("'desk'")
    )
    manifest_id: Mapped[int | None] = mapped_column(Integer)
    flight: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    remind_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answer: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(32))
    answer_note: Mapped[str | None] = mapped_column(String(2000))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_note: Mapped[str | None] = mapped_column(String(2000))
    outcome_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome_by: Mapped[str | None] = mapped_column(String(100))
    # The record's details were withheld from the querying bureau when its screening opened
    # the case: it was answered "possible hit, restricted", and the case tells it no more.
    withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The querying bureau screened its own country's record.
    domestic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Screenings of the record by the querying bureau while the case was open, the first
    # (which opened it) included; the list is in ``hit_sightings``.
    sightings: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "RECORD:QUERYING_BUREAU:DOCUMENT_NUMBER" while the case takes the sightings of that
    # document by its querying bureau; NULL once closed. Unique, so that two processes
    # screening the same document at once cannot both open a case for it.
    open_key: Mapped[str | None] = mapped_column(String(48), unique=True)

    __table_args__ = (
        Index("ix_hits_owner_state", "owner_bureau", "state"),
        Index("ix_hits_querying_state", "querying_bureau", "state"),
        # The sweep looks for open cases past their reminder or deadline.
        Index("ix_hits_state_due", "state", "due_at"),
    )


def open_key(record_id: int, querying_bureau: str, document_number: str | None) -> str:
    # The number too: two numbers of one stolen blank range are two documents, and a
    # country the range is withheld from must not learn from one case that they share it.
    return f"{record_id}:{querying_bureau}:{document_number or ''}"


class HitSighting(Base):
    """One screening that hit a case's record: the one that opened it, or a later one by the
    same querying bureau while the case was open."""

    __tablename__ = "hit_sightings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"))
    query_id: Mapped[str] = mapped_column(String(32), index=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    location: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    queried_by: Mapped[str] = mapped_column(String(100))
    operation_id: Mapped[str | None] = mapped_column(String(64))
    # The owner was told of this one (it opened the case, came from a new place, or after a
    # quiet period).
    notified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_hit_sightings_hit", "hit_id", "id"),)


class DomesticRule(StrEnum):
    """What a bureau wants done when its own officers' screening hits its own record."""

    CASE = "case"  # open a case (marked domestic), as for any hit
    NOTIFY_ONLY = "notify_only"  # a line in the bureau's console, no case
    IGNORE = "ignore"  # the query log keeps the screening; nobody is told


class HitRules(Base):
    """A bureau's rules for the hits on its records; a bureau with no row has the defaults."""

    __tablename__ = "hit_rules"

    bureau_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    domestic: Mapped[str] = mapped_column(String(16), default=DomesticRule.CASE.value)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class Notification(Base):
    """A line in a bureau's console: a case opened, answered, closed, due soon, escalated."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(32))
    hit_id: Mapped[int | None] = mapped_column(ForeignKey("hits.id"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_notifications_bureau", "bureau_code", "id"),)


class Webhook(Base):
    """Where a bureau's own systems want hit events POSTed, and the key that signs them.

    The key is kept encrypted with a key derived from the deployment's secret key: it has to
    be usable to sign, so it cannot be hashed like a password.
    """

    __tablename__ = "hit_webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt; listed for the bureau to see


class Delivery(Base):
    """An event waiting in the outbox for a bureau's webhook, and how its attempts went."""

    __tablename__ = "hit_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3))
    event: Mapped[str] = mapped_column(String(32))
    hit_id: Mapped[int | None] = mapped_column(ForeignKey("hits.id"))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_hit_deliveries_due", "state", "next_attempt_at"),
        Index("ix_hit_deliveries_bureau", "bureau_code", "id"),
    )
