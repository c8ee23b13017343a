"""One PAXLST message (UNH to UNT): the flight in its header, then one group per traveller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.manifests.codes import DOCUMENT_CODES, BadDate, parse_date, parse_moment
from bordercheck.manifests.edifact import Segment
from bordercheck.manifests.flight import LIST_TYPES, Problem, TravelDocument, Traveller

# NAD party function codes that open a traveller's group.
ROLES = {"FL": "passenger", "FM": "crew", "DDT": "transit_passenger", "DDU": "transit_crew",
         "COT": "transit_crew"}  # fmt: skip
# Segments a PAXLST may carry that screening has no use for: read past them quietly.
IGNORED = frozenset(
    {"RFF", "DTM", "LOC", "NAD", "CTA", "COM", "FTX", "GEI", "MEA", "EMP", "QTY", "CPI",
     "TSR", "ERP", "ATT", "NAT", "DOC", "CNT", "TDT", "BGM", "STS", "EQD", "PDI", "FII",
     "TAX", "MOA", "SEQ", "GIS", "IMD", "CUX", "SEL", "DGS", "PCI", "UNS"}
)  # fmt: skip
# A flight leg's places in its header (TDT's group): where it leaves from and arrives at, as
# the WCO/IATA guide names them (125 and 87: the legs that cross the border) and as the older
# US dialect does (005 and 008, sometimes 5 and 8); 92 (routing) and the dialect's PT name a
# stop whose part the DTM after it tells (189: it leaves there; 232: it arrives there).
_LEAVES = frozenset({"125", "005", "5"})
_ARRIVES = frozenset({"87", "008", "8"})
_STOPS = frozenset({"92", "PT"})
# DTM qualifiers of the header: 189/232 with the moment in one component (guide), 136/132
# with the date and time in elements 2 and 3 (the older US dialect).
_DEPARTS_AT = frozenset({"189", "136"})
_ARRIVES_AT = frozenset({"232", "132"})
# BGM's code for a carrier's list of all its crew members (not one flight's).
MASTER_CREW_LIST = "336"
# PDT's traveller kinds (the older US dialect).
PDT_ROLES = {"PAX": "passenger", "CRW": "crew", "CR": "crew", "CRM": "crew"}
# A CNT total above this is no flight's or ship's (the largest ships carry under 10,000):
# it is reported and ignored, so that the list is still screened and stored.
MAX_REPORTED_COUNT = 100_000
# EDIFACT's sequence of transfers (0070) has two digits.
MAX_PART_NUMBER = 99


@dataclass
class _Stop:
    """A place in a flight leg's header (LOC), and the times the DTM after it gave."""

    qualifier: str
    place: str | None
    departs_at: datetime | None = None
    arrives_at: datetime | None = None


@dataclass
class Leg:
    """One TDT and the places and times after it: a flight, or one leg of a longer one."""

    flight: str | None = None
    carrier: str | None = None
    stops: list[_Stop] = field(default_factory=list)
    # A time given before any place, for the leg as a whole.
    departs_at: datetime | None = None
    arrives_at: datetime | None = None

    def departure(self) -> _Stop | None:
        """Where it leaves: the place named as such, else the first place it leaves at a given
        time, else the first of its route's places (when it names two or more)."""
        route = [s for s in self.stops if s.qualifier in _STOPS]
        return (
            next((s for s in self.stops if s.qualifier in _LEAVES), None)
            or next((s for s in self.stops if s.departs_at is not None), None)
            or (route[0] if len(route) > 1 else None)
        )

    def arrival(self) -> _Stop | None:
        """Where it arrives: the place named as such, else the last place it arrives at at a
        given time, else the last of its route's places (when it names two or more)."""
        route = [s for s in self.stops if s.qualifier in _STOPS]
        return (
            next((s for s in self.stops if s.qualifier in _ARRIVES), None)
            or next((s for s in reversed(self.stops) if s.arrives_at is not None), None)
            or (route[-1] if len(route) > 1 else None)
        )

    @property
    def crosses_border(self) -> bool:
        """Whether its header names the last place before the border or the first after it."""
        return any(s.qualifier in _LEAVES or s.qualifier in _ARRIVES for s in self.stops)

    def describe(self) -> str:
        leaves, arrives = self.departure(), self.arrival()
        route = f"{(leaves and leaves.place) or '?'} → {(arrives and arrives.place) or '?'}"
        return f"{self.flight or '(no number)'} {route}"


@dataclass
class MessagePart:
    message_ref: str
    reference: str | None  # common access reference
    sequence: int | None
    last: bool
    version: str | None
    list_type: str = "passengers"
    flight: str | None = None
    carrier: str | None = None
    departure: str | None = None
    arrival: str | None = None
    departure_at: datetime | None = None
    arrival_at: datetime | None = None
    travellers: list[Traveller] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def read_message(header: Segment, body: list[Segment]) -> MessagePart:
    sequence = header.get(4, 0)
    version = f"{header.get(2, 1)}:{header.get(2, 2)}" if header.get(2, 1) else None
    part = MessagePart(
        message_ref=header.get(1),
        reference=header.get(3) or None,
        sequence=_part_number(sequence),
        last=header.get(4, 1) == "F",
        version=version,
    )
    if sequence and part.sequence is None:
        part.warnings.append(_problem(
            header, f"part number {sequence!r} is not a number from 1 to {MAX_PART_NUMBER}"
        ))  # fmt: skip
    _Reader(part).read(body)
    return part


def _part_number(text: str) -> int | None:
    # ASCII digits only (str.isdigit also takes "²"); bounded, because the parts missing
    # from a flight's list are counted up to the highest number sent.
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PART_NUMBER:
        return None
    return int(text)


def _airport(place: str) -> str | None:
    """``NZAKL`` (country and airport, as PDT writes places) → ``AKL``."""
    place = place.strip().upper()
    return (place[2:] if len(place) == 5 else place) or None


def _problem(segment: Segment, message: str) -> Problem:
    return Problem(message, segment.number, segment.tag, segment.line)


class _Reader:
    """Reads segments in order; the meaning of DTM and LOC depends on what came before."""

    def __init__(self, part: MessagePart) -> None:
        self.part = part
        self.traveller: Traveller | None = None
        self.document: TravelDocument | None = None
        self.legs: list[Leg] = []
        self.stop: _Stop | None = None  # the last place of the current leg's header
        self.saw_bgm = False

    def read(self, body: list[Segment]) -> None:
        handlers = {"BGM": self.bgm, "TDT": self.tdt, "LOC": self.loc, "DTM": self.dtm,
                    "NAD": self.nad, "ATT": self.att, "NAT": self.nat, "RFF": self.rff,
                    "DOC": self.doc, "CNT": self.cnt, "PDT": self.pdt}  # fmt: skip
        for segment in body:
            if segment.cut:
                self.warn(segment, "the file ends inside this segment (no terminator after it): "
                          "it is not read, and the file may be cut short")  # fmt: skip
                continue
            handler = handlers.get(segment.tag)
            try:
                if handler is not None:
                    handler(segment)
                elif segment.tag not in IGNORED:
                    self.warn(segment, "not a PAXLST segment; ignored")
            except (BadDate, InvalidCountry, ValueError) as exc:
                self.warn(segment, str(exc))
        if not self.saw_bgm:
            self.part.warnings.append(Problem("the message has no BGM; read as a passenger list"))
        if not self.legs:
            self.part.warnings.append(Problem("the message has no TDT: the flight is not named"))
        else:
            self._take_flight()
        self._close_document()

    def _take_flight(self) -> None:
        """The message's flight: the leg whose header names where it crosses the border
        (LOC+125 or 87), else the first. A list for a flight of several legs (a progressive
        flight, or a flight and its domestic continuation) is filed under that one, and says
        so."""
        legs = self.legs
        chosen = next((leg for leg in legs if leg.crosses_border), legs[0])
        leaves, arrives = chosen.departure(), chosen.arrival()
        part = self.part
        part.flight, part.carrier = chosen.flight, chosen.carrier
        part.departure = leaves.place if leaves else None
        part.arrival = arrives.place if arrives else None
        part.departure_at = (leaves.departs_at if leaves else None) or chosen.departs_at
        part.arrival_at = (arrives.arrives_at if arrives else None) or chosen.arrives_at
        if len(legs) > 1:
            why = "crosses the border (LOC+125/87)" if chosen.crosses_border else "comes first"
            part.warnings.append(Problem(
                f"the message names {len(legs)} flight legs "
                f"({'; '.join(leg.describe() for leg in legs)}); the list is filed under "
                f"{chosen.describe()}, the leg that {why}"
            ))  # fmt: skip

    def warn(self, segment: Segment, message: str) -> None:
        problem = _problem(segment, message)
        if self.traveller is not None:
            self.traveller.problems.append(problem)
        else:
            self.part.warnings.append(problem)

    def bgm(self, segment: Segment) -> None:
        self.saw_bgm = True
        code = segment.get(1)
        if code in LIST_TYPES:
            self.part.list_type = LIST_TYPES[code]
        elif code == MASTER_CREW_LIST:
            self.part.list_type = "crew"
            self.warn(segment, "a master crew list (336), not a flight's: read as a crew list")
        else:
            self.warn(segment, f"document code {code!r} is neither 745 (passengers) nor 250 "
                      "(crew); read as a passenger list")  # fmt: skip

    def tdt(self, segment: Segment) -> None:
        flight = segment.get(2).replace(" ", "").upper()
        if not flight:
            self.warn(segment, "the flight number is empty")
        carrier = segment.get(5).strip().upper()
        self.legs.append(Leg(flight or None, carrier or (flight[:2] if len(flight) > 2 else None)))
        self.stop = None

    def loc(self, segment: Segment) -> None:
        qualifier, place = segment.get(1).strip().upper(), segment.get(2).strip().upper()
        traveller = self.traveller
        if traveller is None:
            self._header_place(segment, qualifier, place)
            return
        if qualifier == "91":
            if self.document is None:
                self.warn(segment, "issuing country without a DOC before it; ignored")
            elif place:
                self.document.issuing_country = normalise_country(place)
            else:
                self.warn(segment, "the issuing country is empty")
        elif qualifier == "178":
            traveller.embarkation = place or None
        elif qualifier == "179":
            traveller.debarkation = place or None
        elif qualifier == "22":
            traveller.transit = place or None

    def _header_place(self, segment: Segment, qualifier: str, place: str) -> None:
        if not self.legs:
            if qualifier in _LEAVES or qualifier in _ARRIVES or qualifier in _STOPS:
                self.warn(segment, "a flight's place before any TDT; ignored")
            return
        # Some carriers send a UN/LOCODE (AUSYD) or, in the US dialect, NZAKL:50.
        self.stop = _Stop(qualifier, _airport(place))
        self.legs[-1].stops.append(self.stop)
        if qualifier not in _LEAVES and qualifier not in _ARRIVES and qualifier not in _STOPS:
            self.warn(segment, f"LOC qualifier {qualifier!r} in the flight's header is not a "
                      "departure (125) or arrival (87) airport: its place is the flight's "
                      "only if a departure (189) or arrival (232) time follows it")  # fmt: skip

    def dtm(self, segment: Segment) -> None:
        parts = (*segment.components(1), "", "", "")
        qualifier, value, form = parts[0], parts[1], parts[2]
        if not any(parts):
            self.warn(segment, "a DTM with no qualifier and no date; ignored")
            return
        if self.traveller is None and qualifier in ("136", "132"):
            # The older US dialect: DTM+136+020131+1030+M05 (date, time, time zone).
            value, form = segment.get(2).strip() + segment.get(3).strip()[:4], ""
        if not value.strip():
            if qualifier in ("36", "329"):
                self.warn(segment, "the date is empty")
            return
        if self.traveller is None:
            self._header_time(qualifier, value, form)
            return
        if qualifier == "329":
            self.traveller.birth_date = parse_date(value, form, past=True)
        elif qualifier == "36":
            if self.document is None:
                self.warn(segment, "an expiry date without a DOC before it; ignored")
                return
            expiry = parse_date(value, form, past=False)
            if self.document.expiry_date is not None and expiry != self.document.expiry_date:
                self.warn(segment, f"a second expiry date ({expiry.isoformat()}) for document "
                          f"{self.document.number}; the first "
                          f"({self.document.expiry_date.isoformat()}) is kept")  # fmt: skip
            elif self.document.expiry_date is None:
                self.document.expiry_date = expiry

    def _header_time(self, qualifier: str, value: str, form: str) -> None:
        leaves, arrives = qualifier in _DEPARTS_AT, qualifier in _ARRIVES_AT
        if not (leaves or arrives) or not self.legs:
            return
        moment = parse_moment(value, form)
        where: _Stop | Leg = self.stop or self.legs[-1]
        if leaves:
            where.departs_at = moment
        else:
            where.arrives_at = moment

    def nad(self, segment: Segment) -> None:
        role = ROLES.get(segment.get(1))
        if role is None:
            if self.traveller is not None:
                self.warn(segment, f"party {segment.get(1)!r} is not a traveller; ignored")
            return  # the reporting party (MS) and the like, in the header
        self._close_document()
        traveller = Traveller(position=0, role=role, segment=segment.number)
        names = [c.strip() for c in segment.components(4)]
        traveller.surname = names[0].upper() if names else ""
        traveller.given_names = " ".join(n for n in names[1:] if n).upper()
        self.part.travellers.append(traveller)
        self.traveller = traveller
        if not traveller.surname:
            self.warn(segment, "the traveller's surname is empty")

    def att(self, segment: Segment) -> None:
        if self.traveller is not None and segment.get(1) == "2":
            sex = segment.get(3).strip().upper()[:1]
            self.traveller.sex = sex or None

    def nat(self, segment: Segment) -> None:
        if self.traveller is not None and segment.get(2).strip():
            self.traveller.nationality = normalise_country(segment.get(2))

    def rff(self, segment: Segment) -> None:
        if self.traveller is None:
            return
        qualifier, value = segment.get(1, 0), segment.get(1, 1).strip()
        if qualifier == "AVF":
            self.traveller.booking_reference = value or None
        elif qualifier == "SEA":
            self.traveller.seat = value.upper() or None

    def doc(self, segment: Segment) -> None:
        if self.traveller is None:
            self.warn(segment, "a document before any traveller; ignored")
            return
        self._close_document()
        code, number = segment.get(1).strip().upper(), segment.get(2).strip()
        document_type = DOCUMENT_CODES.get(code)
        if not number:
            self.warn(segment, f"the document number is empty; the {code or 'document'} "
                      "is not screened")  # fmt: skip
            return
        if document_type is None:
            self.warn(segment, f"document code {code!r} is not one we know; screened as any type")
        self.document = TravelDocument(code, document_type, number, segment=segment.number)
        self.traveller.documents.append(self.document)

    def pdt(self, segment: Segment) -> None:
        """A traveller and their document in one segment: the older US dialect (001:000).

        ``PDT+P/182345345:990909:US+MANGUS:SIMON:P:590429:M+PAX+NZAKL:USLAX``: document
        type/number, expiry (YYMMDD), issuing country; surname, given name, middle name,
        birth date, sex; PAX or CRW; where the traveller boards and leaves (country and
        airport).
        """
        self._close_document()
        kind = segment.get(3).strip().upper()
        role = PDT_ROLES.get(kind)
        traveller = Traveller(position=0, role=role or "passenger", segment=segment.number)
        self.part.travellers.append(traveller)
        self.traveller = traveller
        if role is None:
            self.warn(segment, f"traveller kind {kind!r} is neither PAX nor CRW; read as PAX")
        names = [c.strip().upper() for c in (*segment.components(2), "", "", "", "", "")]
        traveller.surname = names[0]
        traveller.given_names = " ".join(n for n in names[1:3] if n)
        if not traveller.surname:
            self.warn(segment, "the traveller's surname is empty")
        traveller.sex = names[4][:1] or None
        traveller.birth_date = self._pdt_date(segment, names[3], past=True)
        places = (*segment.components(4), "", "")
        traveller.embarkation = _airport(places[0])
        traveller.debarkation = _airport(places[1])
        document = (*segment.components(1), "", "")
        code, slash, number = document[0].strip().upper().partition("/")
        if not slash:
            code, number = "", code
        if not number:
            self.warn(segment, "the document number is empty; the document is not screened")
            return
        self.document = TravelDocument(
            code, DOCUMENT_CODES.get(code), number, segment=segment.number
        )
        traveller.documents.append(self.document)
        if code and code not in DOCUMENT_CODES:
            self.warn(segment, f"document code {code!r} is not one we know; screened as any type")
        self.document.expiry_date = self._pdt_date(segment, document[1], past=False)
        if document[2].strip():
            self.document.issuing_country = normalise_country(document[2])

    def _pdt_date(self, segment: Segment, value: str, *, past: bool) -> date | None:
        if not value.strip():
            return None
        try:
            return parse_date(value.strip(), past=past)
        except BadDate as exc:
            self.warn(segment, str(exc))
            return None

    def cnt(self, segment: Segment) -> None:
        self._close_document()
        self.traveller = None  # CNT ends the travellers
        value = segment.get(1, 1).strip()
        if segment.get(1, 0) not in ("41", "42"):
            return
        if not (value.isascii() and value.isdigit()):
            self.warn(segment, f"count {value!r} is not a number")
            return
        if int(value) > MAX_REPORTED_COUNT:
            self.warn(segment, f"count {value} is more than any flight or ship carries "
                      f"({MAX_REPORTED_COUNT}); ignored")  # fmt: skip
            return
        self.part.counts.append(int(value))

    def _close_document(self) -> None:
        document, traveller = self.document, self.traveller
        self.document = None
        if document is None or traveller is None or document.issuing_country:
            return
        # Carriers leave LOC+91 out now and then; the nationality is the likeliest issuer.
        if traveller.nationality:
            document.issuing_country = traveller.nationality
            traveller.problems.append(Problem(
                f"document {document.number} has no issuing country (LOC+91); "
                f"screened as issued by {traveller.nationality}", document.segment, "DOC",
            ))  # fmt: skip
        else:
            traveller.problems.append(Problem(
                f"document {document.number} has no issuing country (LOC+91) and the "
                "traveller no nationality; not screened", document.segment, "DOC",
            ))  # fmt: skip
