"""``/training``: the scenario library (read, check, import, export) and exercises (start, live
scores, end) for trainers; administrators read; trainees read their exercise's briefing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import ConfigDict, Field

from bordercheck.api.deps import (
    Principal,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
    require_roles,
)
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import attachment
from bordercheck.errors import ValidationFailed
from bordercheck.inputs import Input
from bordercheck.training import exercises, library
from bordercheck.training.exercises import READERS, TRAINERS, ExerciseView
from bordercheck.training.library import ScenarioFile
from bordercheck.training.scenario import MAX_BYTES, parse_scenario

router = APIRouter(prefix="/training", tags=["training"], dependencies=[Depends(rate_limit)])
TrainerDep = Annotated[Principal, Depends(require_roles(*TRAINERS))]
ReaderDep = Annotated[Principal, Depends(require_roles(*READERS))]
ExerciseIdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="The exercise's id.")]
ScenarioIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class ScenarioText(Input):
    model_config = ConfigDict(extra="forbid")

    filename: Annotated[str, Field(min_length=1, max_length=200)] = "scenario.yaml"
    source: Annotated[str, Field(min_length=1, max_length=MAX_BYTES)]


class ExerciseIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scenario: Annotated[str, Field(min_length=1, max_length=64)]
    trainees: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1)]


def scenario_out(item: ScenarioFile) -> dict[str, Any]:
    s = item.scenario
    return {
        "id": s.id,
        "title": s.title.model_dump(exclude_none=True),
        "briefing": s.briefing.model_dump(exclude_none=True),
        "filename": item.filename,
        "shipped": item.shipped,
        "imported_at": item.imported_at.isoformat() if item.imported_at else None,
        "imported_by": item.imported_by,
        "points": s.total_points,
        "steps": [
            {"id": step.id, "kind": step.kind, "title": step.title.en, "points": step.points,
             "within_seconds": step.within_seconds}
            for step in s.steps
        ],
    }  # fmt: skip


def briefing_out(view: ExerciseView) -> dict[str, Any]:
    return {
        **view.summary(),
        "briefing": view.scenario.briefing.model_dump(exclude_none=True),
        "documents": list(view.planted.documents.values()),
        "manifests": list(view.planted.manifests.values()),
        "kits": list(view.planted.kits.values()),
    }


@router.get("/scenarios")
def list_scenarios(principal: ReaderDep, session: SessionDep) -> dict[str, Any]:
    """The library's scenarios and those imported in this sandbox."""
    return {"scenarios": [scenario_out(item) for item in library.every_scenario(session)]}


@router.get("/scenarios/{scenario_id}")
def read_scenario(
    scenario_id: ScenarioIdPath, principal: ReaderDep, session: SessionDep
) -> dict[str, Any]:
    return scenario_out(library.find(session, scenario_id))


@router.get("/scenarios/{scenario_id}/export")
def export_scenario(
    scenario_id: ScenarioIdPath, principal: ReaderDep, session: SessionDep
) -> Response:
    """The scenario's file as written, to give to another trainer or to change."""
    item = library.find(session, scenario_id)
    media = "application/json" if item.filename.endswith(".json") else "application/yaml"
    return Response(
        item.source.encode(), media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": attachment(item.filename)},
    )  # fmt: skip


@router.post("/scenarios/validate")
def validate_scenario(body: ScenarioText, principal: TrainerDep) -> dict[str, Any]:
    """Check a scenario file without storing it: every problem, with its line."""
    try:
        scenario = parse_scenario(body.source, body.filename)
    except ValidationFailed as failed:
        return {
            "valid": False,
            "errors": [
                {"field": e.field, "reason": e.reason, "line": e.line} for e in failed.errors
            ],
        }
    return {"valid": True, "id": scenario.id, "points": scenario.total_points, "errors": []}


@router.post("/scenarios", status_code=201)
def import_scenario(
    body: ScenarioText, principal: TrainerDep, session: WriteSessionDep, response: Response
) -> dict[str, Any]:
    """Store a scenario in this sandbox (a second import of an id replaces it: 200)."""
    item, replaced = library.import_scenario(session, principal, body.source, body.filename)
    if replaced:
        response.status_code = 200
    return scenario_out(item)


@router.post("/exercises", status_code=201)
def start_exercise(
    body: ExerciseIn, principal: TrainerDep, session: WriteSessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Plant the scenario (in a training sandbox only) and start the clock for the group."""
    view = exercises.start(session, settings, principal, body.scenario, body.trainees)
    return briefing_out(view)


@router.get("/exercises")
def list_exercises(principal: ReaderDep, session: SessionDep) -> dict[str, Any]:
    return {"exercises": [v.summary() for v in exercises.visible(session, principal)]}


@router.get("/exercises/{exercise_id}")
def read_exercise(
    exercise_id: ExerciseIdPath, principal: ReaderDep, session: SessionDep
) -> dict[str, Any]:
    return briefing_out(exercises.get(session, principal, exercise_id))


@router.get("/exercises/{exercise_id}/scores")
def exercise_scores(
    exercise_id: ExerciseIdPath, principal: ReaderDep, session: SessionDep
) -> dict[str, Any]:
    """Each trainee's points, steps right and time taken: live, or frozen once ended."""
    view = exercises.get(session, principal, exercise_id)
    return exercises.scores(session, view).as_dict()


@router.post("/exercises/{exercise_id}/end")
def end_exercise(
    exercise_id: ExerciseIdPath, principal: TrainerDep, session: WriteSessionDep
) -> dict[str, Any]:
    """Stop the clock; the scores are frozen as they stand."""
    return exercises.end(session, principal, exercise_id).as_dict()


@router.get("/briefings")
def my_briefings(principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The running exercises the caller takes part in, with their briefing and materials."""
    found = exercises.running_for(session, principal.name) if principal.kind == "user" else []
    return {"exercises": [briefing_out(view) for view in found]}


@router.get("/exercises/{exercise_id}/briefing")
def exercise_briefing(
    exercise_id: ExerciseIdPath, principal: PrincipalDep, session: SessionDep
) -> dict[str, Any]:
    return briefing_out(exercises.briefing(session, principal, exercise_id))
