"""What exercise tests share: trainees in bureaus of their own, and the clock moved on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bordercheck.db import Database
from bordercheck.hits.models import Hit
from bordercheck.manifests.models import StoredManifest
from bordercheck.messaging.models import Message
from bordercheck.screening.models import ScreeningQuery
from bordercheck.training.models import Exercise

# Each trainee acts for a bureau of their own, as officers at different borders do: trainees
# of one bureau would share its hit cases.
TRAINEES = {"ana": "BEL", "ben": "AUT", "cleo": "CHE"}


def time_passes(database: Database, seconds: int) -> None:
    """Everything that has happened happened ``seconds`` earlier: the exercises started then,
    and what the trainees did so far too (no test sleeps to make a trainee slow)."""
    step = timedelta(seconds=seconds)
    moved = {
        Exercise: ("started_at",), ScreeningQuery: ("at",), Hit: ("outcome_at", "answered_at"),
        Message: ("created_at",), StoredManifest: ("received_at",),
    }  # fmt: skip
    with database.session(write=True) as session:
        for table, columns in moved.items():
            for row in session.scalars(select(table)):
                for column in columns:
                    value = getattr(row, column)
                    if value is not None:
                        setattr(row, column, value - step)
