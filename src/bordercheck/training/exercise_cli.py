"""``bordercheck training scenario …`` and ``training exercise …``: the scenario library and
exercises, run on the server of a training sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from bordercheck.console import err, new_app, out, state
from bordercheck.errors import ValidationFailed

if TYPE_CHECKING:
    from bordercheck.auth.tokens import Principal
    from bordercheck.settings import Settings

scenario_app = new_app("Scenarios: the library, and the files trainers write.")
exercise_app = new_app("Exercises: a scenario planted for a group of trainees, and their scores.")


def _trainer(settings: Settings) -> Principal:
    """Who a command run on the server acts as: the operator, as a trainer of the secretariat
    (one who runs commands on the server is trusted as its administrators are)."""
    from bordercheck.auth.models import Role
    from bordercheck.auth.tokens import command_line_principal

    return command_line_principal(Role.TRAINER, settings.secretariat_code)


@scenario_app.command("list")
def list_scenarios(ctx: typer.Context) -> None:
    """Every scenario: the library's and those imported here; id, points, steps, title."""
    from bordercheck.training import library

    cli = state(ctx)
    with cli.database.session() as session:
        found = library.every_scenario(session)
    for item in found:
        origin = "library" if item.shipped else f"imported by {item.imported_by}"
        out.print(
            f"{item.id}\t{item.scenario.total_points} points\t{len(item.scenario.steps)} steps\t"
            f"{origin}\t{item.scenario.title.en}",
            soft_wrap=True,
        )


@scenario_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON.")],
) -> None:
    """Check a scenario file: every problem, with its line and field (exit 1 if any)."""
    from bordercheck.training.scenario import parse_scenario

    try:
        scenario = parse_scenario(file.read_text(encoding="utf-8"), file.name)
    except UnicodeDecodeError:
        err.print(f"[red]error:[/] {file}: not UTF-8 text", soft_wrap=True)
        raise typer.Exit(1) from None
    except ValidationFailed as failed:
        for problem in failed.errors:
            where = f"line {problem.line}: " if problem.line is not None else ""
            err.print(f"[red]error:[/] {file}: {where}{problem.field}: {problem.reason}",
                      soft_wrap=True)  # fmt: skip
        raise typer.Exit(1) from None
    out.print(
        f"{file}: scenario {scenario.id} is valid ({len(scenario.steps)} steps, "
        f"{scenario.total_points} points)",
        soft_wrap=True,
    )


@scenario_app.command("export")
def export(
    ctx: typer.Context,
    scenario_id: Annotated[str, typer.Argument(metavar="ID", help="The scenario's id.")],
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, help="The file to write.")],
) -> None:
    """Write a scenario's file as written (to hand to another trainer, or to change)."""
    from bordercheck.training import library

    cli = state(ctx)
    with cli.database.session() as session:
        item = library.find(session, scenario_id)
    out_file.write_text(item.source, encoding="utf-8")
    out.print(f"{out_file} ({len(item.source.encode()):,} bytes)", soft_wrap=True)


@scenario_app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON.")],
) -> None:
    """Check a scenario file and store it in this database (the same id again replaces it)."""
    from bordercheck.training import library

    cli = state(ctx)
    try:
        source = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        err.print(f"[red]error:[/] {file}: not UTF-8 text", soft_wrap=True)
        raise typer.Exit(1) from None
    with cli.database.session(write=True) as session:
        item, replaced = library.import_scenario(session, _trainer(cli.settings), source, file.name)
    verb = "replaced" if replaced else "imported"
    out.print(f"scenario {item.id} {verb} from {file}", soft_wrap=True)


@exercise_app.command("start")
def start(
    ctx: typer.Context,
    scenario_id: Annotated[str, typer.Argument(metavar="SCENARIO", help="The scenario's id.")],
    trainees: Annotated[str, typer.Option(help="The trainees' usernames, separated by commas.")],
) -> None:
    """Plant the scenario in this training sandbox and start the clock for the trainees."""
    from bordercheck.training import exercises

    cli = state(ctx)
    names = [name.strip() for name in trainees.split(",") if name.strip()]
    with cli.database.session(write=True) as session:
        view = exercises.start(session, cli.settings, _trainer(cli.settings), scenario_id, names)
    out.print(
        f"exercise {view.id} started: {view.scenario.id} for {', '.join(names)}", soft_wrap=True
    )


@exercise_app.command("scores")
def scores(
    ctx: typer.Context,
    exercise_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The exercise.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Each trainee's points, steps right and time taken (live, or frozen once ended)."""
    from bordercheck.training import exercises

    cli = state(ctx)
    with cli.database.session() as session:
        found = exercises.scores(session, exercises.find(session, exercise_id))
    if as_json:
        out.print_json(orjson.dumps(found.as_dict()).decode())
        return
    view = found.exercise
    state_text = "ended" if found.frozen else "running"
    out.print(f"exercise {view.id}: {view.scenario.id} ({state_text})", soft_wrap=True)
    table = Table()
    for column in ("trainee", "points", *(step.id for step in view.scenario.steps), "time"):
        table.add_column(column)
    for trainee in found.trainees:
        seconds = trainee.seconds
        table.add_row(
            trainee.username,
            f"{trainee.points}/{trainee.possible}",
            *(f"{s.status} {s.points}" for s in trainee.steps),
            "—" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}",
        )
    out.print(table)


@exercise_app.command("end")
def end(
    ctx: typer.Context,
    exercise_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The exercise.")],
) -> None:
    """Stop the clock: the scores are frozen as they stand."""
    from bordercheck.training import exercises

    cli = state(ctx)
    with cli.database.session(write=True) as session:
        found = exercises.end(session, _trainer(cli.settings), exercise_id)
    points = ", ".join(f"{t.username} {t.points}/{t.possible}" for t in found.trainees)
    out.print(f"exercise {exercise_id} ended: {points}", soft_wrap=True)
