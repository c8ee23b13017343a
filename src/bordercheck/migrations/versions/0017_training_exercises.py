"""training exercises: imported scenarios, exercises, their trainees and frozen results

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=4000), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scenario_id"),
    )
    op.create_table(
        "training_exercises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("planted", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_training_exercises_started_at", "training_exercises", ["started_at"], unique=False
    )
    op.create_table(
        "training_trainees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(["exercise_id"], ["training_exercises.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exercise_id", "username"),
    )
    op.create_index(
        "ix_training_trainees_exercise_id", "training_trainees", ["exercise_id"], unique=False
    )
    op.create_index(
        "ix_training_trainees_username", "training_trainees", ["username"], unique=False
    )
    op.create_table(
        "training_step_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["exercise_id"], ["training_exercises.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exercise_id", "username", "step_id"),
    )
    op.create_index(
        "ix_training_step_results_exercise_id",
        "training_step_results",
        ["exercise_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_training_step_results_exercise_id", table_name="training_step_results")
    op.drop_table("training_step_results")
    op.drop_index("ix_training_trainees_username", table_name="training_trainees")
    op.drop_index("ix_training_trainees_exercise_id", table_name="training_trainees")
    op.drop_table("training_trainees")
    op.drop_index("ix_training_exercises_started_at", table_name="training_exercises")
    op.drop_table("training_exercises")
    op.drop_table("training_scenarios")
