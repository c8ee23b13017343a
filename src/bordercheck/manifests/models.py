"""Tables of the manifests domain: each flight's list as received, and its travellers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class StoredManifest(Base):
    """A flight's passenger or crew list as received: the flight, the counts, the warnings."""

    __tablename__ = "manifests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    submitted_by: Mapped[str] = mapped_column(String(100))
    bureau_code: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(16))  # api, cli, console
    list_type: Mapped[str] = mapped_column(String(16))
    flight: Mapped[str | None] = mapped_column(String(17))
    carrier: Mapped[str | None] = mapped_column(String(17))
    departure: Mapped[str | None] = mapped_column(String(25))
    arrival: Mapped[str | None] = mapped_column(String(25))
    departure_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrival_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sender: Mapped[str | None] = mapped_column(String(35))
    reference: Mapped[str | None] = mapped_column(String(35))
    travellers: Mapped[int] = mapped_column(Integer)
    reported_count: Mapped[int | None] = mapped_column(Integer)
    documents_screened: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(Integer)
    possible_hits: Mapped[int] = mapped_column(Integer)
    unscreened: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[str] = mapped_column(Text)  # JSON list of strings

    __table_args__ = (Index("ix_manifests_bureau_received", "bureau_code", "received_at"),)


class ManifestTraveller(Base):
    """One traveller on a stored list, with the document screened and what screening said."""

    __tablename__ = "manifest_travellers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    surname: Mapped[str] = mapped_column(String(70))
    given_names: Mapped[str] = mapped_column(String(70))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str | None] = mapped_column(String(3))
    embarkation: Mapped[str | None] = mapped_column(String(25))
    debarkation: Mapped[str | None] = mapped_column(String(25))
    seat: Mapped[str | None] = mapped_column(String(8))
    booking_reference: Mapped[str | None] = mapped_column(String(35))
    document_number: Mapped[str | None] = mapped_column(String(40))
    document_type: Mapped[str | None] = mapped_column(String(32))
    issuing_country: Mapped[str | None] = mapped_column(String(3))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))  # hit, possible_hit, no_hit, not_screened
    query_id: Mapped[str | None] = mapped_column(String(32))
    problems: Mapped[str | None] = mapped_column(Text)  # JSON list of strings

    # Following one traveller across flights: by document, and by name and birth date.
    __table_args__ = (
        Index("ix_manifest_travellers_document", "document_number", "issuing_country"),
        Index("ix_manifest_travellers_person", "surname", "birth_date"),
    )


class FurtherDocument(Base):
    """A check of a passenger list that was a traveller's second document or later (a visa
    beside a passport): operations count a list once per traveller. Ids only, no personal
    data, so kept when the list itself is forgotten."""

    __tablename__ = "manifest_further_documents"

    query_id: Mapped[str] = mapped_column(String(32), primary_key=True)
