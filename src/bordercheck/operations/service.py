"""Operations: who may create and see them, and their figures, counted in the database.

What counts towards an operation: every screen sent with its id, and during its dates (whole
UTC days) every screen made at one of its locations or by one of its API clients or kits (a
kit's uploads are logged at the time each query was made offline, so they count on that day).
Manifests screened at its locations count once per traveller: each is a query of its own.

The figures are SQL aggregates (``GROUP BY`` day, location, bureau, result) over the query log,
so that they stay cheap at millions of queries; only the hit cases, about one in thousands of
queries, are read one by one (for the answer times and outcomes).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import ApiClient, Bureau, BureauKind, Role
from bordercheck.auth.tokens import Principal
from bordercheck.edge.models import EdgeKit
from bordercheck.errors import FieldError, Forbidden, NotFound, ValidationFailed
from bordercheck.hits.models import Hit, HitSighting
from bordercheck.hits.service import source_of
from bordercheck.manifests.models import FurtherDocument
from bordercheck.operations.models import MemberKind, Operation, OperationMember
from bordercheck.screening.models import ScreeningQuery
from bordercheck.timestamps import utcnow

# The longest operation accepted: a deployment, not a standing arrangement.
MAX_DAYS = 366
MAX_MEMBERS = 100  # border posts, bureaus, clients or kits of one operation
# The days an operation may fall on: any later is a typing slip (and past what dates can hold).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
RESULTS = ("hit", "possible_hit", "no_hit")
OUTCOMES = ("seized", "refused_entry", "arrested", "released", "other")
ANSWERS = ("confirmed", "not_confirmed", "no_match")
# Where a check was made when it was not at one of the operation's border posts (or said none).
ELSEWHERE = ""


def is_coordinator(principal: Principal, secretariat_code: str) -> bool:
    """Coordinators create and run operations: administrators and the secretariat's analysts."""
    return principal.role is Role.ADMIN or (
        principal.role is Role.ANALYST and principal.bureau_code == secretariat_code
    )


@dataclass(frozen=True)
class NewOperation:
    name: str
    purpose: str
    starts_on: date
    ends_on: date
    locations: Sequence[str]
    bureaus: Sequence[str]
    clients: Sequence[str] = ()
    kits: Sequence[str] = ()


@dataclass(frozen=True)
class OperationView:
    id: int
    name: str
    purpose: str
    starts_on: date
    ends_on: date
    coordinator_bureau: str
    created_at: datetime
    created_by: str
    locations: tuple[str, ...]
    bureaus: tuple[str, ...]
    clients: tuple[str, ...]
    kits: tuple[str, ...]
    partners: tuple[str, ...] = ()

    def state(self, today: date) -> str:
        if today < self.starts_on:
            return "planned"
        return "running" if today <= self.ends_on else "ended"

    def days(self) -> list[date]:
        count = (self.ends_on - self.starts_on).days + 1
        return [self.starts_on + timedelta(days=n) for n in range(count)]


def create(
    session: Session, principal: Principal, secretariat_code: str, new: NewOperation
) -> OperationView:
    """Record a new operation; coordinators only. Every bureau and machine named must exist."""
    if not is_coordinator(principal, secretariat_code):
        raise Forbidden("operations are created by administrators and the secretariat's analysts")
    problems = _problems(session, new)
    if problems:
        raise ValidationFailed(problems)
    now = utcnow()
    operation = Operation(
        name=new.name.strip(), purpose=new.purpose.strip(), starts_on=new.starts_on,
        ends_on=new.ends_on, coordinator_bureau=principal.bureau_code, created_at=now,
        created_by=principal.actor().name,
    )  # fmt: skip
    session.add(operation)
    session.flush()
    members = {
        MemberKind.LOCATION: _unique(v.strip().upper() for v in new.locations),
        MemberKind.BUREAU: _unique(v.strip().upper() for v in new.bureaus),
        MemberKind.CLIENT: _unique(v.strip() for v in new.clients),
        MemberKind.KIT: _unique(v.strip() for v in new.kits),
    }
    for kind, values in members.items():
        session.add_all(
            OperationMember(operation_id=operation.id, kind=kind.value, value=v) for v in values
        )
    session.flush()
    view = _view(session, operation)
    record_event(
        session, actor=principal.actor().name, bureau_code=principal.bureau_code,
        action="operation.created", subject=f"operation:{operation.id}",
        details={"name": view.name, "starts_on": view.starts_on, "ends_on": view.ends_on,
                 "locations": list(view.locations), "bureaus": list(view.bureaus),
                 "clients": list(view.clients), "kits": list(view.kits)},
    )  # fmt: skip
    return view


def _unique(values: Any) -> list[str]:
    return sorted({v for v in values if v})


def _problems(session: Session, new: NewOperation) -> list[FieldError]:
    problems: list[FieldError] = []
    if not new.name.strip():
        problems.append(FieldError("name", "give the operation a name"))
    if len(new.name) > 200:
        problems.append(FieldError("name", "at most 200 characters"))
    if len(new.purpose) > 2000:
        problems.append(FieldError("purpose", "at most 2,000 characters"))
    for name, day in (("starts_on", new.starts_on), ("ends_on", new.ends_on)):
        if not EARLIEST <= day <= LATEST:
            problems.append(FieldError(name, f"a day from {EARLIEST} to {LATEST}"))
    if new.ends_on < new.starts_on:
        problems.append(FieldError("ends_on", "the last day comes before the first"))
    elif (new.ends_on - new.starts_on).days >= MAX_DAYS:
        problems.append(FieldError("ends_on", f"an operation lasts at most {MAX_DAYS} days"))
    locations = [v.strip() for v in new.locations if v.strip()]
    for name, values in (("locations", new.locations), ("bureaus", new.bureaus),
                         ("clients", new.clients), ("kits", new.kits)):  # fmt: skip
        if len(values) > MAX_MEMBERS:
            problems.append(FieldError(name, f"at most {MAX_MEMBERS} entries"))
    if not locations:
        problems.append(FieldError("locations", "name at least one border post"))
    for code in locations:
        if len(code) > 32 or not all(c.isalnum() or c in "._:-" for c in code):
            problems.append(FieldError("locations", f"{code!r} is not a border post code"))
    bureaus = {v.strip().upper() for v in new.bureaus if v.strip()}
    if not bureaus:
        problems.append(FieldError("bureaus", "name at least one participating bureau"))
    known = set(
        session.scalars(
            select(Bureau.country_code).where(
                Bureau.country_code.in_(bureaus), Bureau.kind == BureauKind.NATIONAL.value
            )
        )
    )
    problems += [FieldError("bureaus", f"no bureau {code}") for code in sorted(bureaus - known)]
    clients = {v.strip() for v in new.clients if v.strip()}
    found = set(
        session.scalars(select(ApiClient.client_id).where(ApiClient.client_id.in_(clients)))
    )
    problems += [FieldError("clients", f"no API client {c}") for c in sorted(clients - found)]
    kits = {v.strip() for v in new.kits if v.strip()}
    found = set(session.scalars(select(EdgeKit.kit_id).where(EdgeKit.kit_id.in_(kits))))
    problems += [FieldError("kits", f"no offline kit {k}") for k in sorted(kits - found)]
    return problems


def _view(session: Session, operation: Operation) -> OperationView:
    members: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(OperationMember.kind, OperationMember.value)
        .where(OperationMember.operation_id == operation.id)
        .order_by(OperationMember.value)
    )
    for kind, value in rows:
        members[kind].append(value)
    return OperationView(
        id=operation.id, name=operation.name, purpose=operation.purpose,
        starts_on=operation.starts_on, ends_on=operation.ends_on,
        coordinator_bureau=operation.coordinator_bureau, created_at=operation.created_at,
        created_by=operation.created_by,
        locations=tuple(members[MemberKind.LOCATION]), bureaus=tuple(members[MemberKind.BUREAU]),
        clients=tuple(members[MemberKind.CLIENT]), kits=tuple(members[MemberKind.KIT]),
        partners=tuple(members[MemberKind.PARTNER]),
    )  # fmt: skip


def may_see(principal: Principal, operation: OperationView, secretariat_code: str) -> bool:
    """Coordinators see every operation; a participating bureau's people see its own; a
    partner organisation's accounts the ones it is invited to (at this moment)."""
    if principal.role is Role.PARTNER:
        return principal.bureau_code in operation.partners
    return is_coordinator(principal, secretariat_code) or principal.bureau_code in (
        operation.bureaus
    )


def get(
    session: Session, principal: Principal, operation_id: int, secretariat_code: str
) -> OperationView:
    """One operation, for those who may see it (to others it does not exist)."""
    view = find(session, operation_id)
    if not may_see(principal, view, secretariat_code):
        raise NotFound(f"no operation {operation_id}")
    return view


def find(session: Session, operation_id: int) -> OperationView:
    """One operation, whoever asks: for the command line, which holds the database anyway."""
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise NotFound(f"no operation {operation_id}")
    return _view(session, operation)


def everything(session: Session) -> list[OperationView]:
    """Every operation, the latest first: for the command line."""
    statement = select(Operation).order_by(Operation.starts_on.desc(), Operation.id.desc())
    return [_view(session, operation) for operation in session.scalars(statement)]


def visible(session: Session, principal: Principal, secretariat_code: str) -> list[OperationView]:
    """The operations this person may see, the latest first."""
    statement = select(Operation).order_by(Operation.starts_on.desc(), Operation.id.desc())
    if principal.role is Role.PARTNER or not is_coordinator(principal, secretariat_code):
        kind = MemberKind.PARTNER if principal.role is Role.PARTNER else MemberKind.BUREAU
        statement = statement.where(
            Operation.id.in_(
                select(OperationMember.operation_id).where(
                    OperationMember.kind == kind.value,
                    OperationMember.value == principal.bureau_code,
                )
            )
        )
    return [_view(session, operation) for operation in session.scalars(statement)]


def ensure_coordinator(principal: Principal, secretariat_code: str) -> None:
    if not is_coordinator(principal, secretariat_code):
        raise Forbidden(
            "partner organisations are invited and removed by administrators and the "
            "secretariat's analysts"
        )


def invite(session: Session, actor: Actor, operation_id: int, partner: str) -> OperationView:
    """Invite a partner organisation to an operation (a coordinator, checked before)."""
    view = find(session, operation_id)
    code = auth_service.partner_for_code(session, partner).country_code
    if code in view.partners:
        return view
    session.add(OperationMember(operation_id=view.id, kind=MemberKind.PARTNER.value, value=code))
    session.flush()
    record_event(
        session, actor=actor.name, bureau_code=actor.bureau_code,
        action="operation.partner_invited", subject=f"operation:{view.id}",
        details={"partner": code},
    )  # fmt: skip
    return find(session, operation_id)


def uninvite(session: Session, actor: Actor, operation_id: int, partner: str) -> OperationView:
    """Remove a partner organisation from an operation: its accounts lose sight of it at once
    (operation, figures, report; its thread with ``operations.thread.ensure``)."""
    view = find(session, operation_id)
    code = partner.strip().upper()
    member = session.scalar(
        select(OperationMember).where(
            OperationMember.operation_id == view.id,
            OperationMember.kind == MemberKind.PARTNER.value,
            OperationMember.value == code,
        )
    )
    if member is None:
        raise NotFound(
            f"the partner organisation {code} is not invited to operation {view.id}",
            partner=code,
        )
    session.delete(member)
    session.flush()
    record_event(
        session, actor=actor.name, bureau_code=actor.bureau_code,
        action="operation.partner_uninvited", subject=f"operation:{view.id}",
        details={"partner": code},
    )  # fmt: skip
    return find(session, operation_id)


# -- figures ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Documents checked and what they found."""

    checked: int = 0
    hit: int = 0
    possible_hit: int = 0

    def add(self, result: str, count: int) -> None:
        self.checked += count
        if result == "hit":
            self.hit += count
        elif result == "possible_hit":
            self.possible_hit += count

    def as_dict(self) -> dict[str, int]:
        return {"checked": self.checked, "hits": self.hit, "possible_hits": self.possible_hit}


@dataclass(frozen=True)
class Case:
    """A hit case opened during the operation, without the document or the traveller."""

    opened_at: datetime
    location: str | None
    owner_bureau: str
    querying_bureau: str
    answer: str | None
    answer_seconds: float | None
    outcome: str | None
    source: str


@dataclass
class Figures:
    operation: OperationView
    computed_at: datetime
    total: Tally = field(default_factory=Tally)
    by_day: dict[date, Tally] = field(default_factory=dict)
    by_location: dict[str, Tally] = field(default_factory=dict)
    by_bureau: dict[str, Tally] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    compute_seconds: float = 0.0

    def answers(self) -> dict[str, int]:
        counts = dict.fromkeys(ANSWERS, 0) | {"unanswered": 0}
        for case in self.cases:
            counts[case.answer or "unanswered"] = counts.get(case.answer or "unanswered", 0) + 1
        return counts

    def outcomes(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0) | {"pending": 0}
        for case in self.cases:
            counts[case.outcome or "pending"] = counts.get(case.outcome or "pending", 0) + 1
        return counts

    def answer_times(self) -> dict[str, float | None]:
        seconds = [c.answer_seconds for c in self.cases if c.answer_seconds is not None]
        if not seconds:
            return {"median_seconds": None, "longest_seconds": None}
        return {"median_seconds": statistics.median(seconds), "longest_seconds": max(seconds)}

    def as_dict(self) -> dict[str, Any]:
        op = self.operation
        return {
            "operation_id": op.id,
            "computed_at": self.computed_at.isoformat(),
            "period": {"starts_on": op.starts_on.isoformat(), "ends_on": op.ends_on.isoformat()},
            "state": op.state(self.computed_at.date()),
            "total": self.total.as_dict(),
            "by_day": [{"day": d.isoformat()} | t.as_dict() for d, t in self.by_day.items()],
            # location null: checks elsewhere than at its border posts (or at none said)
            "by_location": [
                {"location": loc or None} | t.as_dict() for loc, t in self.by_location.items()
            ],
            "by_bureau": [{"bureau": b} | t.as_dict() for b, t in self.by_bureau.items()],
            "by_source": self.by_source,
            "cases": {
                "opened": len(self.cases),
                "answers": self.answers(),
                "answer_times": self.answer_times(),
                "outcomes": self.outcomes(),
            },
        }


def counted(session: Session, operation: OperationView) -> ColumnElement[bool]:
    """The condition on the query log of what counts towards this operation.

    A check sent with its id counts from its participating bureaus and its coordinator's
    (another bureau cannot add to its figures). Its clients are known in the log by bureau and
    name (unique within a bureau), its kits' uploads by the kit's id. Border posts are matched
    whatever their case."""
    start, end = _period(operation)
    log = ScreeningQuery
    clients = session.execute(
        select(ApiClient.name, Bureau.country_code)
        .join(Bureau, ApiClient.bureau_id == Bureau.id)
        .where(ApiClient.client_id.in_(operation.clients))
    ).all()
    who = [
        and_(log.principal_kind == "client", log.principal_name == name, log.bureau_code == code)
        for name, code in clients
    ]
    if operation.kits:
        who.append(and_(log.principal_kind == "kit", log.principal_name.in_(operation.kits)))
    where_or_who = or_(
        func.upper(log.location).in_(operation.locations) if operation.locations else false(),
        *who,
    )
    participants = [*operation.bureaus, operation.coordinator_bureau]
    return or_(
        and_(log.operation_id == str(operation.id), log.bureau_code.in_(participants)),
        and_(log.at >= start, log.at < end, where_or_who),
    )


def figures(session: Session, operation: OperationView) -> Figures:
    """The operation's figures as they stand: per day, location, bureau; cases and outcomes."""
    began = perf_counter()
    log = ScreeningQuery
    condition = counted(session, operation)
    # The UTC day: PostgreSQL would otherwise take the session's time zone.
    postgresql = session.get_bind().dialect.name == "postgresql"
    day = func.date(func.timezone("UTC", log.at)) if postgresql else func.date(log.at)
    place = func.upper(log.location)
    keys = (day, place, log.bureau_code, log.source, log.result)
    # A traveller on a passenger list counts once, whatever the documents they carry: the
    # second and later documents of each are checked, found what they found, and are not
    # counted as checks again. One statement, so one snapshot of the log.
    further = func.count(FurtherDocument.query_id)
    rows = session.execute(
        select(*keys, func.count(), further)
        .outerjoin(FurtherDocument, FurtherDocument.query_id == log.id)
        .where(condition)
        .group_by(*keys)
    ).all()
    result = Figures(operation=operation, computed_at=utcnow())
    result.by_day = {d: Tally() for d in operation.days()}
    result.by_location = {loc: Tally() for loc in operation.locations}
    result.by_bureau = {b: Tally() for b in operation.bureaus}
    for on, location, bureau, source, outcome, count, again in rows:
        tallies = (
            result.total,
            result.by_day.setdefault(_day(on), Tally()),
            result.by_location.setdefault(_post(operation, location), Tally()),
            result.by_bureau.setdefault(bureau, Tally()),
        )
        for tally in tallies:
            tally.add(outcome, count)
            tally.checked -= again
        kind = source_of(source)  # desk, batch, manifest or kit, as the hit cases say
        result.by_source[kind] = result.by_source.get(kind, 0) + count - again
    result.by_day = dict(sorted(result.by_day.items()))
    if ELSEWHERE in result.by_location:  # last, after the operation's own posts
        result.by_location[ELSEWHERE] = result.by_location.pop(ELSEWHERE)
    hits = [
        row
        for chunk in _chunks(sorted(_cases_of(session, operation, condition)))
        for row in session.execute(
            select(
                Hit.created_at, Hit.location, Hit.owner_bureau, Hit.querying_bureau, Hit.answer,
                Hit.answered_at, Hit.outcome, Hit.source,
            ).where(Hit.id.in_(chunk))
        ).all()
    ]  # fmt: skip
    hits.sort(key=lambda row: row[0])
    for opened, location, owner, querying, answer, answered, outcome, source in hits:
        seconds = None if answered is None else (answered - opened).total_seconds()
        where = _post(operation, location.upper() if location else None)
        result.cases.append(Case(opened, where, owner, querying, answer, seconds, outcome, source))
    result.compute_seconds = perf_counter() - began
    return result


def _cases_of(
    session: Session, operation: OperationView, condition: ColumnElement[bool]
) -> set[int]:
    """The hit cases of the operation's checks: each case lists its sightings (the check that
    opened it, and those that saw it again), so a case opened before the operation and seen
    again at its posts is one of its cases. Found from the sightings, a few per thousand
    checks: those of its dates or sent with its id, then each tested against ``condition`` by
    its log entry's key (not the log's rows searched for sightings)."""
    start, end = _period(operation)
    candidates = session.execute(
        select(HitSighting.hit_id, HitSighting.query_id).where(
            or_(
                and_(HitSighting.seen_at >= start, HitSighting.seen_at < end),
                HitSighting.operation_id == str(operation.id),
            )
        )
    ).all()
    log, counted_ids = ScreeningQuery, set[str]()
    for chunk in _chunks(sorted({query_id for _, query_id in candidates})):
        counted_ids.update(session.scalars(select(log.id).where(log.id.in_(chunk), condition)))
    return {hit_id for hit_id, query_id in candidates if query_id in counted_ids}


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for at in range(0, len(values), size):
        yield values[at : at + size]


def _period(operation: OperationView) -> tuple[datetime, datetime]:
    """The operation's dates as moments: from its first day's midnight (UTC) to the one after
    its last."""
    start = datetime.combine(operation.starts_on, time(), UTC)
    return start, datetime.combine(operation.ends_on + timedelta(days=1), time(), UTC)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _post(operation: OperationView, location: str | None) -> str:
    """One of the operation's border posts, or ELSEWHERE: what a check names as its place is
    the caller's text, and only the operation's own posts are shown by name."""
    return location if location in operation.locations else ELSEWHERE
