"""Working a case: who sees it, the owner's answer, the querying side's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent, record_events
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from bordercheck.hits.events import Notice, announce, case_restricted_for, summary_of
from bordercheck.hits.models import Action, Answer, Hit, HitState, Outcome
from bordercheck.messaging.service import CentreNotes
from bordercheck.registry import service as registry

OWNER_ROLES = frozenset({Role.BUREAU_OFFICER})
QUERYING_ROLES = frozenset({Role.BUREAU_OFFICER, Role.BORDER_OFFICER})
SECRETARIAT_ROLES = frozenset({Role.BUREAU_OFFICER, Role.ANALYST})


@dataclass(frozen=True)
class Viewer:
    """Who is looking at cases, and which bureau is the secretariat."""

    actor: Actor
    secretariat: str

    @property
    def is_secretariat(self) -> bool:
        return self.actor.bureau_code == self.secretariat and self.actor.role in SECRETARIAT_ROLES

    def is_owner(self, hit: Hit) -> bool:
        return self.actor.bureau_code == hit.owner_bureau and self.actor.role in OWNER_ROLES

    def is_querying(self, hit: Hit) -> bool:
        return self.actor.bureau_code == hit.querying_bureau and self.actor.role in QUERYING_ROLES

    def may_see(self, hit: Hit) -> bool:
        return (
            self.actor.role is Role.ADMIN
            or self.is_owner(hit)
            or self.is_querying(hit)
            or (self.is_secretariat and hit.escalated_at is not None)
        )


def get_case(session: Session, viewer: Viewer, hit_id: int, *, lock: bool = False) -> Hit:
    """The case, if the viewer may see it; 404 for bureaus with no part in it."""
    query = select(Hit).where(Hit.id == hit_id)
    hit = session.scalar(query.with_for_update() if lock else query)
    if hit is None or not viewer.may_see(hit):
        if hit is not None and viewer.actor.bureau_code in (hit.owner_bureau, hit.querying_bureau):
            raise Forbidden(
                f"hit {hit_id} is your bureau's, but a {viewer.actor.role.value} may not "
                "work on it; ask a bureau officer",
                hit_id=hit_id,
            )
        # Not 403: a bureau with no part in a case is not told that it exists.
        raise NotFound(f"there is no hit {hit_id} for your bureau", hit_id=hit_id)
    return hit


def list_cases(
    session: Session,
    viewer: Viewer,
    *,
    state: str | None = None,
    role: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[Hit]:
    """The viewer's bureau's cases, newest first; ``state`` may also be ``escalated``."""
    query = _visible(viewer, role)
    if state == "escalated":
        query = query.where(Hit.escalated_at.is_not(None), Hit.state == HitState.OPEN.value)
    elif state is not None:
        query = query.where(Hit.state == state)
    if before is not None:
        query = query.where(Hit.id < before)
    return list(session.scalars(query.order_by(Hit.id.desc()).limit(limit)))


def _visible(viewer: Viewer, role: str | None) -> Select[Hit]:
    actor = viewer.actor
    admin = actor.role is Role.ADMIN
    if admin and role is None:
        return select(Hit)
    sides = []
    if role in (None, "owner") and (admin or actor.role in OWNER_ROLES):
        sides.append(Hit.owner_bureau == actor.bureau_code)
    if role in (None, "querying") and (admin or actor.role in QUERYING_ROLES):
        sides.append(Hit.querying_bureau == actor.bureau_code)
    if role is None and viewer.is_secretariat:
        sides.append(Hit.escalated_at.is_not(None))
    return select(Hit).where(or_(false(), *sides))


def answer_case(
    session: Session,
    viewer: Viewer,
    hit_id: int,
    answer: Answer,
    *,
    action: Action | None = None,
    note: str | None = None,
    correction: Mapping[str, Any] | None = None,
    record_version: int | None = None,
    now: datetime,
    notes: CentreNotes,
) -> Hit:
    """The owner's answer. ``not_confirmed`` withdraws the record, or corrects it with
    ``correction``, in the same transaction: the next screenings no longer hit it."""
    hit = get_case(session, viewer, hit_id, lock=True)
    if not viewer.is_owner(hit):
        raise Forbidden(
            f"only the {hit.owner_bureau} bureau, which owns the record, answers hit "
            f"{hit_id}; your side records the outcome",
            hit_id=hit_id,
        )
    if hit.answer is not None:
        raise Conflict(
            f"hit {hit_id} was already answered {hit.answer} by {hit.answered_by}",
            hit_id=hit_id,
            answer=hit.answer,
        )
    _check_answer(answer, action, correction)
    if answer is Answer.NOT_CONFIRMED:
        _correct_record(session, viewer.actor, hit, note, correction, record_version)
    hit.answer, hit.answer_note = answer.value, note
    hit.action = action.value if action is not None else None
    hit.answered_at, hit.answered_by = now, viewer.actor.name
    hit.state = (HitState.CLOSED if hit.outcome else HitState.ANSWERED).value
    _close_to_sightings(hit)
    session.flush()
    said = answer.value.replace("_", " ") + (f", asking to {action.value}" if action else "")
    posted = announce(
        session,
        [_notice(hit, "hit.answered", f"Hit {hit.id}: the {hit.owner_bureau} bureau answered "
                 f"{said}")],
        now,
        notes,
    )  # fmt: skip
    answered = AuditEvent(
        actor=viewer.actor.name,
        bureau_code=viewer.actor.bureau_code,
        action="hit.answered",
        subject=f"hit:{hit.id}",
        details={"answer": answer.value, "action": hit.action, "record_id": hit.record_id},
    )
    record_events(session, [answered, *posted])
    return hit


def record_outcome(
    session: Session,
    viewer: Viewer,
    hit_id: int,
    outcome: Outcome,
    *,
    note: str | None = None,
    now: datetime,
    notes: CentreNotes,
) -> Hit:
    """What the querying side did. It may come before the answer: a traveller is not held
    for hours; the case then waits for the owner's answer still."""
    hit = get_case(session, viewer, hit_id, lock=True)
    if not viewer.is_querying(hit):
        raise Forbidden(
            f"only the {hit.querying_bureau} bureau, whose screening opened hit {hit_id}, "
            "records its outcome",
            hit_id=hit_id,
        )
    if hit.outcome is not None:
        raise Conflict(
            f"the outcome of hit {hit_id} was already recorded ({hit.outcome}) by {hit.outcome_by}",
            hit_id=hit_id,
            outcome=hit.outcome,
        )
    hit.outcome, hit.outcome_note = outcome.value, note
    hit.outcome_at, hit.outcome_by = now, viewer.actor.name
    if hit.answer is not None:
        hit.state = HitState.CLOSED.value
    _close_to_sightings(hit)
    session.flush()
    text = f"Hit {hit.id}: the {hit.querying_bureau} side recorded the outcome: " + (
        outcome.value.replace("_", " ")
    )
    posted = announce(session, [_notice(hit, "hit.outcome", text)], now, notes)
    recorded = AuditEvent(
        actor=viewer.actor.name,
        bureau_code=viewer.actor.bureau_code,
        action="hit.outcome",
        subject=f"hit:{hit.id}",
        details={"outcome": outcome.value, "record_id": hit.record_id},
    )
    record_events(session, [recorded, *posted])
    return hit


def _close_to_sightings(hit: Hit) -> None:
    # A closed case takes no more sightings: the next hit on the document opens a new one.
    if hit.state == HitState.CLOSED.value:
        hit.open_key = None


def _notice(hit: Hit, kind: str, text: str) -> Notice:
    bureaus = tuple(dict.fromkeys((hit.owner_bureau, hit.querying_bureau)))
    return Notice(
        kind, hit.id, summary_of(hit), dict.fromkeys(bureaus, text), text, bureaus,
        case_restricted_for(hit),
    )  # fmt: skip


def _check_answer(
    answer: Answer, action: Action | None, correction: Mapping[str, Any] | None
) -> None:
    errors = []
    if action is not None and answer is not Answer.CONFIRMED:
        errors.append(FieldError("action", "only a confirmed hit asks for an action"))
    if correction is not None and answer is not Answer.NOT_CONFIRMED:
        errors.append(FieldError("correction", "only a not_confirmed answer corrects the record"))
    if errors:
        raise ValidationFailed(errors=errors)


def _correct_record(
    session: Session,
    actor: Actor,
    hit: Hit,
    note: str | None,
    correction: Mapping[str, Any] | None,
    version: int | None,
) -> None:
    record = registry.get_record(session, hit.record_id)
    version = record.version if version is None else version
    if correction:
        try:
            registry.update_record(session, actor, record.id, version, dict(correction))
        except ValidationFailed as exc:  # name the fields as the request sent them
            raise ValidationFailed(
                errors=[FieldError(f"correction.{e.field}", e.reason) for e in exc.errors]
            ) from None
        return
    if not record.active:
        return  # withdrawn already (another hit on it, or by hand): nothing left to take out
    reason = f"hit {hit.id} not confirmed" + (f": {note}" if note else "")
    registry.withdraw_record(session, actor, record.id, version, reason[:200])
