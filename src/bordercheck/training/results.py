"""Each trainee's handling, step by step, read from what the trainee did in the system.

Nothing is self-reported: a step is scored from the trainee's own entries, within the
exercise's window, in the query log (checks), the hit cases (the owner's answer, the outcome
at the border), the messages between bureaus and the stored passenger lists.

A step done right earns its points; done right but after its time target, half of them
(rounded down); done wrong or not yet done, none. The time taken is counted from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.hits.models import Hit
from bordercheck.manifests.models import StoredManifest
from bordercheck.messaging.models import Message, Participant
from bordercheck.screening.models import ScreeningQuery
from bordercheck.training.planting import Planted
from bordercheck.training.scenario import (
    AnswerStep,
    ManifestStep,
    MessageStep,
    OutcomeStep,
    Scenario,
    ScreenStep,
    Step,
)

RIGHT, LATE, WRONG, NOT_DONE = "right", "late", "wrong", "not_done"
STATUSES = (RIGHT, LATE, WRONG, NOT_DONE)


@dataclass(frozen=True)
class StepScore:
    step_id: str
    status: str
    points: int
    seconds: int | None  # from the exercise's start to the action that decided the step
    evidence: str  # what was found: "query 4f…: hit", "hit 12: outcome released"


@dataclass(frozen=True)
class TraineeScore:
    username: str
    bureau_code: str
    steps: tuple[StepScore, ...]
    possible: int

    @property
    def points(self) -> int:
        return sum(step.points for step in self.steps)

    @property
    def right(self) -> int:
        return sum(1 for step in self.steps if step.status in (RIGHT, LATE))

    @property
    def seconds(self) -> int | None:
        """Time to the last step done (right or late), the trainee's time on the exercise."""
        done = [s.seconds for s in self.steps if s.status in (RIGHT, LATE)]
        known = [seconds for seconds in done if seconds is not None]
        return max(known) if known else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "bureau": self.bureau_code,
            "points": self.points,
            "possible": self.possible,
            "steps_right": self.right,
            "seconds": self.seconds,
            "steps": [
                {"step": s.step_id, "status": s.status, "points": s.points,
                 "seconds": s.seconds, "evidence": s.evidence}
                for s in self.steps
            ],
        }  # fmt: skip


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


Found = tuple[bool, datetime, str]  # right?, when, evidence
Finder = Callable[[Session, Any, str, Planted, Window], list[Found]]


def _screens(session: Session, step: ScreenStep, user: str, planted: Planted,
             window: Window) -> list[Found]:  # fmt: skip
    document = planted.documents[step.document]
    rows = session.execute(
        select(ScreeningQuery.id, ScreeningQuery.at, ScreeningQuery.result).where(
            ScreeningQuery.principal_name == user,
            ScreeningQuery.at >= window.start,
            ScreeningQuery.at <= window.end,
            ScreeningQuery.document_number.in_(document["numbers"]),
        )
    )
    return [(result in step.expect, at, f"check {qid[:8]}: {result}") for qid, at, result in rows]


def _outcomes(session: Session, step: OutcomeStep, user: str, planted: Planted,
              window: Window) -> list[Found]:  # fmt: skip
    rows = session.execute(
        select(Hit.id, Hit.outcome_at, Hit.outcome).where(
            Hit.record_id == planted.records[step.record],
            Hit.outcome_by == user,
            Hit.outcome_at >= window.start,
            Hit.outcome_at <= window.end,
        )
    )
    return [(outcome in step.expect, at, f"hit {hid}: outcome {outcome}")
            for hid, at, outcome in rows if at is not None]  # fmt: skip


def _answers(session: Session, step: AnswerStep, user: str, planted: Planted,
             window: Window) -> list[Found]:  # fmt: skip
    rows = session.execute(
        select(Hit.id, Hit.answered_at, Hit.answer).where(
            Hit.record_id == planted.records[step.record],
            Hit.answered_by == user,
            Hit.answered_at >= window.start,
            Hit.answered_at <= window.end,
        )
    )
    return [(answer in step.expect, at, f"hit {hid}: answer {answer}")
            for hid, at, answer in rows if at is not None]  # fmt: skip


def _messages(session: Session, step: MessageStep, user: str, planted: Planted,
              window: Window) -> list[Found]:  # fmt: skip
    rows = session.execute(
        select(Message.id, Message.created_at)
        .join(Participant, Participant.thread_id == Message.thread_id)
        .where(
            Message.sender_user == user,
            Message.system.is_(False),
            Participant.bureau_code == step.to,
            Message.sender_bureau != step.to,
            Message.created_at >= window.start,
            Message.created_at <= window.end,
        )
    )
    return [(True, at, f"message {mid} to {step.to}") for mid, at in rows]


def _manifests(session: Session, step: ManifestStep, user: str, planted: Planted,
               window: Window) -> list[Found]:  # fmt: skip
    wanted = planted.manifests[step.manifest]
    rows = session.execute(
        select(StoredManifest.id, StoredManifest.received_at, StoredManifest.travellers).where(
            StoredManifest.submitted_by == user,
            StoredManifest.flight == wanted["flight"],
            StoredManifest.received_at >= window.start,
            StoredManifest.received_at <= window.end,
        )
    )
    return [
        (count >= wanted["travellers"], at,
         f"list {mid}: {count} of {wanted['travellers']} travellers")
        for mid, at, count in rows
    ]  # fmt: skip


FINDERS: dict[type[Step], Finder] = {
    ScreenStep: _screens,
    OutcomeStep: _outcomes,
    AnswerStep: _answers,
    MessageStep: _messages,
    ManifestStep: _manifests,
}


def score_step(step: Step, found: list[Found], start: datetime) -> StepScore:
    """The first right action decides the step; with none, the first wrong one."""
    if not found:
        return StepScore(step.id, NOT_DONE, 0, None, "")
    right = sorted((f for f in found if f[0]), key=lambda f: f[1])
    chosen = right[0] if right else min(found, key=lambda f: f[1])
    ok, at, evidence = chosen
    seconds = max(0, int((at - start).total_seconds()))
    if not ok:
        return StepScore(step.id, WRONG, 0, seconds, evidence)
    if step.within_seconds is not None and seconds > step.within_seconds:
        return StepScore(step.id, LATE, step.points // 2, seconds, evidence)
    return StepScore(step.id, RIGHT, step.points, seconds, evidence)


def score_trainee(
    session: Session, scenario: Scenario, planted: Planted, username: str, bureau: str,
    window: Window,
) -> TraineeScore:  # fmt: skip
    steps = tuple(
        score_step(step, FINDERS[type(step)](session, step, username, planted, window),
                   window.start)
        for step in scenario.steps
    )  # fmt: skip
    return TraineeScore(username, bureau, steps, scenario.total_points)
