"""Opening hit cases. The answer and outcome workflow builds on these rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bordercheck.hits.models import Hit


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


def open_hits(session: Session, hits: Iterable[NewHit]) -> int:
    """Open a case for each hit; returns how many were opened."""
    rows = [
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
            "state": "open",
            "created_at": h.at,
        }
        for h in hits
    ]
    if rows:
        session.execute(insert(Hit), rows)
    return len(rows)


def hits_for_query(session: Session, query_id: str) -> list[Hit]:
    return list(session.scalars(select(Hit).where(Hit.query_id == query_id).order_by(Hit.id)))
