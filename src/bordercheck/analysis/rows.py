"""What the analysis reads: flights, travellers on them, hits, and the records hit.

Plain rows, filled from the database (``sources``) or, for the benchmark, made directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(slots=True, frozen=True)
class Leg:
    """One flight as its stored passenger list tells it."""

    id: int  # the stored manifest's id
    flight: str | None
    departure: str | None
    arrival: str | None
    departs: datetime | None
    bureau: str  # the bureau that screened the list


@dataclass(slots=True, frozen=True)
class Seat:
    """One traveller on one flight (a stored manifest's traveller row)."""

    id: int
    leg: int
    surname: str
    given_names: str
    birth_date: date | None
    nationality: str | None
    booking: str | None
    seat: str | None
    document_number: str | None
    issuing_country: str | None
    query_id: str | None

    @property
    def document(self) -> tuple[str, str] | None:
        if not self.document_number:
            return None
        return (self.issuing_country or "", self.document_number)

    @property
    def name(self) -> str:
        return f"{self.surname}, {self.given_names}" if self.given_names else self.surname


@dataclass(slots=True, frozen=True)
class RecordRow:
    id: int
    document_number: str
    serial_end: str | None
    issuing_country: str
    status: str
    blank: bool
    event_date: date | None
    event_place: str | None
    incident_ref: str | None
    withheld_from: frozenset[str]
    active: bool

    @property
    def label(self) -> str:
        number = self.document_number
        if self.serial_end:
            number += f"–{self.serial_end}"
        return f"{self.issuing_country} {number}"

    @property
    def incident(self) -> str | None:
        """The theft this record belongs to: its reference, or for a blank range with none,
        the same country, day and place (one theft recorded as several ranges)."""
        if self.incident_ref:
            return self.incident_ref.strip().upper()
        if self.serial_end and self.event_date:
            return f"{self.issuing_country}/{self.event_date.isoformat()}/{self.event_place or ''}"
        return None


@dataclass(slots=True)
class HitRow:
    id: int
    query_id: str
    record_id: int
    owner: str
    querying: str
    match: str
    location: str | None
    manifest_id: int | None
    at: datetime
    answer: str | None
    outcome: str | None
    document_number: str | None  # as screened
    issuing_country: str | None

    @property
    def refuted(self) -> bool:
        """The owner said the traveller's document is not the recorded one."""
        return self.answer in ("no_match", "not_confirmed")

    @property
    def confirmed(self) -> bool:
        return self.answer == "confirmed"
