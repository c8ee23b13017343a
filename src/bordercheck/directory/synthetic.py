"""A few made-up focal points per bureau, for the demo and the training sandbox."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.orm import Session

from bordercheck.auth.actors import Actor
from bordercheck.directory import service
from bordercheck.directory.models import Topic
from bordercheck.directory.schemas import EntryFields
from bordercheck.timestamps import utcnow

# Country: its language, a time zone, its calling code. Others get English and UTC.
LOCALES: dict[str, tuple[str, str, str]] = {
    "DEU": ("de", "Europe/Berlin", "49"),
    "FRA": ("fr", "Europe/Paris", "33"),
    "GBR": ("en", "Europe/London", "44"),
    "ITA": ("it", "Europe/Rome", "39"),
    "ESP": ("es", "Europe/Madrid", "34"),
    "NLD": ("nl", "Europe/Amsterdam", "31"),
    "POL": ("pl", "Europe/Warsaw", "48"),
    "ROU": ("ro", "Europe/Bucharest", "40"),
    "TUR": ("tr", "Europe/Istanbul", "90"),
    "UKR": ("uk", "Europe/Kyiv", "380"),
    "SYR": ("ar", "Asia/Damascus", "963"),
    "IRQ": ("ar", "Asia/Baghdad", "964"),
    "AFG": ("ps", "Asia/Kabul", "93"),
    "NGA": ("en", "Africa/Lagos", "234"),
    "PAK": ("ur", "Asia/Karachi", "92"),
    "IND": ("hi", "Asia/Kolkata", "91"),
    "CHN": ("zh", "Asia/Shanghai", "86"),
    "BRA": ("pt", "America/Sao_Paulo", "55"),
    "MAR": ("ar", "Africa/Casablanca", "212"),
    "ERI": ("ti", "Africa/Asmara", "291"),
}
GIVEN = ("Anna", "Luc", "Maria", "Omar", "Jana", "Pedro", "Aylin", "Tomasz", "Sara", "Ivan")
FAMILY = ("Keller", "Martin", "Rossi", "Haddad", "Novak", "Silva", "Demir", "Kowalski", "Ali")
ROLES = (
    ("Focal point, migrant smuggling", "Unit against smuggling of migrants", [
        Topic.MIGRANT_SMUGGLING, Topic.ILLEGAL_MIGRATION,
    ]),
    ("Document fraud expert", "Document examination unit", [
        Topic.DOCUMENT_FRAUD, Topic.STOLEN_DOCUMENTS,
    ]),
)  # fmt: skip


def add_demo_entries(
    session: Session, actor: Actor, countries: Iterable[str], seed: int = 2026
) -> int:
    """Two entries per bureau, some of them stale; returns how many were added."""
    rng = random.Random(seed)
    today = utcnow().date()
    added = 0
    for country in countries:
        language, zone, calling = LOCALES.get(country, ("en", "UTC", "1"))
        for function, unit, topics in ROLES:
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            fields = EntryFields(
                name=f"{given} {family}",
                function=function,
                unit=unit,
                topics=topics,
                languages=list(dict.fromkeys([language, "en"])),
                phone=f"+{calling} {rng.randrange(10**7, 10**8)}",
                email=f"{given}.{family}@ncb-{country.lower()}.example".lower(),
                hours=rng.choice(["Mon-Fri 08:00-17:00", "24/7", "Mon-Sat 07:00-19:00"]),
                time_zone=zone,
                # About one in five not confirmed for over a year: the flag shows in the demo.
                last_confirmed=today - timedelta(days=rng.choice([10, 60, 200, 300, 420])),
            )
            service.add_entry(session, actor, fields, bureau=country, today=today)
            added += 1
    return added
