"""The owner's deadline: a reminder before it, escalation to the secretariat after it.

``sweep`` is run every ``BORDERCHECK_HIT_SWEEP_SECONDS`` by each API process and by
``bordercheck hits sweep``; it is safe to run in several places at once (rows it works on
are locked, and each case is reminded and escalated once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent, record_events
from bordercheck.hits.events import Notice, announce, case_restricted_for, summary_of
from bordercheck.hits.models import Hit, HitState

SYSTEM_ACTOR = "system:hit-sweep"


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    escalated: int


def sweep(session: Session, now: datetime, *, secretariat: str, limit: int = 10_000) -> SweepReport:
    """Remind owners of cases due soon; escalate the cases past their deadline."""
    open_ = Hit.state == HitState.OPEN.value
    due_soon = session.scalars(
        select(Hit)
        .where(open_, Hit.reminded_at.is_(None), Hit.remind_at <= now, Hit.due_at > now)
        .order_by(Hit.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    notices = []
    for hit in due_soon:
        hit.reminded_at = now
        text = (
            f"Reminder: hit {hit.id} on your record {hit.record_id} is due at {_time(hit.due_at)}"
        )
        notices.append(Notice("hit.reminder", hit.id, summary_of(hit), {hit.owner_bureau: text}))
    overdue = session.scalars(
        select(Hit)
        .where(open_, Hit.escalated_at.is_(None), Hit.due_at <= now)
        .order_by(Hit.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for hit in overdue:
        hit.escalated_at = now
        late = f"hit {hit.id} was not answered by {_time(hit.due_at)}"
        texts = {
            hit.querying_bureau: f"Escalated: {late}; the secretariat follows it up",
            hit.owner_bureau: f"Escalated: {late}; answer it now (record {hit.record_id})",
            secretariat: (
                f"Escalated: {late} by the {hit.owner_bureau} bureau "
                f"(screening by {hit.querying_bureau})"
            ),
        }
        notices.append(
            Notice("hit.escalated", hit.id, summary_of(hit), texts,
                   restricted_for=case_restricted_for(hit))
        )  # fmt: skip
    session.flush()
    announce(session, notices, now)
    # One append for the whole sweep: reminders and escalations change the cases.
    record_events(
        session,
        [
            AuditEvent(SYSTEM_ACTOR, hit.owner_bureau, "hit.reminded", f"hit:{hit.id}",
                       {"due_at": hit.due_at})
            for hit in due_soon
        ]
        + [
            AuditEvent(SYSTEM_ACTOR, hit.owner_bureau, "hit.escalated", f"hit:{hit.id}",
                       {"due_at": hit.due_at, "secretariat": secretariat})
            for hit in overdue
        ],
    )  # fmt: skip
    return SweepReport(reminded=len(due_soon), escalated=len(overdue))


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
