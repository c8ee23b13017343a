"""Reading what arrived since the last look: passenger lists, their travellers, hits (with
the query that made them), the records hit and changes to them, answers and outcomes.

Each kind is followed by its own high-water mark (ids, the changes feed's sequence number,
the time of the latest answer), so a catch-up reads only what is new.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bordercheck.analysis.graph import LinkGraph
from bordercheck.analysis.rows import HitRow, Leg, RecordRow, Seat
from bordercheck.auth.policy import withheld_codes
from bordercheck.hits.models import Hit
from bordercheck.manifests.models import ManifestTraveller, StoredManifest
from bordercheck.registry.models import Change, Record
from bordercheck.screening.models import ScreeningQuery

CHUNK = 20_000
PASSENGERS = ("passenger", "transit_passenger")  # crew fly every day: their trips tie nothing


@dataclass
class Marks:
    manifest: int = 0
    seat: int = 0
    hit: int = 0
    change: int = 0
    answered: datetime | None = None


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _chunks(session: Session, query: Any) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=CHUNK))


def _legs(session: Session, after: int) -> list[Leg]:
    m = StoredManifest
    query = select(m.id, m.flight, m.departure, m.arrival, m.departure_at, m.bureau_code)
    query = query.where(m.id > after, m.list_type == "passengers").order_by(m.id)
    return [Leg(r[0], r[1], r[2], r[3], _utc(r[4]), r[5]) for r in _chunks(session, query)]


def _seats(session: Session, after: int) -> Iterator[Seat]:
    t = ManifestTraveller
    query = select(
        t.id,
        t.manifest_id,
        t.surname,
        t.given_names,
        t.birth_date,
        t.nationality,
        t.booking_reference,
        t.seat,
        t.document_number,
        t.issuing_country,
        t.query_id,
        t.role,
    )
    query = query.where(t.id > after).order_by(t.id)
    for r in _chunks(session, query):
        if r[11] in PASSENGERS:
            yield Seat(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
        else:
            yield Seat(r[0], r[1], r[2], r[3], None, None, None, None, None, None, None)


def record_row(record: Record) -> RecordRow:
    return RecordRow(
        record.id,
        record.document_number,
        record.serial_end,
        record.issuing_country,
        record.status,
        record.blank,
        record.event_date,
        record.event_place,
        record.incident_ref,
        withheld_codes(record.withheld_from),
        record.withdrawn_key == 0,
    )


def _records(session: Session, ids: Iterable[int]) -> list[RecordRow]:
    wanted = sorted(set(ids))
    rows: list[RecordRow] = []
    for start in range(0, len(wanted), 1000):
        query = select(Record).where(Record.id.in_(wanted[start : start + 1000]))
        rows += [record_row(r) for r in session.scalars(query)]
    return rows


def _hits(session: Session, query: Any) -> list[HitRow]:
    h, q = Hit, ScreeningQuery
    columns = select(
        h.id,
        h.query_id,
        h.record_id,
        h.owner_bureau,
        h.querying_bureau,
        h.match,
        h.location,
        h.manifest_id,
        h.created_at,
        h.answer,
        h.outcome,
        q.document_number,
        q.issuing_country,
        h.answered_at,
        h.outcome_at,
    )
    query = query(columns.outerjoin(q, q.id == h.query_id))
    return [
        HitRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            _utc(r[8]) or datetime.now(UTC),
            r[9],
            r[10],
            r[11],
            r[12],
        )
        for r in _chunks(session, query)
    ]


def _latest_answer(session: Session) -> datetime | None:
    latest = session.execute(select(func.max(Hit.answered_at), func.max(Hit.outcome_at))).one()
    moments = [m for m in (_utc(latest[0]), _utc(latest[1])) if m is not None]
    return max(moments, default=None)


def catch_up(session: Session, links: LinkGraph, marks: Marks) -> int:
    """Feed ``links`` what arrived after ``marks`` (moved on); returns how many rows."""
    read = 0
    legs = _legs(session, marks.manifest)
    links.add_legs(legs)
    marks.manifest = max([marks.manifest, *(leg.id for leg in legs)])
    seats = list(_seats(session, marks.seat))
    marks.seat = max([marks.seat, *(s.id for s in seats[-1:])])
    # The records first, then the travellers, then the hits: a hit finds its traveller and
    # its record already there, and a traveller whose document hit before joins at once.
    after = marks.hit
    hits = _hits(session, lambda q: q.where(Hit.id > after).order_by(Hit.id))
    last_change = session.scalar(select(func.max(Change.seq))) or 0
    changed = (
        [
            r
            for (r,) in session.execute(
                select(Change.record_id).where(Change.seq > marks.change, Change.seq <= last_change)
            )
            if r in links.records
        ]
        if marks.change
        else []
    )
    links.add_records(_records(session, [h.record_id for h in hits] + changed))
    marks.change = last_change
    links.add_seats(seats)
    answered = marks.answered
    if answered is not None and marks.hit:
        old = marks.hit
        updated = _hits(
            session,
            lambda q: q.where(
                Hit.id <= old, or_(Hit.answered_at > answered, Hit.outcome_at > answered)
            ),
        )
        links.add_hits(updated)
        read += len(updated)
    links.add_hits(hits)
    marks.hit = max([marks.hit, *(h.id for h in hits)])
    marks.answered = _latest_answer(session) or marks.answered
    return read + len(legs) + len(seats) + len(hits) + len(changed)
