"""How bureaus answer hits: time to answer, share confirmed, open and overdue cases."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.hits.models import Answer, Hit, HitState


@dataclass
class BureauFigures:
    """One owning bureau's cases opened in the period."""

    bureau: str
    cases: int = 0
    answered: int = 0
    confirmed: int = 0
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    _minutes: list[float] = field(default_factory=list, repr=False)

    @property
    def confirmed_share(self) -> float | None:
        return self.confirmed / self.answered if self.answered else None

    @property
    def median_answer_minutes(self) -> float | None:
        return _percentile(self._minutes, 0.5)

    @property
    def p90_answer_minutes(self) -> float | None:
        return _percentile(self._minutes, 0.9)


def figures(
    session: Session, now: datetime, *, since: datetime, bureau: str | None = None
) -> list[BureauFigures]:
    """Per owning bureau (or just ``bureau``), for the cases opened since ``since``."""
    query = select(
        Hit.owner_bureau, Hit.created_at, Hit.answered_at, Hit.answer, Hit.state, Hit.due_at,
        Hit.escalated_at,
    ).where(Hit.created_at >= since)  # fmt: skip
    if bureau is not None:
        query = query.where(Hit.owner_bureau == bureau)
    by_bureau: dict[str, BureauFigures] = {}
    if bureau is not None:
        by_bureau[bureau] = BureauFigures(bureau)
    minutes: dict[str, list[float]] = defaultdict(list)
    for owner, created, answered, answer, state, due, escalated in session.execute(query):
        row = by_bureau.setdefault(owner, BureauFigures(owner))
        row.cases += 1
        row.escalated += escalated is not None
        if answered is not None:
            row.answered += 1
            row.confirmed += answer == Answer.CONFIRMED.value
            minutes[owner].append((answered - created).total_seconds() / 60)
        if state == HitState.OPEN.value:
            row.open += 1
            row.overdue += due <= now
    for owner, values in minutes.items():
        by_bureau[owner]._minutes = sorted(values)
    return [by_bureau[code] for code in sorted(by_bureau)]


def _percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]
