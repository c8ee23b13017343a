"""``bordercheck training …``: sandboxes, the scenario library and exercises."""

from __future__ import annotations

from bordercheck.console import new_app
from bordercheck.training.exercise_cli import exercise_app, scenario_app
from bordercheck.training.sandbox_cli import sandbox_app

training_app = new_app(
    "Training: sandboxes filled from a synthetic world, scenarios, and exercises."
)
training_app.add_typer(sandbox_app, name="sandbox")
training_app.add_typer(scenario_app, name="scenario")
training_app.add_typer(exercise_app, name="exercise")
