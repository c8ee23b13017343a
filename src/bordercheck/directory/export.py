"""The directory as vCard 4.0 (RFC 6350) and as CSV, for phones, mail clients and sheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from bordercheck.directory.models import DirectoryEntry
from bordercheck.directory.service import is_stale, languages_of, topics_of
from bordercheck.spreadsheets import protect

CSV_COLUMNS = (
    "id",
    "country",
    "bureau",
    "name",
    "function",
    "unit",
    "topics",
    "languages",
    "phone",
    "email",
    "hours",
    "time_zone",
    "last_confirmed",
    "stale",
)
# RFC 6350 3.2: lines longer than 75 octets are folded.
_FOLD_OCTETS = 75


def escape_text(value: str) -> str:
    """RFC 6350 3.4: backslash, comma, semicolon and newline are escaped in text values."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        # Continuation lines start with a space, which counts towards their 75 octets.
        limit = _FOLD_OCTETS if not parts else _FOLD_OCTETS - 1
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def vcard(entry: DirectoryEntry, bureau_name: str, today: date) -> str:
    """One entry as a vCard 4.0, lines ending in CRLF."""
    topics = topics_of(entry)
    note = f"Hours: {entry.hours} ({entry.time_zone}). Topics: {', '.join(topics)}."
    if is_stale(entry, today):
        note += f" Not confirmed since {entry.last_confirmed.isoformat()}."
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "KIND:individual",
        f"UID:urn:bordercheck:directory:{entry.id}",
        f"FN:{escape_text(entry.name)}",
        f"TITLE:{escape_text(entry.function)}",
        f"ORG:{escape_text(bureau_name)};{escape_text(entry.unit)}",
        f"TEL;VALUE=uri;TYPE=work,voice:tel:{entry.phone}",
        f"EMAIL;TYPE=work:{escape_text(entry.email)}",
        *(f"LANG;PREF={rank}:{code}" for rank, code in enumerate(languages_of(entry), start=1)),
        f"TZ;VALUE=text:{escape_text(entry.time_zone)}",
        f"CATEGORIES:{','.join(escape_text(t) for t in topics)}",
        f"NOTE:{escape_text(note)}",
        f"REV:{_timestamp(entry.updated_at)}",
        "END:VCARD",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def vcards(entries: Iterable[DirectoryEntry], bureaus: Mapping[str, str], today: date) -> str:
    return "".join(vcard(e, bureaus.get(e.bureau_code, e.bureau_code), today) for e in entries)


def csv_text(entries: Iterable[DirectoryEntry], bureaus: Mapping[str, str], today: date) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.id,
                entry.bureau_code,
                protect(bureaus.get(entry.bureau_code, entry.bureau_code)),
                protect(entry.name),
                protect(entry.function),
                protect(entry.unit),
                " ".join(topics_of(entry)),
                " ".join(languages_of(entry)),
                entry.phone,  # E.164, checked: digits after the "+"
                protect(entry.email),
                protect(entry.hours),
                entry.time_zone,
                entry.last_confirmed.isoformat(),
                "yes" if is_stale(entry, today) else "no",
            ]
        )
    return buffer.getvalue()
