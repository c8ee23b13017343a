"""Exercises: a trainer plants a scenario in the sandbox for a group of trainees, follows their
scores live, and ends it, which freezes the scores.

Trainers start and end exercises and read every exercise of the sandbox (one hands the
sandbox to another with them); administrators read them; a trainee reads only the briefing of
an exercise they take part in, never the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth.models import Bureau, Role, User
from bordercheck.auth.tokens import Principal
from bordercheck.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from bordercheck.installation import installation_of
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow
from bordercheck.training import library
from bordercheck.training.models import Exercise, ExerciseTrainee, StepResult
from bordercheck.training.planting import Planted, plant
from bordercheck.training.results import StepScore, TraineeScore, Window, score_trainee
from bordercheck.training.scenario import (
    AnswerStep,
    MessageStep,
    OutcomeStep,
    Scenario,
    parse_scenario,
)

TRAINERS = (Role.TRAINER,)
READERS = (Role.TRAINER, Role.ADMIN)
# Trainees act as border and bureau officers do; trainers and administrators run things.
TRAINEE_ROLES = (Role.BORDER_OFFICER, Role.BUREAU_OFFICER, Role.ANALYST)
MAX_TRAINEES = 60


def require_sandbox(session: Session, settings: Settings) -> None:
    """Refuse to plant anything unless this database is the settings' training sandbox."""
    found = installation_of(session)
    if not found.is_sandbox or found.sandbox_name != settings.training_sandbox:
        raise Forbidden(
            f"exercises are planted only in a training sandbox; this database is {found.describe()}"
        )


@dataclass(frozen=True)
class ExerciseView:
    id: int
    scenario: Scenario
    filename: str
    planted: Planted
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    ended_by: str | None
    trainees: tuple[tuple[str, str], ...]  # (username, bureau)

    @property
    def running(self) -> bool:
        return self.ended_at is None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario.id,
            "title": self.scenario.title.en,
            "started_at": self.started_at.isoformat(),
            "started_by": self.started_by,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_by": self.ended_by,
            "state": "running" if self.running else "ended",
            "trainees": [name for name, _ in self.trainees],
        }


@dataclass(frozen=True)
class Scores:
    exercise: ExerciseView
    trainees: tuple[TraineeScore, ...]
    computed_at: datetime
    frozen: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.exercise.summary(),
            "frozen": self.frozen,
            "computed_at": self.computed_at.isoformat(),
            "possible": self.exercise.scenario.total_points,
            "steps": [{"step": s.id, "kind": s.kind, "title": s.title.en, "points": s.points,
                       "within_seconds": s.within_seconds}
                      for s in self.exercise.scenario.steps],
            "results": [t.as_dict() for t in self.trainees],
        }  # fmt: skip


def _view(session: Session, row: Exercise) -> ExerciseView:
    trainees = session.execute(
        select(ExerciseTrainee.username, ExerciseTrainee.bureau_code)
        .where(ExerciseTrainee.exercise_id == row.id)
        .order_by(ExerciseTrainee.id)
    ).all()
    return ExerciseView(
        id=row.id, scenario=parse_scenario(row.source, row.filename), filename=row.filename,
        planted=Planted.from_dict(orjson.loads(row.planted)), started_at=row.started_at,
        started_by=row.started_by, ended_at=row.ended_at, ended_by=row.ended_by,
        trainees=tuple((name, bureau) for name, bureau in trainees),
    )  # fmt: skip


def _ensure_trainer(principal: Principal) -> None:
    if principal.role not in TRAINERS:
        raise Forbidden(f"{principal.name} ({principal.role.value}) may not run exercises")


def _ensure_reader(principal: Principal) -> None:
    if principal.role not in READERS:
        raise Forbidden(f"{principal.name} ({principal.role.value}) may not read exercises")


def _trainees(session: Session, usernames: Sequence[str]) -> list[tuple[str, str, Role]]:
    names = list(dict.fromkeys(name.strip() for name in usernames if name.strip()))
    if not names:
        raise ValidationFailed(errors=[FieldError("trainees", "name at least one trainee")])
    if len(names) > MAX_TRAINEES:
        raise ValidationFailed(
            errors=[FieldError("trainees", f"at most {MAX_TRAINEES} trainees an exercise")]
        )
    found = {
        user.username: user
        for user in session.scalars(select(User).where(User.username.in_(names)))
    }
    errors = []
    for index, name in enumerate(names):
        user = found.get(name)
        if user is None or not user.active:
            errors.append(FieldError(f"trainees.{index}", f"no active account {name!r}"))
        elif Role(user.role) not in TRAINEE_ROLES:
            errors.append(FieldError(
                f"trainees.{index}",
                f"{name} is a {user.role}; trainees are border officers, bureau officers "
                "or analysts",
            ))  # fmt: skip
    if errors:
        raise ValidationFailed(errors=errors)
    rows = session.execute(select(Bureau.id, Bureau.country_code))
    bureaus = {row.id: row.country_code for row in rows}
    return [(name, bureaus[found[name].bureau_id], Role(found[name].role)) for name in names]


# What each kind of step asks of a trainee's role: the API's own rules.
STEP_ROLES = {
    "screen": ((Role.BORDER_OFFICER, Role.BUREAU_OFFICER), "check documents"),
    "manifest": ((Role.BORDER_OFFICER, Role.BUREAU_OFFICER), "send passenger lists"),
    "outcome": ((Role.BORDER_OFFICER, Role.BUREAU_OFFICER), "record what was done at the border"),
    "answer": ((Role.BUREAU_OFFICER,), "answer hit cases"),
    "message": ((Role.BUREAU_OFFICER,), "send messages"),
}


def _owner(scenario: Scenario, step: Any) -> str | None:
    """The bureau an answer step is to be given by: the planted record's owner."""
    if not isinstance(step, AnswerStep):
        return None
    record = next(r for r in scenario.records if r.ref == step.record)
    return record.record_fields().issuing_country


def _able(scenario: Scenario, group: Sequence[tuple[str, str, Role]]) -> None:
    """Refuse a group that could not earn the scenario's points, naming each trainee and why:
    a step their role cannot do, a message to their own bureau, or an outcome to record on a
    hit case they would share with a trainee of the same bureau."""
    errors = []
    first_of: dict[str, str] = {}
    outcomes = any(isinstance(step, OutcomeStep) for step in scenario.steps)
    for index, (name, bureau, role) in enumerate(group):
        field = f"trainees.{index}"
        for step in scenario.steps:
            roles, doing = STEP_ROLES[step.kind]
            if role not in roles:
                errors.append(FieldError(field, f"{name} is {role.value}: that role cannot "
                                                f"{doing} (step {step.id})"))  # fmt: skip
                break
            owner = _owner(scenario, step)
            if owner is not None and owner != bureau:
                reason = f"{name} acts for {bureau}; step {step.id} is the owner's, {owner}"
                errors.append(FieldError(field, reason))
                break
            if isinstance(step, MessageStep) and step.to == bureau:
                errors.append(FieldError(field, f"{name} acts for {bureau}, and step {step.id} "
                                                f"asks for a message to {bureau} from another "
                                                "bureau"))  # fmt: skip
                break
        if outcomes and bureau in first_of:
            errors.append(FieldError(
                field, f"{name} acts for {bureau}, as {first_of[bureau]} does: they would share "
                "the hit cases, whose outcome is recorded once; give each trainee a bureau of "
                "their own",
            ))  # fmt: skip
        first_of.setdefault(bureau, name)
    if errors:
        raise ValidationFailed(errors=errors)


def start(
    session: Session, settings: Settings, principal: Principal, scenario_id: str,
    trainees: Sequence[str],
) -> ExerciseView:  # fmt: skip
    """Plant the scenario and start the clock for the trainees; trainers, in a sandbox only."""
    _ensure_trainer(principal)
    require_sandbox(session, settings)
    item = library.find(session, scenario_id)
    group = _trainees(session, trainees)
    _able(item.scenario, group)
    by = principal.actor().name
    planted = plant(
        session, item.scenario, by=by, trainee_bureaus={bureau for _, bureau, _ in group},
        secret_key=settings.secret_key,
    )  # fmt: skip
    row = Exercise(
        scenario_id=item.id, filename=item.filename, source=item.source,
        planted=orjson.dumps(planted.as_dict()).decode(), started_at=utcnow(), started_by=by,
    )  # fmt: skip
    session.add(row)
    session.flush()
    session.add_all(
        ExerciseTrainee(exercise_id=row.id, username=name, bureau_code=bureau)
        for name, bureau, _ in group
    )
    session.flush()
    record_event(
        session, actor=by, bureau_code=principal.bureau_code,
        action="training.exercise_started", subject=f"exercise:{row.id}",
        details={"scenario": item.id, "trainees": [name for name, _, _ in group],
                 "records": planted.records, "kits": sorted(planted.kits)},
    )  # fmt: skip
    return _view(session, row)


def _row(session: Session, exercise_id: int) -> Exercise:
    row = session.get(Exercise, exercise_id)
    if row is None:
        raise NotFound(f"no exercise {exercise_id}")
    return row


def get(session: Session, principal: Principal, exercise_id: int) -> ExerciseView:
    _ensure_reader(principal)
    return _view(session, _row(session, exercise_id))


def find(session: Session, exercise_id: int) -> ExerciseView:
    """For commands run on the server."""
    return _view(session, _row(session, exercise_id))


def everything(session: Session) -> list[ExerciseView]:
    rows = session.scalars(select(Exercise).order_by(Exercise.id.desc()))
    return [_view(session, row) for row in rows]


def visible(session: Session, principal: Principal) -> list[ExerciseView]:
    _ensure_reader(principal)
    return everything(session)


def briefing(session: Session, principal: Principal, exercise_id: int) -> ExerciseView:
    """An exercise's briefing and materials: its trainees, trainers and administrators."""
    view = _view(session, _row(session, exercise_id))
    if principal.role in READERS:
        return view
    if principal.kind == "user" and principal.name in {name for name, _ in view.trainees}:
        return view
    raise Forbidden(f"{principal.name} does not take part in exercise {exercise_id}")


def running_for(session: Session, username: str) -> list[ExerciseView]:
    """The running exercises a trainee takes part in, newest first."""
    rows = session.scalars(
        select(Exercise)
        .join(ExerciseTrainee, ExerciseTrainee.exercise_id == Exercise.id)
        .where(ExerciseTrainee.username == username, Exercise.ended_at.is_(None))
        .order_by(Exercise.id.desc())
    )
    return [_view(session, row) for row in rows]


def scores(session: Session, view: ExerciseView) -> Scores:
    """Live while the exercise runs; as frozen at its end afterwards."""
    if view.ended_at is not None:
        return Scores(view, _frozen(session, view), view.ended_at, True)
    now = utcnow()
    window = Window(view.started_at, now)
    return Scores(view, _live(session, view, window), now, False)


def _live(session: Session, view: ExerciseView, window: Window) -> tuple[TraineeScore, ...]:
    return tuple(
        score_trainee(session, view.scenario, view.planted, name, bureau, window)
        for name, bureau in view.trainees
    )


def _frozen(session: Session, view: ExerciseView) -> tuple[TraineeScore, ...]:
    rows = session.scalars(select(StepResult).where(StepResult.exercise_id == view.id))
    by_trainee: dict[tuple[str, str], StepScore] = {
        (r.username, r.step_id): StepScore(r.step_id, r.status, r.points, r.seconds, r.evidence)
        for r in rows
    }
    return tuple(
        TraineeScore(
            name,
            bureau,
            tuple(by_trainee[(name, step.id)] for step in view.scenario.steps),
            view.scenario.total_points,
        )
        for name, bureau in view.trainees
    )


def end(session: Session, principal: Principal, exercise_id: int) -> Scores:
    """Stop the clock: the scores as they stand are written down and no longer change."""
    _ensure_trainer(principal)
    row = _row(session, exercise_id)
    if row.ended_at is not None:
        raise Conflict(f"exercise {exercise_id} ended at {row.ended_at.isoformat()}")
    view = _view(session, row)
    now = utcnow()
    results = _live(session, view, Window(view.started_at, now))
    for trainee in results:
        session.add_all(
            StepResult(
                exercise_id=row.id,
                username=trainee.username,
                step_id=s.step_id,
                status=s.status,
                points=s.points,
                seconds=s.seconds,
                evidence=s.evidence[:400],
            )
            for s in trainee.steps
        )
    row.ended_at, row.ended_by = now, principal.actor().name
    session.flush()
    record_event(
        session, actor=principal.actor().name, bureau_code=principal.bureau_code,
        action="training.exercise_ended", subject=f"exercise:{row.id}",
        details={"points": {t.username: t.points for t in results}},
    )  # fmt: skip
    return scores(session, _view(session, row))
