"""What a passenger list says: the flight, its travellers and their documents, and problems.

Plain data, no I/O: the reader (``paxlst``) makes these, the writer (``writer``) writes them,
the service screens and stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bordercheck.documents.types import DocumentType


@dataclass(frozen=True)
class Problem:
    """Something in the file that could not be read as sent, and where it is."""

    message: str
    segment: int | None = None
    tag: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        if self.segment is None:
            return self.message
        where = f"segment {self.segment}"
        if self.tag:
            where += f" ({self.tag}{f', line {self.line}' if self.line else ''})"
        return f"{where}: {self.message}"


@dataclass
class TravelDocument:
    code: str  # as sent in DOC (P, I, V, AC, 39, ...)
    document_type: DocumentType | None  # None: a code we do not know; screened as any type
    number: str
    issuing_country: str | None = None
    expiry_date: date | None = None
    segment: int | None = None


@dataclass
class Traveller:
    position: int  # 1 for the first traveller of the flight, across the message's parts
    role: str  # passenger, crew, transit_passenger, transit_crew
    surname: str = ""
    given_names: str = ""
    sex: str | None = None
    birth_date: date | None = None
    nationality: str | None = None
    embarkation: str | None = None
    debarkation: str | None = None
    transit: str | None = None
    booking_reference: str | None = None
    seat: str | None = None
    documents: list[TravelDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    segment: int | None = None

    @property
    def name(self) -> str:
        return f"{self.surname}, {self.given_names}" if self.given_names else self.surname


LIST_TYPES = {"745": "passengers", "250": "crew"}


@dataclass
class Manifest:
    """One flight's passenger (or crew) list, its parts joined."""

    list_type: str = "passengers"
    flight: str | None = None
    carrier: str | None = None
    departure: str | None = None
    arrival: str | None = None
    departure_at: datetime | None = None
    arrival_at: datetime | None = None
    travellers: list[Traveller] = field(default_factory=list)
    reported_count: int | None = None  # CNT: the flight's total, as the airline counted it
    reference: str | None = None  # common access reference: ties the parts together
    message_refs: list[str] = field(default_factory=list)
    version: str | None = None  # message directory, e.g. D:05B
    warnings: list[Problem] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return sum(len(t.documents) for t in self.travellers)


@dataclass
class Interchange:
    """A file as received: who sent it, and the manifests in it."""

    sender: str | None = None
    recipient: str | None = None
    control_ref: str | None = None
    syntax: str | None = None  # character set and version, e.g. UNOA:4
    manifests: list[Manifest] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
