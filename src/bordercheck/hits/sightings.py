"""Sightings: a document screened again by the same bureau while its case is open is added
to that case instead of opening another, and the owner is told again only when it is worth
it (a new place, or after a quiet period)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent
from bordercheck.hits.events import Notice, case_restricted_for, summary_of
from bordercheck.hits.models import Hit, HitSighting

SHOWN = 100  # sightings a case's page lists, newest first; the count says how many in all
_IN_CHUNK = 500


@dataclass(frozen=True)
class Seen:
    """One screening's hit, as a sighting: when, where, from what, by whom."""

    query_id: str
    at: datetime
    location: str | None
    source: str
    queried_by: str
    operation_id: str | None
    withheld: bool


@dataclass(frozen=True)
class Sighted:
    """What adding sightings to open cases wrote: the notices to send and the audit entries."""

    notices: list[Notice]
    audit: list[AuditEvent]


def open_cases(session: Session, keys: Sequence[str]) -> dict[str, Hit]:
    """The cases open for these keys, locked until the transaction ends (a concurrent
    screening of the same document waits, then adds its sighting after this one)."""
    found: dict[str, Hit] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), _IN_CHUNK):
        query = (
            select(Hit)
            .where(Hit.open_key.in_(unique[start : start + _IN_CHUNK]))
            .order_by(Hit.id)
            .with_for_update()
        )
        found.update((hit.open_key or "", hit) for hit in session.scalars(query))
    return found


def places_seen(session: Session, hit_ids: Sequence[int]) -> dict[int, set[str]]:
    places: dict[int, set[str]] = {hit_id: set() for hit_id in hit_ids}
    unique = sorted(set(hit_ids))
    for start in range(0, len(unique), _IN_CHUNK):
        query = (
            select(HitSighting.hit_id, HitSighting.location)
            .where(
                HitSighting.hit_id.in_(unique[start : start + _IN_CHUNK]),
                HitSighting.location.is_not(None),
            )
            .distinct()
        )
        for hit_id, location in session.execute(query):
            places[hit_id].add(str(location))
    return places


def worth_telling(seen: Seen, places: set[str], last_seen: datetime, quiet: timedelta) -> bool:
    """A sighting the owner hears of: at a place the case was not seen at, or after the
    case was quiet (no sighting) for ``quiet``."""
    new_place = seen.location is not None and seen.location not in places
    return new_place or seen.at - last_seen >= quiet


def add_sightings(
    session: Session,
    cases: Sequence[tuple[Hit, Sequence[Seen]]],
    *,
    places: dict[int, set[str]],
    quiet: timedelta,
) -> Sighted:
    """Add each case's new sightings, count them on the case, and say whom to tell."""
    rows: list[dict[str, Any]] = []
    notices: list[Notice] = []
    audit: list[AuditEvent] = []
    for hit, seen in cases:
        seen_at = places.setdefault(hit.id, set())
        last = hit.last_seen_at or hit.created_at
        for one in seen:
            told = worth_telling(one, seen_at, last, quiet)
            hit.sightings += 1
            if one.location is not None:
                seen_at.add(one.location)
            last = max(last, one.at)
            hit.last_seen_at = last
            # Seen again by a screening the owner withholds from: the case tells no more.
            hit.withheld = hit.withheld or one.withheld
            rows.append(sighting_row(hit.id, one, notified=told))
            audit.append(_sighted_entry(hit, one, told))
            if told:
                notices.append(_sighted_notice(hit, one))
    if rows:
        session.execute(insert(HitSighting), rows)
    session.flush()
    return Sighted(notices, audit)


def sighting_row(hit_id: int, seen: Seen, *, notified: bool) -> dict[str, Any]:
    return {
        "hit_id": hit_id,
        "query_id": seen.query_id,
        "seen_at": seen.at,
        "location": seen.location,
        "source": seen.source,
        "queried_by": seen.queried_by,
        "operation_id": seen.operation_id,
        "notified": notified,
    }


def recent_sightings(session: Session, hit_id: int, limit: int = SHOWN) -> list[HitSighting]:
    query = select(HitSighting).where(HitSighting.hit_id == hit_id)
    return list(session.scalars(query.order_by(HitSighting.id.desc()).limit(limit)))


def _sighted_entry(hit: Hit, seen: Seen, told: bool) -> AuditEvent:
    return AuditEvent(
        actor=seen.queried_by,
        bureau_code=hit.owner_bureau,
        action="hit.sighted",
        subject=f"hit:{hit.id}",
        details={
            "query_id": seen.query_id,
            "querying_bureau": hit.querying_bureau,
            "location": seen.location,
            "source": seen.source,
            "notified": told,
        },
    )


def _sighted_notice(hit: Hit, seen: Seen) -> Notice:
    where = f" at {seen.location}" if seen.location else ""
    owner, querying = hit.owner_bureau, hit.querying_bureau
    # The owner only: the querying side made the screening and was answered already.
    text = (
        f"Hit {hit.id}: your record {hit.record_id} was screened again{where} by "
        f"{querying} ({hit.sightings} sightings); the case is {hit.state}"
    )
    # The thread is read by both: no record id, nothing the case does not tell both.
    thread = f"Hit {hit.id}: the document was screened again{where} ({hit.sightings} sightings)"
    return Notice(
        "hit.sighted", hit.id, summary_of(hit), {owner: text}, thread,
        tuple(dict.fromkeys((owner, querying))), case_restricted_for(hit),
    )  # fmt: skip
