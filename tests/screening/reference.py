"""A brute-force screening, written from docs/screening.md and nothing else.

Plain Python over the records: every record is compared with the number asked, by the
rules as the documentation states them (kinds of match, scores, type families, serial
ranges, OCR variants, check digits, typing slips). No index, no skeleton, no filter: the
property tests hold the engine to what this answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bordercheck.screening.matcher import DEFAULT_POLICY, Match, MatchPolicy, Screening

# "OCR variants": the look-alike table, and the pairs a check digit cannot see.
LOOK_ALIKES = "O0 Q0 D0 I1 L1 B8 S5 Z2 G6 A4 T7 OQ OD QD IL"
BLIND = "S8 Z5 A0 K0 AK"
CONFUSED = {frozenset(pair) for pair in (LOOK_ALIKES + " " + BLIND).split()}
LOOKING_ALIKE = {frozenset(pair) for pair in LOOK_ALIKES.split()}
# "Serial ranges": a letter read where a serial digit is, tried as the digit it resembles.
DIGIT_READ_FOR = {pair[0]: pair[1] for pair in LOOK_ALIKES.split() if pair[1].isdigit()}

# "Type families".
FAMILIES = {
    "passport": {
        "passport",
        "diplomatic_passport",
        "service_passport",
        "emergency_passport",
        "refugee_travel_document",
    },
    "identity": {"identity_card", "residence_permit", "seafarer_document", "crew_certificate"},
    "visa": {"visa"},
    "other": {"other"},
}
FAMILY_OF = {kind: family for family, kinds in FAMILIES.items() for kind in kinds}

# "Kinds of match and their scores".
KIND_ORDER = ("exact", "range", "ocr_variant", "transposition", "substitution")
OCR = {1: 0.8, 2: 0.6}
# "Check digits": the number as read fails, the variant passes: +0.1; both pass: -0.1.
CONFIRMED = {1: 0.9, 2: 0.7}
UNSEEN = {1: 0.7, 2: 0.5}


@dataclass(frozen=True)
class Record:
    record_id: int
    number: str
    country: str
    document_type: str = "passport"
    status: str = "stolen"
    serial_end: str | None = None
    blank: bool = False
    restricted: bool = False


def check_digit(text: str) -> str:
    """ICAO 9303: digits their value, A-Z 10-35, weights 7, 3, 1 repeated, modulo 10."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in text]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def confusions_between(read: str, recorded: str) -> int | None:
    """How many characters differ, each a confused pair; None if one is not."""
    if len(read) != len(recorded):
        return None
    differ = [(a, b) for a, b in zip(read, recorded, strict=True) if a != b]
    if any(frozenset(pair) not in CONFUSED for pair in differ):
        return None
    return len(differ)


def serial(number: str) -> tuple[str, str]:
    """(prefix, serial digits): the digits at the end, the prefix before them."""
    tail = len(number) - len(number.rstrip("0123456789"))
    return number[: len(number) - tail], number[len(number) - tail :]


def range_reading(read: str, record: Record) -> tuple[str, int] | None:
    """The reading of ``read`` in the record's range (as a number of the range) and how
    many letters were read as digits; None when it is not in the range."""
    assert record.serial_end is not None
    prefix, first = serial(record.number)
    _, last = serial(record.serial_end)
    if len(read) != len(prefix) + len(first) or not read.startswith(prefix):
        return None
    digits = [c if c.isdigit() else DIGIT_READ_FOR.get(c, "") for c in read[len(prefix) :]]
    if not all(digits) or not int(first) <= int("".join(digits)) <= int(last):
        return None
    return prefix + "".join(digits), sum(not c.isdigit() for c in read[len(prefix) :])


def is_transposition(read: str, recorded: str) -> bool:
    return len(read) == len(recorded) and any(
        read[i] != read[i + 1] and read[:i] + read[i + 1] + read[i] + read[i + 2 :] == recorded
        for i in range(len(read) - 1)
    )


def is_substitution(read: str, recorded: str) -> bool:
    if len(read) != len(recorded):
        return False
    differ = [(a, b) for a, b in zip(read, recorded, strict=True) if a != b]
    return len(differ) == 1 and frozenset(differ[0]) not in LOOKING_ALIKE


class Reference:
    """The registry's active records, changed as the feed changes them."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self.records = {r.record_id: r for r in records}

    def upsert(self, record: Record) -> None:
        self.records[record.record_id] = record

    def remove(self, record_id: int) -> None:
        self.records.pop(record_id, None)

    def screen(
        self,
        number: str,
        country: str,
        document_type: str | None = None,
        printed: str | None = None,
        policy: MatchPolicy = DEFAULT_POLICY,
    ) -> Screening:
        """``printed``: the check digit the MRZ prints for the number, if given."""
        if document_type is None:
            wanted = set(FAMILIES)
        else:  # a type stands for its family
            wanted = {FAMILY_OF.get(document_type, document_type)}
        passes = printed is None or check_digit(number) == printed
        size = len(self.records)
        best: dict[int, tuple[str, float]] = {}

        def keep(record: Record, kind: str, score: float) -> None:
            old = best.get(record.record_id)
            rank = (score, -KIND_ORDER.index(kind))
            if old is None or rank > (old[1], -KIND_ORDER.index(old[0])):
                best[record.record_id] = (kind, score)

        def ocr(record: Record, reading: str, changes: int) -> None:
            if changes == 0:
                keep(record, "range" if record.serial_end else "exact", 1.0)
            elif changes <= policy.ocr_changes:
                if printed is None:
                    keep(record, "ocr_variant", OCR[changes])
                elif check_digit(reading) == printed:  # else the check digit was misread too
                    keep(record, "ocr_variant", (UNSEEN if passes else CONFIRMED)[changes])

        for record in self.records.values():
            if record.country != country or FAMILY_OF[record.document_type] not in wanted:
                continue
            if record.serial_end is not None:
                reading = range_reading(number, record)
                if reading is not None:
                    ocr(record, *reading)
                continue
            changes = confusions_between(number, record.number)
            if changes is not None:
                ocr(record, record.number, changes)
            # "Typing slips": number-only queries, small registries, records (not ranges).
            slips = printed is None
            transpositions = slips and size <= policy.transpositions_up_to
            if transpositions and is_transposition(number, record.number):
                keep(record, "transposition", 0.5)
            substitutions = slips and size <= policy.substitutions_up_to
            if substitutions and is_substitution(number, record.number):
                keep(record, "substitution", 0.4)

        matches = sorted(
            (self._match(self.records[i], country, *found) for i, found in best.items()),
            key=lambda m: (-m.score, KIND_ORDER.index(m.match), m.record_id),
        )
        if not matches:
            return Screening("no_hit")
        result = "hit" if matches[0].match in ("exact", "range") else "possible_hit"
        return Screening(result, tuple(matches))

    @staticmethod
    def _match(record: Record, country: str, kind: str, score: float) -> Match:
        return Match(
            record.record_id, record.number, country, record.document_type,  # type: ignore[arg-type]
            record.status, record.blank, record.restricted, kind, score,  # type: ignore[arg-type]
            record.serial_end,
        )  # fmt: skip
