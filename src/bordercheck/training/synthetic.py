"""Synthetic registry records that look like the real thing, reproducible from a seed.

Each country issues numbers in its own pattern (letters and digits in fixed places), so
that screening, OCR confusions and imports meet the shapes they meet in production.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

DIGITS = string.digits
LETTERS = string.ascii_uppercase
# Letters several issuers leave out because OCR confuses them with digits.
SAFE_LETTERS = "CFGHJKLMNPRTVWXYZ"
SAFE_ALNUM = SAFE_LETTERS + DIGITS


@dataclass(frozen=True)
class Issuer:
    country: str
    passport: str
    identity: str
    cities: tuple[str, ...]
    surnames: tuple[str, ...]
    given_names: tuple[str, ...]


# Patterns: 9 = digit, A = letter, X = letter or digit (OCR-safe), other characters literal.
ISSUERS: tuple[Issuer, ...] = (
    Issuer(
        "DEU",
        "CXXXXXXXX",
        "LXXXXXXXX",
        ("BERLIN", "HAMBURG", "MUENCHEN", "KOELN"),
        ("MUELLER", "SCHMIDT", "SCHNEIDER", "FISCHER"),
        ("ANNA", "LUKAS", "MARIE", "JONAS"),
    ),
    Issuer(
        "FRA",
        "99AA99999",
        "999999999999",
        ("PARIS", "LYON", "MARSEILLE", "LILLE"),
        ("MARTIN", "BERNARD", "DUBOIS", "THOMAS"),
        ("LEA", "HUGO", "CHLOE", "LOUIS"),
    ),
    Issuer(
        "GBR",
        "999999999",
        "999999999",
        ("LONDON", "MANCHESTER", "LEEDS", "GLASGOW"),
        ("SMITH", "JONES", "TAYLOR", "BROWN"),
        ("OLIVIA", "JACK", "EMILY", "HARRY"),
    ),
    Issuer(
        "ITA",
        "AA9999999",
        "CA99999AA",
        ("ROMA", "MILANO", "NAPOLI", "TORINO"),
        ("ROSSI", "RUSSO", "FERRARI", "ESPOSITO"),
        ("GIULIA", "MARCO", "SOFIA", "LUCA"),
    ),
    Issuer(
        "ESP",
        "AAA999999",
        "99999999A",
        ("MADRID", "BARCELONA", "VALENCIA", "SEVILLA"),
        ("GARCIA", "FERNANDEZ", "LOPEZ", "MARTINEZ"),
        ("LUCIA", "HUGO", "MARIA", "PABLO"),
    ),
    Issuer(
        "NLD",
        "NXXXXXXX9",
        "IXXXXXXX9",
        ("AMSTERDAM", "ROTTERDAM", "UTRECHT", "DEN HAAG"),
        ("DE JONG", "JANSEN", "DE VRIES", "BAKKER"),
        ("EMMA", "DAAN", "JULIA", "SEM"),
    ),
    Issuer(
        "POL",
        "AA9999999",
        "AAA999999",
        ("WARSZAWA", "KRAKOW", "LODZ", "GDANSK"),
        ("NOWAK", "KOWALSKI", "WISNIEWSKI", "WOJCIK"),
        ("ZOFIA", "JAKUB", "HANNA", "ANTONI"),
    ),
    Issuer(
        "ROU",
        "099999999",
        "AA999999",
        ("BUCURESTI", "CLUJ", "IASI", "TIMISOARA"),
        ("POPESCU", "IONESCU", "POPA", "STAN"),
        ("ANDREEA", "ANDREI", "ELENA", "MIHAI"),
    ),
    Issuer(
        "TUR",
        "U99999999",
        "A99A99999",
        ("ISTANBUL", "ANKARA", "IZMIR", "BURSA"),
        ("YILMAZ", "KAYA", "DEMIR", "SAHIN"),
        ("ZEYNEP", "YUSUF", "ELIF", "EMIR"),
    ),
    Issuer(
        "UKR",
        "AA999999",
        "999999999",
        ("KYIV", "LVIV", "ODESA", "KHARKIV"),
        ("SHEVCHENKO", "BONDARENKO", "KOVALENKO", "MELNYK"),
        ("OLENA", "ANDRIY", "IRYNA", "OLEH"),
    ),
    Issuer(
        "SYR",
        "N99999999",
        "99999999999",
        ("DAMASCUS", "ALEPPO", "HOMS", "LATAKIA"),
        ("AL HASSAN", "KHALIL", "HADDAD", "NASSAR"),
        ("LAYLA", "OMAR", "NOUR", "AHMAD"),
    ),
    Issuer(
        "IRQ",
        "A9999999",
        "999999999999",
        ("BAGHDAD", "BASRA", "MOSUL", "ERBIL"),
        ("AL JABOURI", "HUSSEIN", "KADHIM", "SALEH"),
        ("ZAINAB", "ALI", "MARYAM", "HASSAN"),
    ),
    Issuer(
        "AFG",
        "P99999999",
        "9999999999",
        ("KABUL", "HERAT", "KANDAHAR", "MAZAR I SHARIF"),
        ("AHMADI", "RAHIMI", "KARIMI", "HAIDARI"),
        ("FATIMA", "MOHAMMAD", "SHABNAM", "FARID"),
    ),
    Issuer(
        "NGA",
        "A99999999",
        "99999999999",
        ("LAGOS", "ABUJA", "KANO", "IBADAN"),
        ("OKAFOR", "ADEYEMI", "BELLO", "OKONKWO"),
        ("CHIAMAKA", "EMEKA", "AISHA", "TUNDE"),
    ),
    Issuer(
        "PAK",
        "AA9999999",
        "9999999999999",
        ("KARACHI", "LAHORE", "ISLAMABAD", "PESHAWAR"),
        ("KHAN", "AHMED", "MALIK", "HUSSAIN"),
        ("AYESHA", "BILAL", "SANA", "USMAN"),
    ),
    Issuer(
        "IND",
        "A9999999",
        "999999999999",
        ("DELHI", "MUMBAI", "CHENNAI", "KOLKATA"),
        ("SHARMA", "PATEL", "SINGH", "KUMAR"),
        ("PRIYA", "RAHUL", "ANANYA", "ARJUN"),
    ),
    Issuer(
        "CHN",
        "E99999999",
        "999999999999999999",
        ("BEIJING", "SHANGHAI", "GUANGZHOU", "WUHAN"),
        ("WANG", "LI", "ZHANG", "LIU"),
        ("WEI", "FANG", "JING", "LEI"),
    ),
    Issuer(
        "BRA",
        "AA999999",
        "999999999",
        ("SAO PAULO", "RIO DE JANEIRO", "BRASILIA", "RECIFE"),
        ("SILVA", "SANTOS", "OLIVEIRA", "SOUZA"),
        ("ANA", "JOAO", "JULIANA", "PEDRO"),
    ),
    Issuer(
        "MAR",
        "AA9999999",
        "AA999999",
        ("CASABLANCA", "RABAT", "FES", "TANGER"),
        ("EL IDRISSI", "BENALI", "ALAOUI", "TAZI"),
        ("SALMA", "YOUSSEF", "IMANE", "HAMZA"),
    ),
    Issuer(
        "ERI",
        "99999999",
        "999999999",
        ("ASMARA", "KEREN", "MASSAWA", "MENDEFERA"),
        ("TESFAY", "GEBRE", "HAILE", "BERHANE"),
        ("SENAIT", "DAWIT", "MERON", "YONAS"),
    ),
)

TYPE_WEIGHTS = {
    "passport": 64, "identity_card": 20, "residence_permit": 5, "visa": 3,
    "diplomatic_passport": 1, "service_passport": 1, "emergency_passport": 2,
    "refugee_travel_document": 2, "seafarer_document": 1, "crew_certificate": 1,
}  # fmt: skip
STATUS_WEIGHTS = {"lost": 55, "stolen": 35, "revoked": 6, "invalidated": 4}
CIRCUMSTANCES = (
    "stolen from a car", "bag snatched at a station", "lost while travelling",
    "burglary at home", "stolen in transit from the printing works", "lost in the post",
    "pickpocketed in a market", "theft from a consulate", "reported by the holder",
)  # fmt: skip


def number_from_pattern(pattern: str, rng: random.Random) -> str:
    chars = []
    for symbol in pattern:
        if symbol == "9":
            chars.append(rng.choice(DIGITS))
        elif symbol == "A":
            chars.append(rng.choice(LETTERS))
        elif symbol == "X":
            chars.append(rng.choice(SAFE_ALNUM))
        else:
            chars.append(symbol)
    return "".join(chars)


class SyntheticRegistry:
    """Generates record rows (the import format) with unique documents."""

    def __init__(self, seed: int = 2026, today: date | None = None) -> None:
        self.rng = random.Random(seed)
        self.today = today or date.today()
        self._seen: set[tuple[str, str, str]] = set()
        self._ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._types = list(TYPE_WEIGHTS)
        self._type_weights = list(TYPE_WEIGHTS.values())
        self._statuses = list(STATUS_WEIGHTS)
        self._status_weights = list(STATUS_WEIGHTS.values())

    @property
    def countries(self) -> list[str]:
        return [issuer.country for issuer in ISSUERS]

    def records(self, count: int, *, ranges: int = 0) -> Iterator[dict[str, Any]]:
        """``count`` rows, of which ``ranges`` are serial ranges of stolen blank passports."""
        range_every = count // ranges if ranges else 0
        for index in range(count):
            if range_every and index % range_every == range_every - 1:
                yield self.blank_range()
            else:
                yield self.record()

    def record(self) -> dict[str, Any]:
        rng = self.rng
        issuer = rng.choice(ISSUERS)
        document_type = rng.choices(self._types, self._type_weights)[0]
        family = "passport" if "passport" in document_type or "refugee" in document_type else "id"
        pattern = issuer.passport if family == "passport" else issuer.identity
        number = self._unique(issuer.country, family, pattern)
        blank = document_type == "passport" and rng.random() < 0.02
        issued = self.today - timedelta(days=rng.randrange(30, 3650))
        event = issued + timedelta(days=rng.randrange(0, max((self.today - issued).days, 1)))
        row: dict[str, Any] = {
            "document_number": number,
            "issuing_country": issuer.country,
            "document_type": document_type,
            "status": "stolen" if blank else rng.choices(self._statuses, self._status_weights)[0],
            "blank": blank,
            "event_date": event,
            "event_place": rng.choice(issuer.cities),
            "event_country": issuer.country if rng.random() < 0.8 else rng.choice(ISSUERS).country,
            "circumstances": rng.choice(CIRCUMSTANCES),
            "incident_ref": f"{issuer.country}-{event.year}-{rng.randrange(1, 999_999):06d}",
        }
        if not blank:
            row.update(
                issue_date=issued,
                expiry_date=issued + timedelta(days=365 * rng.choice((5, 10)) - 1),
                holder_surname=rng.choice(issuer.surnames),
                holder_given_names=rng.choice(issuer.given_names),
                holder_birth_date=date(
                    rng.randrange(1950, 2006), rng.randrange(1, 13), rng.randrange(1, 29)
                ),
                holder_nationality=issuer.country,
            )
        return row

    def blank_range(
        self,
        issuer: Issuer | None = None,
        *,
        size: int | None = None,
        event: date | None = None,
        incident_ref: str | None = None,
    ) -> dict[str, Any]:
        """A batch of blank passports stolen in transit: one record for the whole range."""
        rng = self.rng
        issuer = issuer or rng.choice(ISSUERS)
        wanted = size
        while True:
            prefix = rng.choice(SAFE_LETTERS)
            size = wanted or rng.randrange(50, 501)
            start = rng.randrange(1, 9_999_000 - size)
            first, last = f"{prefix}{start:07d}", f"{prefix}{start + size - 1:07d}"
            taken = self._ranges.setdefault((issuer.country, prefix), [])
            key = (first, issuer.country, "passport")
            if key not in self._seen and all(start > e or start + size - 1 < s for s, e in taken):
                break
        taken.append((start, start + size - 1))
        self._seen.add(key)
        event = event or self.today - timedelta(days=rng.randrange(1, 2000))
        return {
            "document_number": first,
            "issuing_country": issuer.country,
            "document_type": "passport",
            "status": "stolen",
            "blank": True,
            "serial_end": last,
            "event_date": event,
            "event_place": rng.choice(issuer.cities),
            "event_country": issuer.country,
            "circumstances": "stolen in transit from the printing works",
            "incident_ref": incident_ref
            or f"{issuer.country}-{event.year}-B{rng.randrange(1, 99_999):05d}",
        }

    def unique_number(self, issuer: Issuer, family: str = "passport") -> str:
        """A number in ``issuer``'s pattern that no other generated record has."""
        pattern = issuer.passport if family == "passport" else issuer.identity
        return self._unique(issuer.country, family, pattern)

    def _unique(self, country: str, family: str, pattern: str) -> str:
        while True:
            number = number_from_pattern(pattern, self.rng)
            key = (number, country, family)
            if key not in self._seen:
                self._seen.add(key)
                return number
