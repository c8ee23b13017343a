"""One person across flights and documents: names, birth date and nationality, tolerant of
spelling and transliteration (rapidfuzz scores the names).

Candidates share a birth date and a nationality; among them a name is the same person's
when its folded form scores at least ``SAME_PERSON`` against one the person was seen under.
Folding writes a name as its sounds would be written in either alphabet (OU and U, KH and
H, Y and I, doubled letters), so MOHAMMED KHALIL and MUHAMAD HALIL come out alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from bordercheck.documents.transliteration import transliterate

SAME_PERSON = 88.0  # token-sort ratio of folded full names, 0–100
_FOLDS = (
    ("OU", "U"),
    ("OO", "U"),
    ("EE", "I"),
    ("KH", "H"),
    ("PH", "F"),
    ("Q", "K"),
    ("CK", "K"),
    ("C", "K"),
    ("Y", "I"),
    ("W", "V"),
    ("SH", "S"),
    ("CH", "S"),
    ("TH", "T"),
    ("DH", "D"),
    ("AA", "A"),
)
_DOUBLE = re.compile(r"(.)\1+")
_NOT_LETTER = re.compile(r"[^A-Z ]+")


def fold(name: str) -> str:
    text = _NOT_LETTER.sub(" ", transliterate(name.upper()))
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = _DOUBLE.sub(r"\1", text)
    return " ".join(text.split())


def name_score(a: str, b: str) -> float:
    return float(fuzz.token_sort_ratio(a, b))


@dataclass
class Person:
    id: int
    birth_date: date | None
    nationality: str | None
    names: dict[str, str] = field(default_factory=dict)  # folded → as first written
    seats: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Resolved:
    person: Person
    new: bool
    score: float | None  # the score that tied this name to the person, when not new
    matched_name: str | None


class People:
    """Incremental resolution: each new appearance joins a person or starts one."""

    def __init__(self) -> None:
        self.persons: dict[int, Person] = {}
        self._blocks: dict[tuple[date, str], list[int]] = {}

    def resolve(
        self, seat_id: int, name: str, born: date | None, nationality: str | None
    ) -> Resolved:
        folded = fold(name)
        if born is not None:
            block = self._blocks.setdefault((born, nationality or ""), [])
            best: tuple[float, Person, str] | None = None
            for person_id in block:
                person = self.persons[person_id]
                for known_folded, known in person.names.items():
                    score = 100.0 if known_folded == folded else name_score(folded, known_folded)
                    if score >= SAME_PERSON and (best is None or score > best[0]):
                        best = (score, person, known)
            if best is not None:
                score, person, known = best
                person.names.setdefault(folded, name)
                person.seats.append(seat_id)
                return Resolved(person, False, score, known)
        person = Person(len(self.persons) + 1, born, nationality, {folded: name}, [seat_id])
        self.persons[person.id] = person
        if born is not None:
            self._blocks[(born, nationality or "")].append(person.id)
        return Resolved(person, True, None, None)
