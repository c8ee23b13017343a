"""The contact directory: each bureau keeps its own focal points; everyone signed in reads.

Helpers here never commit. Every change is written to the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.directory.models import DirectoryEntry, Topic
from bordercheck.directory.schemas import EntryFields, language_codes
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.errors import FieldError, Forbidden, NotFound, ValidationFailed
from bordercheck.timestamps import utcnow

# Everyone signed in but partner organisations' accounts reads the directory (people, not API
# clients); these keep it, each bureau its own entries.
READERS = tuple(role for role in Role if role is not Role.PARTNER)
KEEPERS = (Role.ADMIN, Role.BUREAU_OFFICER)

# An entry not confirmed for this long is flagged: people move on, numbers change.
STALE_AFTER_MONTHS = 12
# Fields whose changes the audit trail names (never their values: see record changes).
EDITABLE = (
    "name",
    "function",
    "unit",
    "topics",
    "languages",
    "phone",
    "email",
    "hours",
    "time_zone",
)


def stale_on_or_before(today: date) -> date:
    """Entries last confirmed on or before this day are stale (12 months ago today)."""
    try:
        return today.replace(year=today.year - STALE_AFTER_MONTHS // 12)
    except ValueError:  # 29 February
        return today.replace(year=today.year - STALE_AFTER_MONTHS // 12, day=28)


def is_stale(entry: DirectoryEntry, today: date) -> bool:
    return entry.last_confirmed <= stale_on_or_before(today)


def topics_of(entry: DirectoryEntry) -> list[str]:
    return entry.topics.split()


def languages_of(entry: DirectoryEntry) -> list[str]:
    return entry.languages.split()


def ensure_may_change(actor: Actor, bureau_code: str) -> None:
    """Only the bureau itself keeps its entries; administrators may act for any."""
    if actor.role is Role.ADMIN:
        return
    if actor.role not in KEEPERS:
        raise Forbidden(
            f"{actor.name} ({actor.role.value}) may not change the contact directory; "
            "its entries are kept by bureau officers"
        )
    if actor.bureau_code != bureau_code:
        raise Forbidden(
            f"bureau {actor.bureau_code} may not change directory entries of {bureau_code}; "
            f"only the {bureau_code} bureau may",
            bureau=bureau_code,
        )


def get_entry(session: Session, entry_id: int) -> DirectoryEntry:
    entry = session.get(DirectoryEntry, entry_id)
    if entry is None:
        raise NotFound(f"there is no directory entry {entry_id}", entry_id=entry_id)
    return entry


def add_entry(
    session: Session,
    actor: Actor,
    fields: EntryFields,
    *,
    bureau: str | None = None,
    today: date | None = None,
) -> DirectoryEntry:
    """A new focal point of ``bureau`` (default: the actor's own)."""
    code = auth_service.bureau_for_country(session, bureau or actor.bureau_code).country_code
    ensure_may_change(actor, code)
    today = today or utcnow().date()
    confirmed = fields.last_confirmed or today
    if confirmed > today:
        raise ValidationFailed(
            errors=[FieldError(field="last_confirmed", reason="cannot be in the future")]
        )
    now = utcnow()
    entry = DirectoryEntry(
        bureau_code=code,
        **_columns(fields.model_dump(include=set(EDITABLE))),
        last_confirmed=confirmed,
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        updated_by=actor.name,
    )
    session.add(entry)
    session.flush()
    _audit(session, actor, entry, "directory.added", name=entry.name)
    return entry


def update_entry(
    session: Session, actor: Actor, entry_id: int, changes: dict[str, Any]
) -> DirectoryEntry:
    """Change the given fields (already checked by ``EntryChanges``)."""
    entry = get_entry(session, entry_id)
    ensure_may_change(actor, entry.bureau_code)
    columns = _columns({k: v for k, v in changes.items() if k in EDITABLE and v is not None})
    changed = sorted(name for name, value in columns.items() if getattr(entry, name) != value)
    if not changed:
        return entry
    for name in changed:
        setattr(entry, name, columns[name])
    entry.updated_at = utcnow()
    entry.updated_by = actor.name
    session.flush()
    _audit(session, actor, entry, "directory.updated", fields=changed)
    return entry


def confirm_entry(
    session: Session, actor: Actor, entry_id: int, *, today: date | None = None
) -> DirectoryEntry:
    """The bureau confirms the entry is still right: it is no longer stale."""
    entry = get_entry(session, entry_id)
    ensure_may_change(actor, entry.bureau_code)
    entry.last_confirmed = today or utcnow().date()
    entry.updated_at = utcnow()
    entry.updated_by = actor.name
    session.flush()
    _audit(session, actor, entry, "directory.confirmed", last_confirmed=entry.last_confirmed)
    return entry


def delete_entry(session: Session, actor: Actor, entry_id: int) -> None:
    """Remove the entry; the audit trail keeps who it was and who removed it."""
    entry = get_entry(session, entry_id)
    ensure_may_change(actor, entry.bureau_code)
    _audit(session, actor, entry, "directory.deleted", name=entry.name)
    session.delete(entry)
    session.flush()


def check_filters(country: str | None, language: str | None) -> tuple[str | None, str | None]:
    """A search's country and language as codes; 422 naming each one that is not."""
    errors = []
    if country is not None:
        try:
            country = normalise_country(country)
        except InvalidCountry as exc:
            errors.append(FieldError(field="country", reason=str(exc)))
    if language is not None:
        language = language.strip().lower()
        if language not in language_codes():
            reason = f"{language!r} is not an ISO 639-1 language code (two letters, e.g. en)"
            errors.append(FieldError(field="language", reason=reason))
    if errors:
        raise ValidationFailed(errors=errors)
    return country, language


def bureau_names(session: Session) -> dict[str, str]:
    return {b.country_code: b.name for b in auth_service.list_bureaus(session)}


def search_entries(
    session: Session,
    *,
    today: date,
    country: str | None = None,
    topic: Topic | None = None,
    language: str | None = None,
    stale: bool | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[DirectoryEntry]:
    """Entries by bureau, then name. ``topic`` and ``language`` must already be valid codes."""
    query = select(DirectoryEntry)
    if country is not None:
        query = query.where(DirectoryEntry.bureau_code == country)
    # The codes are stored space-separated: padded with spaces, one LIKE finds a whole code.
    if topic is not None:
        query = query.where((literal(" ") + DirectoryEntry.topics + " ").like(f"% {topic.value} %"))
    if language is not None:
        query = query.where((literal(" ") + DirectoryEntry.languages + " ").like(f"% {language} %"))
    if stale is not None:
        cutoff = stale_on_or_before(today)
        query = query.where(
            DirectoryEntry.last_confirmed <= cutoff
            if stale
            else DirectoryEntry.last_confirmed > cutoff
        )
    query = query.order_by(DirectoryEntry.bureau_code, DirectoryEntry.name, DirectoryEntry.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Lists of codes as the space-separated text they are stored as."""
    return {
        name: " ".join(str(v) for v in value) if isinstance(value, list) else value
        for name, value in values.items()
    }


def _audit(
    session: Session, actor: Actor, entry: DirectoryEntry, action: str, **details: Any
) -> None:
    record_event(
        session,
        actor=actor.name,
        bureau_code=entry.bureau_code,
        action=action,
        subject=f"directory:{entry.id}",
        details=details,
    )
