"""Writing PAXLST as airlines do: for tests, the benchmark, the demo and training exercises.

``write_paxlst`` writes a ``Manifest`` in any service string, split into parts, wrapped at a
teletype width if asked; ``synthetic_flight`` makes a plausible flight full of travellers in
the number shapes of the synthetic registry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bordercheck.documents.types import DocumentType
from bordercheck.manifests.edifact import Delimiters
from bordercheck.manifests.flight import Manifest, TravelDocument, Traveller
from bordercheck.training.synthetic import ISSUERS, number_from_pattern

_CODES = {
    DocumentType.PASSPORT: "P", DocumentType.IDENTITY_CARD: "I", DocumentType.VISA: "V",
    DocumentType.CREW_CERTIFICATE: "AC", DocumentType.RESIDENCE_PERMIT: "A",
    DocumentType.DIPLOMATIC_PASSPORT: "PD", DocumentType.SERVICE_PASSPORT: "PS",
}  # fmt: skip
_BOOKING = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read out over the phone
_ROLES = {"passenger": "FL", "crew": "FM", "transit_passenger": "DDT", "transit_crew": "DDU"}


@dataclass(frozen=True)
class Envelope:
    """How the interchange is wrapped: who to whom, and in what syntax."""

    sender: str = "AIRLINE1"
    recipient: str = "BORDERCHECK"
    control_ref: str = "000000001"
    charset: str = "UNOA"
    syntax_version: int = 4
    delimiters: Delimiters = field(default_factory=Delimiters)
    una: bool = True
    groups: bool = True  # wrap the messages in UNG/UNE, as nearly every real PAXLST is
    directory: str = "05B"
    prepared_at: datetime = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def write_paxlst(
    manifest: Manifest,
    envelope: Envelope = Envelope(),
    *,
    per_part: int | None = None,
    wrap: int | None = None,
    newline: bool = True,
) -> str:
    """The interchange for ``manifest``: one message, or parts of ``per_part`` travellers."""
    d = envelope.delimiters
    size = per_part or max(len(manifest.travellers), 1)
    chunks = [manifest.travellers[i : i + size] for i in range(0, len(manifest.travellers), size)]
    chunks = chunks or [[]]
    stamp = envelope.prepared_at.strftime("%y%m%d"), envelope.prepared_at.strftime("%H%M")
    out: list[list[list[str]]] = []
    out.append([["UNB"], [envelope.charset, str(envelope.syntax_version)], [envelope.sender],
                [envelope.recipient], list(stamp), [envelope.control_ref]])  # fmt: skip
    if envelope.groups:
        out.append([["UNG"], ["PAXLST"], [envelope.sender], [envelope.recipient], list(stamp),
                    ["1"], ["UN"], ["D", envelope.directory]])  # fmt: skip
    reference = manifest.reference or _reference(manifest)
    for number, chunk in enumerate(chunks, start=1):
        last = number == len(chunks)
        message = _message(manifest, chunk, envelope, reference, number, last, len(chunks))
        out.extend(message)
    if envelope.groups:
        out.append([["UNE"], [str(len(chunks))], ["1"]])
    out.append([["UNZ"], [str(1 if envelope.groups else len(chunks))], [envelope.control_ref]])
    text = "".join(_segment(s, d) + ("\n" if newline and not wrap else "") for s in out)
    if envelope.una:
        una = f"UNA{d.component}{d.element}{d.decimal}{d.release}{d.repetition}{d.segment}"
        text = una + ("\n" if newline and not wrap else "") + text
    if wrap:
        text = "\n".join(text[i : i + wrap] for i in range(0, len(text), wrap)) + "\n"
    return text


def _reference(manifest: Manifest) -> str:
    when = manifest.departure_at.strftime("%y%m%d%H%M") if manifest.departure_at else ""
    return f"{manifest.flight or 'FLIGHT'}/{when}"


def _message(
    manifest: Manifest,
    travellers: list[Traveller],
    envelope: Envelope,
    reference: str,
    number: int,
    last: bool,
    parts: int,
) -> list[list[list[str]]]:
    ref = f"PAX{number:03d}"
    status = [f"{number:02d}", "F" if last else "C"] if parts > 1 else []
    header = [["UNH"], [ref], ["PAXLST", "D", envelope.directory, "UN", "IATA"], [reference]]
    body: list[list[list[str]]] = [header + ([status] if status else [])]
    body.append([["BGM"], ["250" if manifest.list_type == "crew" else "745"]])
    body.append([["NAD"], ["MS"], [""], [""], ["BORDERCHECK TEST DESK"]])
    body.append([["TDT"], ["20"], [manifest.flight or ""], [""], [""], [manifest.carrier or ""]])
    body.append([["LOC"], ["125"], [manifest.departure or ""]])
    if manifest.departure_at:
        body.append([["DTM"], ["189", manifest.departure_at.strftime("%y%m%d%H%M"), "201"]])
    body.append([["LOC"], ["87"], [manifest.arrival or ""]])
    if manifest.arrival_at:
        body.append([["DTM"], ["232", manifest.arrival_at.strftime("%y%m%d%H%M"), "201"]])
    for traveller in travellers:
        body.extend(_traveller(traveller))
    if last:
        qualifier = "41" if manifest.list_type == "crew" else "42"
        count = manifest.reported_count
        body.append(
            [["CNT"], [qualifier, str(len(manifest.travellers) if count is None else count)]]
        )
    body.append([["UNT"], [str(len(body) + 1)], [ref]])
    return body


def _traveller(t: Traveller) -> list[list[list[str]]]:
    given = t.given_names.split(" ", 1) if t.given_names else []
    rows = [[["NAD"], [_ROLES.get(t.role, "FL")], [""], [""], [t.surname, *given]]]
    if t.sex:
        rows.append([["ATT"], ["2"], [""], [t.sex]])
    if t.birth_date:
        rows.append([["DTM"], ["329", t.birth_date.strftime("%y%m%d")]])
    for qualifier, place in (("178", t.embarkation), ("179", t.debarkation), ("22", t.transit)):
        if place:
            rows.append([["LOC"], [qualifier], [place]])
    if t.nationality:
        rows.append([["NAT"], ["2"], [t.nationality]])
    if t.booking_reference:
        rows.append([["RFF"], ["AVF", t.booking_reference]])
    if t.seat:
        rows.append([["RFF"], ["SEA", t.seat]])
    for document in t.documents:
        code = document.code or _CODES.get(document.document_type or DocumentType.OTHER, "F")
        rows.append([["DOC"], [code, "110", "111"], [document.number]])
        if document.expiry_date:
            rows.append([["DTM"], ["36", document.expiry_date.strftime("%y%m%d")]])
        if document.issuing_country:
            rows.append([["LOC"], ["91"], [document.issuing_country]])
    return rows


def _segment(parts: list[list[str]], d: Delimiters) -> str:
    tag, *elements = parts
    specials = {d.component, d.element, d.segment} | ({d.release} if d.release_char else set())
    body = d.element.join(
        d.component.join(_escape(c, specials, d.release) for c in element) for element in elements
    )
    return tag[0] + (d.element + body if elements else "") + d.segment


def _escape(text: str, specials: set[str], release: str) -> str:
    if not any(c in specials for c in text):
        return text
    return "".join(release + c if c in specials else c for c in text)


def synthetic_flight(
    travellers: int = 300,
    *,
    seed: int = 2026,
    flight: str = "XB1234",
    departure: str = "IST",
    arrival: str = "CDG",
    planted: list[TravelDocument] | None = None,
) -> Manifest:
    """A flight of ``travellers`` passengers; ``planted`` documents go to travellers 1, 2…

    Planted documents land at evenly spread places on the flight, so that a test finds
    them by seat, not by being first.
    """
    rng = random.Random(seed)
    leaving = datetime(2026, 11, 29, 6, 40, tzinfo=UTC) + timedelta(days=rng.randrange(30))
    manifest = Manifest(
        list_type="passengers",
        flight=flight,
        carrier=flight[:2],
        departure=departure,
        arrival=arrival,
        departure_at=leaving,
        arrival_at=leaving + timedelta(hours=3, minutes=25),
    )
    planted = list(planted or [])
    spots = {(i + 1) * travellers // (len(planted) + 1): d for i, d in enumerate(planted)}
    for position in range(1, travellers + 1):
        issuer = rng.choice(ISSUERS)
        document = spots.get(position) or TravelDocument(
            "P", DocumentType.PASSPORT, number_from_pattern(issuer.passport, rng),
            issuer.country, date(2028 + rng.randrange(8), rng.randrange(1, 13), 15),
        )  # fmt: skip
        row, seat = divmod(position - 1, 6)
        born = date(1950 + rng.randrange(55), rng.randrange(1, 13), 1 + rng.randrange(28))
        booking = "".join(rng.choice(_BOOKING) for _ in range(6))
        manifest.travellers.append(
            Traveller(
                position=position,
                role="passenger",
                surname=rng.choice(issuer.surnames),
                given_names=rng.choice(issuer.given_names),
                sex=rng.choice("MF"),
                birth_date=born,
                nationality=document.issuing_country or issuer.country,
                embarkation=departure,
                debarkation=arrival,
                booking_reference=booking,
                seat=f"{row + 1}{'ABCDEF'[seat]}",
                documents=[document],
            )
        )  # fmt: skip
    return manifest
