"""Opening hit cases, in bulk, with their deadlines and the notices to both bureaus; adding
the sightings of documents whose case is open already."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent, record_events
from bordercheck.auth.policy import restricted_notice
from bordercheck.hits.events import SUMMARY_FIELDS, Notice, announce, restricted_for
from bordercheck.hits.models import DomesticRule, Hit, HitSighting, HitState, Source, open_key
from bordercheck.hits.notifications import notify_bureaus
from bordercheck.hits.rules import domestic_rules
from bordercheck.hits.sightings import Seen, add_sightings, open_cases, places_seen, sighting_row
from bordercheck.messaging.service import CentreNotes
from bordercheck.screening.querylog import NewHit as NewHit  # what screening found
from bordercheck.settings import Settings

# The query log's sources, as the hit workflow sees them: a person waiting at a desk, or not.
_SOURCES = {
    "desk": Source.DESK,
    "number": Source.DESK,
    "mrz": Source.DESK,
    "batch": Source.BATCH,
    "manifest": Source.MANIFEST,
    "kit": Source.KIT,
    "edge": Source.KIT,
}
_cases = cast(Table, Hit.__table__)
_INSERT_CASE = {
    name: dialect_insert(_cases)
    .on_conflict_do_nothing(index_elements=["open_key"])
    .returning(_cases.c.id, _cases.c.open_key)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


@dataclass(frozen=True)
class Deadlines:
    """How long the owner has to answer, when it is reminded, and when told of a case
    seen again at the same place."""

    answer: timedelta
    desk_answer: timedelta
    reminder_share: float
    resight_quiet: timedelta = timedelta(minutes=60)

    @classmethod
    def from_settings(cls, settings: Settings) -> Deadlines:
        return cls(
            answer=timedelta(hours=settings.hit_answer_hours),
            desk_answer=timedelta(minutes=settings.desk_hit_answer_minutes),
            reminder_share=settings.hit_reminder_share,
            resight_quiet=timedelta(minutes=settings.hit_resight_quiet_minutes),
        )

    def for_case(self, source: str, opened: datetime) -> tuple[datetime, datetime]:
        """When to remind the owner, and when the answer is due."""
        within = self.desk_answer if source == Source.DESK.value else self.answer
        return opened + within * self.reminder_share, opened + within


def source_of(query_source: str) -> str:
    # Unknown sources count as a desk: the shorter deadline errs on the side of the
    # traveller kept waiting.
    return _SOURCES.get(query_source, Source.DESK).value


@dataclass(frozen=True)
class CaseOpener:
    """Opens the cases of what screening found: the query log calls it with the hits of the
    entries it writes, in their transaction (wired where the app or a command is built)."""

    deadlines: Deadlines
    notes: CentreNotes

    @classmethod
    def from_settings(cls, settings: Settings) -> CaseOpener:
        return cls(Deadlines.from_settings(settings), CentreNotes.from_settings(settings))

    def __call__(self, session: Session, hits: Sequence[NewHit]) -> None:
        open_hits(session, hits, deadlines=self.deadlines, notes=self.notes)


def open_hits(
    session: Session, hits: Iterable[NewHit], *, deadlines: Deadlines, notes: CentreNotes
) -> int:
    """Open a case for each hit and notify both bureaus; returns how many were opened.

    A hit on a document whose case is still open for the same querying bureau opens none:
    it is added to that case as a sighting (``hits.sightings``). Called by the query log
    writer for a whole batch at once, and only with the queries that hit: one look-up for
    the open cases, one INSERT … RETURNING for the new ones, one for the sightings, one for
    the notifications and one for the webhook outbox, and the audit entries appended
    together, whatever the batch's size.
    """
    new = list(hits)
    if not new:
        return 0
    seen = _by_domestic_rule(session, [(h, source_of(h.source)) for h in new])
    if not seen:
        return 0
    # One case per document and querying bureau: the first screening opens it (unless a
    # case is open already), the others are its sightings.
    groups: dict[str, list[tuple[NewHit, str]]] = {}
    for h, source in seen:
        key = open_key(h.record_id, h.querying_bureau, h.document_number)
        groups.setdefault(key, []).append((h, source))
    found = open_cases(session, list(groups))
    rows = {
        key: _case_row(key, group[0][0], group[0][1], deadlines)
        for key, group in groups.items()
        if key not in found
    }
    opened = _insert_cases(session, rows)
    # Opened meanwhile by a concurrent transaction (its row made ours conflict): join it.
    late = [key for key in rows if key not in opened]
    rows = {key: row for key, row in rows.items() if key in opened}
    followed = [key for key in rows if len(groups[key]) > 1]
    found.update(open_cases(session, late + followed))
    sightings = [sighting_row(opened[key], _seen(*groups[key][0]), notified=True) for key in rows]
    if sightings:
        session.execute(insert(HitSighting), sightings)
    later = [
        (found[key], [_seen(h, source) for h, source in group[0 if key not in rows else 1 :]])
        for key, group in groups.items()
        if key in found
    ]
    quiet = deadlines.resight_quiet
    sighted = add_sightings(
        session, later, places=places_seen(session, [hit.id for hit, _ in later]), quiet=quiet
    )
    notices = [_opened(opened[key], row) for key, row in rows.items()] + sighted.notices
    posted = announce(session, notices, max(h.at for h in new), notes)
    # Last: appending holds the audit trail's head until the query log's transaction commits.
    record_events(
        session,
        [_opened_entry(opened[key], row) for key, row in rows.items()] + sighted.audit + posted,
    )
    return len(rows)


def _case_row(key: str, h: NewHit, source: str, deadlines: Deadlines) -> dict[str, object]:
    remind_at, due_at = deadlines.for_case(source, h.at)
    return {
        "query_id": h.query_id,
        "record_id": h.record_id,
        "owner_bureau": h.owner_bureau,
        "querying_bureau": h.querying_bureau,
        "queried_by": h.queried_by,
        "match": h.match,
        "score": h.score,
        "location": h.location,
        "operation_id": h.operation_id,
        "state": HitState.OPEN.value,
        "created_at": h.at,
        "source": source,
        "manifest_id": h.manifest_id,
        "flight": h.flight,
        "withheld": h.withheld,
        "due_at": due_at,
        "remind_at": remind_at,
        "domestic": h.owner_bureau == h.querying_bureau,
        "sightings": 1,
        "last_seen_at": h.at,
        "open_key": key,
    }


def _insert_cases(session: Session, rows: dict[str, dict[str, object]]) -> dict[str, int]:
    """Insert the new cases; a key another transaction opened a case for meanwhile is left
    out (the unique ``open_key`` makes the insert wait for that transaction, then skip)."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    statement = _INSERT_CASE.get(dialect)
    if statement is None:  # pragma: no cover (SQLite and PostgreSQL are the databases)
        raise RuntimeError(f"hit cases cannot be opened on {dialect}")
    # In the keys' order, the same in every transaction: two batches opening the same two
    # cases wait on each other's keys in turn, never each on the other's.
    done = session.execute(statement, [rows[key] for key in sorted(rows)])
    return {str(key): int(hit_id) for hit_id, key in done}


def _seen(h: NewHit, source: str) -> Seen:
    return Seen(h.query_id, h.at, h.location, source, h.queried_by, h.operation_id, h.withheld)


def _by_domestic_rule(session: Session, seen: list[tuple[NewHit, str]]) -> list[tuple[NewHit, str]]:
    """Apply each bureau's rule to the hits on its own records by its own officers."""
    domestic = {h.owner_bureau for h, _ in seen if h.owner_bureau == h.querying_bureau}
    if not domestic:
        return seen
    rules = domestic_rules(session, domestic)
    kept: list[tuple[NewHit, str]] = []
    told: dict[str, NewHit] = {}
    for h, source in seen:
        rule = rules[h.owner_bureau] if h.owner_bureau == h.querying_bureau else None
        if rule is DomesticRule.NOTIFY_ONLY:
            told.setdefault(open_key(h.record_id, h.querying_bureau, h.document_number), h)
        elif rule is not DomesticRule.IGNORE:
            kept.append((h, source))
    for h in told.values():
        where = f" at {h.location}" if h.location else ""
        notify_bureaus(
            session, [h.owner_bureau], "hit.domestic",
            f"Your screening{where} matched your own record {h.record_id} ({h.match}); no "
            "case opened (your bureau's rule for domestic hits)",
            h.at,
        )  # fmt: skip
    return kept


def _opened_entry(hit_id: int, row: dict[str, object]) -> AuditEvent:
    # The case belongs to the record's owner, who must answer it; the querying side's
    # screening is in the query log.
    details = {
        "record_id": row["record_id"],
        "query_id": row["query_id"],
        "querying_bureau": row["querying_bureau"],
        "match": row["match"],
        "source": row["source"],
    }
    return AuditEvent(
        actor=str(row["queried_by"]),
        bureau_code=str(row["owner_bureau"]),
        action="hit.opened",
        subject=f"hit:{hit_id}",
        details=details,
    )


def hits_for_query(session: Session, query_id: str) -> list[Hit]:
    """The cases a query opened or was added to as a sighting."""
    query = (
        select(Hit)
        .join(HitSighting, HitSighting.hit_id == Hit.id)
        .where(HitSighting.query_id == query_id)
        .order_by(Hit.id)
        .distinct()
    )
    return list(session.scalars(query))


def _opened(hit_id: int, row: dict[str, object]) -> Notice:
    summary = {name: row.get(name) for name in SUMMARY_FIELDS} | {"id": hit_id}
    where = f" at {row['location']}" if row["location"] else ""
    due = f"{row['due_at']:%Y-%m-%d %H:%M} UTC"
    owner, querying = str(row["owner_bureau"]), str(row["querying_bureau"])
    hidden = restricted_for(owner, querying, bool(row["withheld"]))
    texts = {
        owner: (
            f"Hit {hit_id}: a {querying} screening{where} matched your record "
            f"{row['record_id']} ({row['match']}); confirm it by {due}"
        ),
    }
    if querying != owner:
        said = f" ({restricted_notice(owner)})" if querying in hidden else ""
        texts[querying] = (
            f"Hit {hit_id}: your screening{where} matched a {owner} record{said}; "
            f"the {owner} bureau answers by {due}"
        )
    # The thread is read by both bureaus: the match's kind only if neither is withheld it.
    kind = restricted_notice(owner) if hidden else row["match"]
    thread = (
        f"Hit {hit_id} opened: a {querying} screening{where} matched a {owner} record "
        f"({kind}); the {owner} bureau answers by {due}"
    )
    return Notice(
        "hit.opened", hit_id, summary, texts, thread, tuple(dict.fromkeys((owner, querying))),
        hidden,
    )  # fmt: skip
