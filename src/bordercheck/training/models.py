"""Tables of the exercises: scenarios trainers imported, exercises run from them, who takes
part, and each trainee's results as frozen when the exercise ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class StoredScenario(Base):
    """A scenario a trainer imported: its text as written (the library's are in the package)."""

    __tablename__ = "training_scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(4000))
    filename: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    imported_by: Mapped[str] = mapped_column(String(100))


class Exercise(Base):
    """A scenario planted and run for a group; the scenario's text is kept as it was run."""

    __tablename__ = "training_exercises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    planted: Mapped[str] = mapped_column(Text)  # JSON: record ids by ref, materials
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    started_by: Mapped[str] = mapped_column(String(100))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(100))


class ExerciseTrainee(Base):
    """A trainee's account in an exercise."""

    __tablename__ = "training_trainees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("training_exercises.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    bureau_code: Mapped[str] = mapped_column(String(3))

    __table_args__ = (UniqueConstraint("exercise_id", "username"),)


class StepResult(Base):
    """One trainee's result on one step, written when the exercise ends (scores frozen)."""

    __tablename__ = "training_step_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("training_exercises.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    step_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # right, late, wrong, not_done
    points: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(String(400))

    __table_args__ = (UniqueConstraint("exercise_id", "username", "step_id"),)
