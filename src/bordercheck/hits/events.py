"""Telling bureaus what happened to a case: a console notification for each bureau concerned
and, for bureaus with a webhook, an event in the outbox, in the transaction of the change.

Writing the outbox row with the change (not POSTing from the request) means an event is
sent if and only if the change was committed, and a receiver that is down gets it later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent
from bordercheck.auth.policy import details_withheld, restricted_notice
from bordercheck.hits.models import Delivery, DeliveryState, Hit, Notification, Webhook
from bordercheck.logs import get_logger
from bordercheck.messaging.service import CentreNotes, post_hit_event

log = get_logger(__name__)

# What a webhook event says about a case: enough to act on and to fetch the rest with a
# token (GET /api/v1/hits/{id}); never the record's details, which stay behind access control.
SUMMARY_FIELDS = (
    "id", "state", "record_id", "owner_bureau", "querying_bureau", "match", "source",
    "location", "operation_id", "manifest_id", "flight", "created_at", "due_at", "answer",
    "action", "answered_at", "outcome", "outcome_at", "escalated_at", "domestic", "sightings",
    "last_seen_at",
)  # fmt: skip
TEXT_LENGTH = 500


@dataclass(frozen=True)
class Notice:
    """One event of one case, and what each bureau concerned is told about it."""

    kind: str
    hit_id: int
    summary: Mapping[str, Any]
    texts: Mapping[str, str]  # bureau code -> the line its console shows
    # For the case's message thread, which both bureaus read: says nothing one of them may
    # not know (a withheld record's id). None: the event is not posted to the thread.
    thread_text: str | None = None
    thread_bureaus: tuple[str, ...] = ()
    # Bureaus the record's details are withheld from: their events carry the restricted form.
    restricted_for: frozenset[str] = frozenset()


def summary_of(hit: Hit) -> dict[str, Any]:
    return {name: getattr(hit, name) for name in SUMMARY_FIELDS}


def restricted_for(owner: str, querying: str, withheld: bool) -> frozenset[str]:
    """The case's bureaus that may not see the record's details (the querying one, if the
    owner withheld them from it when its screening opened the case)."""
    withheld_from = (querying,) if withheld else ()
    return frozenset(b for b in (owner, querying) if details_withheld(b, owner, withheld_from))


def case_restricted_for(hit: Hit) -> frozenset[str]:
    return restricted_for(hit.owner_bureau, hit.querying_bureau, hit.withheld)


def restricted_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A case's summary as a country the record is withheld from may see it."""
    owner = str(summary["owner_bureau"])
    return dict(summary) | {
        "record_id": None,
        "match": "restricted",
        "message": restricted_notice(owner),
    }


def announce(
    session: Session, notices: Sequence[Notice], now: datetime, notes: CentreNotes | None = None
) -> list[AuditEvent]:
    """Notify every bureau concerned, queue the webhook events, in bulk, and post the notices'
    notes to the hits' threads with ``notes`` (needed when a notice has one).

    Returns the audit entries of the notes posted, for the caller to append with its own:
    one append per transaction, however many cases it touched.
    """
    if not notices:
        return []
    session.execute(
        insert(Notification),
        [
            {
                "bureau_code": bureau,
                "kind": notice.kind,
                "hit_id": notice.hit_id,
                "text": text[:TEXT_LENGTH],
                "created_at": now,
            }
            for notice in notices
            for bureau, text in notice.texts.items()
        ],
    )
    bureaus = {bureau for notice in notices for bureau in notice.texts}
    hooked = set(
        session.scalars(select(Webhook.bureau_code).where(Webhook.bureau_code.in_(bureaus)))
    )
    deliveries = [
        {
            "bureau_code": bureau,
            "event": notice.kind,
            "hit_id": notice.hit_id,
            "payload": _payload(notice, bureau, text, now),
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for notice in notices
        for bureau, text in notice.texts.items()
        if bureau in hooked
    ]
    if deliveries:
        session.execute(insert(Delivery), deliveries)
    posted = []
    for notice in notices:
        if notice.thread_text is not None:
            if notes is None:
                raise ValueError(f"{notice.kind} has a note for the hit's thread: give notes")
            entry = _post_to_thread(session, notes, notice)
            if entry is not None:
                posted.append(entry)
    return posted


def _post_to_thread(session: Session, notes: CentreNotes, notice: Notice) -> AuditEvent | None:
    # The case, its notifications and its webhook events are the record of the event; a
    # thread that cannot take the note must not undo them (nor hold up the query log that
    # opens cases), so the note is posted in a savepoint and a failure logged.
    try:
        with session.begin_nested():
            return post_hit_event(
                session,
                notes,
                hit_id=notice.hit_id,
                bureaus=notice.thread_bureaus,
                text=notice.thread_text or "",
            )
    except Exception as exc:
        log.error(
            "hit event not posted to the hit's thread",
            hit_id=notice.hit_id,
            kind=notice.kind,
            error=(str(exc).splitlines() or [type(exc).__name__])[0],
        )
        return None


def _payload(notice: Notice, bureau: str, text: str, now: datetime) -> str:
    body = {
        "event": notice.kind,
        "at": now,
        "bureau": bureau,
        "text": text,
        "hit": (
            restricted_summary(notice.summary)
            if bureau in notice.restricted_for
            else dict(notice.summary)
        ),
    }
    return orjson.dumps(body, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z).decode()
