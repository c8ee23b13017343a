"""Opening hit cases, in bulk, with their deadlines and the notices to both bureaus."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent, record_events
from bordercheck.auth.policy import restricted_notice
from bordercheck.hits.events import SUMMARY_FIELDS, Notice, announce, restricted_for
from bordercheck.hits.models import Hit, HitState, Source
from bordercheck.screening.models import ScreeningQuery
from bordercheck.settings import Settings, get_settings

# The query log's sources, as the hit workflow sees them: a person waiting at a desk, or not.
_SOURCES = {
    "number": Source.DESK,
    "mrz": Source.DESK,
    "batch": Source.BATCH,
    "manifest": Source.MANIFEST,
    "kit": Source.KIT,
    "edge": Source.KIT,
}
_IN_CHUNK = 500  # query ids per IN (...) look-up


@dataclass(frozen=True)
class NewHit:
    query_id: str
    record_id: int
    owner_bureau: str
    querying_bureau: str
    queried_by: str
    match: str
    score: float
    location: str | None
    operation_id: str | None
    at: datetime
    source: str | None = None  # None: from the query log entry of ``query_id``
    manifest_id: int | None = None
    flight: str | None = None
    # Screening answered the querying bureau "possible hit, restricted": the owner withholds
    # the record's details from it, so the case must not tell them either.
    withheld: bool = False


@dataclass(frozen=True)
class Deadlines:
    """How long the owner has to answer, and when it is reminded."""

    answer: timedelta
    desk_answer: timedelta
    reminder_share: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Deadlines:
        return cls(
            answer=timedelta(hours=settings.hit_answer_hours),
            desk_answer=timedelta(minutes=settings.desk_hit_answer_minutes),
            reminder_share=settings.hit_reminder_share,
        )

    def for_case(self, source: str, opened: datetime) -> tuple[datetime, datetime]:
        """When to remind the owner, and when the answer is due."""
        within = self.desk_answer if source == Source.DESK.value else self.answer
        return opened + within * self.reminder_share, opened + within


def source_of(query_source: str | None) -> str:
    # Unknown sources count as a desk: the shorter deadline errs on the side of the
    # traveller kept waiting.
    return _SOURCES.get(query_source or "", Source.DESK).value


def open_hits(
    session: Session, hits: Iterable[NewHit], *, deadlines: Deadlines | None = None
) -> int:
    """Open a case for each hit and notify both bureaus; returns how many were opened.

    Called by the query log writer for a whole batch at once: one INSERT … RETURNING for the
    cases, one for the notifications, one for the webhook outbox, and one audit entry per
    case appended together (three statements for the batch, whatever its size).
    """
    new = list(hits)
    if not new:
        return 0
    # The query log writer is handed no settings; like the audit trail, fall back on the
    # process's own (a deployment runs every process with the same environment).
    deadlines = deadlines or Deadlines.from_settings(get_settings())
    sources = _query_sources(session, [h.query_id for h in new if h.source is None])
    rows = []
    for h in new:
        source = h.source or source_of(sources.get(h.query_id))
        remind_at, due_at = deadlines.for_case(source, h.at)
        rows.append(
            {
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
            }
        )
    ids = session.scalars(insert(Hit).returning(Hit.id, sort_by_parameter_order=True), rows).all()
    notices = [_opened(hit_id, row) for hit_id, row in zip(ids, rows, strict=True)]
    announce(session, notices, max(h.at for h in new))
    # Last: appending holds the audit trail's head until the query log's transaction commits.
    record_events(
        session, [_opened_entry(hit_id, row) for hit_id, row in zip(ids, rows, strict=True)]
    )
    return len(rows)


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
    return list(session.scalars(select(Hit).where(Hit.query_id == query_id).order_by(Hit.id)))


def _query_sources(session: Session, query_ids: list[str]) -> dict[str, str]:
    # The query log entry is written in the same transaction, just before the cases; the
    # screening request does not say where it came from otherwise.
    found: dict[str, str] = {}
    unique = sorted(set(query_ids))
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start : start + _IN_CHUNK]
        query = select(ScreeningQuery.id, ScreeningQuery.source).where(ScreeningQuery.id.in_(chunk))
        found.update((query_id, source) for query_id, source in session.execute(query))
    return found


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
