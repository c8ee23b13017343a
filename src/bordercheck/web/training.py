"""Training in the console: the scenario library (read, check and import a file, download
one), starting an exercise for a group, its live scores (htmx polling a fragment) and its
final result, past exercises; and, for trainees, the briefing of their running exercise.
The same services and role lists as ``/api/v1/training``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from bordercheck.api.types import attachment
from bordercheck.errors import BordercheckError, ValidationFailed
from bordercheck.training import exercises, library
from bordercheck.training.exercises import READERS, TRAINEE_ROLES, TRAINERS
from bordercheck.training.scenario import MAX_BYTES, parse_scenario
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router
from bordercheck.web.sessions import Viewer

router = console_router()

LABELS = {"file": N_("Scenario file"), "scenario": N_("Scenario"), "trainees": N_("Trainees")}
KINDS = {
    "screen": N_("a check of the document"),
    "outcome": N_("the outcome recorded on the hit"),
    "answer": N_("the owner's answer to the hit"),
    "message": N_("a message to the bureau"),
    "manifest": N_("the passenger list uploaded"),
}
STATUSES = {
    "right": N_("right"),
    "late": N_("right, but late"),
    "wrong": N_("wrong"),
    "not_done": N_("not done yet"),
}
EXPECTED = {
    "hit": N_("Hit"), "possible_hit": N_("Possible hit"), "no_hit": N_("No hit"),
    "seized": N_("document seized"), "refused_entry": N_("refused entry"),
    "arrested": N_("arrested"), "released": N_("released"), "other": N_("other"),
    "confirmed": N_("confirmed"), "not_confirmed": N_("not confirmed"),
    "no_match": N_("no match"),
}  # fmt: skip


def _context(request: Request, viewer: Viewer, **more: Any) -> dict[str, Any]:
    return {"viewer": viewer, "lang": language_of(request, viewer).code, "kinds": KINDS,
            "statuses": STATUSES, "expected": EXPECTED, "labels": LABELS, **more}  # fmt: skip


def _library_page(
    request: Request, viewer: Viewer, *, errors: dict[str, str] | None = None,
    problems: list[str] | None = None, valid: str | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    with database_of(request).session() as session:
        scenarios = library.every_scenario(session)
        found = exercises.visible(session, viewer.principal)
    context = _context(
        request, viewer, scenarios=scenarios, exercises=found, errors=errors or {},
        problems=problems or [], valid=valid, trainer=viewer.role in TRAINERS,
        max_bytes=MAX_BYTES,
    )  # fmt: skip
    return render(request, "training/library.html", context,
                  language=language_of(request, viewer), status_code=status_code)  # fmt: skip


@router.get("/training")
def training_page(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *READERS)
    return _library_page(request, viewer)


@router.post("/training/scenarios")
async def upload_scenario(request: Request, viewer: ViewerDep) -> Response:
    """Check a scenario file (``action=validate``) or check and import it."""
    allow(viewer, *TRAINERS)
    language = language_of(request, viewer)
    form = await request.form(max_part_size=MAX_BYTES + 1024)
    upload = form.get("file")
    action = form.get("action")
    if not isinstance(upload, UploadFile) or not upload.filename:
        message = translate(language, N_("Choose the scenario file, in YAML or JSON."))
        return _library_page(request, viewer, errors={"file": message}, status_code=422)
    raw = await upload.read(MAX_BYTES + 1)
    filename = upload.filename
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        message = translate(language, N_("The file is not UTF-8 text."))
        return _library_page(request, viewer, errors={"file": message}, status_code=422)
    try:
        if action == "validate":
            scenario = parse_scenario(source, filename)
            return _library_page(request, viewer, valid=scenario.id)
        with database_of(request).session(write=True) as session:
            item, _ = library.import_scenario(session, viewer.principal, source, filename)
    except ValidationFailed as failed:
        problems = [
            (f"{filename}, " + translate(language, N_("line %(line)s"), line=e.line) + ": "
             if e.line is not None else f"{filename}: ") + f"{e.field}: {e.reason}"
            for e in failed.errors
        ]  # fmt: skip
        message = translate(language, N_("The scenario file has problems; each is listed below."))
        return _library_page(
            request, viewer, errors={"file": message}, problems=problems, status_code=422
        )
    except BordercheckError as refused:
        return _library_page(
            request, viewer, errors={"file": refused.message}, status_code=refused.status_code
        )
    return RedirectResponse(f"/training/scenarios/{item.id}?imported=1", status_code=303)


@router.get("/training/scenarios/{scenario_id}")
def scenario_page(request: Request, viewer: ViewerDep, scenario_id: str) -> Response:
    allow(viewer, *READERS)
    with database_of(request).session() as session:
        item = library.find(session, scenario_id)
    context = _context(request, viewer, item=item, trainer=viewer.role in TRAINERS)
    return render(request, "training/scenario.html", context,
                  language=language_of(request, viewer))  # fmt: skip


@router.get("/training/scenarios/{scenario_id}/export")
def export_scenario(request: Request, viewer: ViewerDep, scenario_id: str) -> Response:
    allow(viewer, *READERS)
    with database_of(request).session() as session:
        item = library.find(session, scenario_id)
    media = "application/json" if item.filename.endswith(".json") else "application/yaml"
    return Response(
        item.source.encode(), media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": attachment(item.filename)},
    )  # fmt: skip


def _start_page(
    request: Request, viewer: Viewer, form: dict[str, str], errors: dict[str, str],
    status_code: int = 200,
) -> Response:  # fmt: skip
    with database_of(request).session() as session:
        scenarios = library.every_scenario(session)
    context = _context(request, viewer, scenarios=scenarios, form=form, errors=errors)
    return render(request, "training/start.html", context,
                  language=language_of(request, viewer), status_code=status_code)  # fmt: skip


@router.get("/training/exercises/new")
def new_exercise_page(request: Request, viewer: ViewerDep, scenario: str = "") -> Response:
    allow(viewer, *TRAINERS)
    return _start_page(request, viewer, {"scenario": scenario[:64]}, {})


@router.post("/training/exercises")
def start_exercise(
    request: Request,
    viewer: ViewerDep,
    scenario: Annotated[str, Form(max_length=64)] = "",
    trainees: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    allow(viewer, *TRAINERS)
    language = language_of(request, viewer)
    form = {"scenario": scenario, "trainees": trainees}
    names = [n.strip() for n in trainees.replace("\n", ",").split(",") if n.strip()]
    errors: dict[str, str] = {}
    if not scenario:
        errors["scenario"] = translate(language, N_("Choose a scenario."))
    if not names:
        errors["trainees"] = translate(language, N_("Name at least one trainee."))
    if errors:
        return _start_page(request, viewer, form, errors, status_code=422)
    try:
        with database_of(request).session(write=True) as session:
            view = exercises.start(session, settings_of(request), viewer.principal, scenario, names)
    except ValidationFailed as failed:
        reasons = [problem.reason for problem in failed.errors]
        return _start_page(request, viewer, form, {"trainees": "; ".join(reasons)}, 422)
    except BordercheckError as refused:
        return _start_page(request, viewer, form, {"scenario": refused.message},
                           refused.status_code)  # fmt: skip
    return RedirectResponse(f"/training/exercises/{view.id}", status_code=303)


@router.get("/training/exercises/{exercise_id}")
def exercise_page(request: Request, viewer: ViewerDep, exercise_id: int) -> Response:
    """The scores: live (the table polls itself) while the exercise runs, final after."""
    allow(viewer, *READERS)
    with database_of(request).session() as session:
        scores = exercises.scores(session, exercises.get(session, viewer.principal, exercise_id))
    context = _context(request, viewer, scores=scores, view=scores.exercise,
                       trainer=viewer.role in TRAINERS)  # fmt: skip
    fragment = bool(request.headers.get("HX-Request"))
    template = "training/_scores.html" if fragment else "training/exercise.html"
    return render(request, template, context, language=language_of(request, viewer))


@router.post("/training/exercises/{exercise_id}/end")
def end_exercise(request: Request, viewer: ViewerDep, exercise_id: int) -> Response:
    allow(viewer, *TRAINERS)
    with database_of(request).session(write=True) as session:
        exercises.end(session, viewer.principal, exercise_id)
    return RedirectResponse(f"/training/exercises/{exercise_id}", status_code=303)


@router.get("/training/briefing")
def briefing_page(request: Request, viewer: ViewerDep) -> Response:
    """A trainee's running exercises: the briefing and what they are handed."""
    allow(viewer, *TRAINEE_ROLES)
    with database_of(request).session() as session:
        running = exercises.running_for(session, viewer.name)
    context = _context(request, viewer, running=running)
    return render(request, "training/briefing.html", context,
                  language=language_of(request, viewer))  # fmt: skip
