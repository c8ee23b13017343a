"""The scenarios a trainer can run: the library shipped with bordercheck, and the ones trainers
imported into this sandbox (which go with the sandbox when it is handed to another trainer)."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth.tokens import Principal
from bordercheck.errors import Conflict, FieldError, NotFound, ValidationFailed
from bordercheck.timestamps import utcnow
from bordercheck.training.models import StoredScenario
from bordercheck.training.scenario import Scenario, parse_scenario

LIBRARY = Path(__file__).parent / "library"


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario with the text it was read from (exported as written, comments and all)."""

    filename: str
    source: str
    scenario: Scenario
    shipped: bool
    imported_at: datetime | None = None
    imported_by: str | None = None

    @property
    def id(self) -> str:
        return self.scenario.id


@functools.cache
def shipped() -> tuple[ScenarioFile, ...]:
    """The library's scenarios, in the order of their files."""
    found = []
    for path in sorted(LIBRARY.glob("*.yaml")):
        source = path.read_text(encoding="utf-8")
        found.append(ScenarioFile(path.name, source, parse_scenario(source, path.name), True))
    return tuple(found)


def _imported(row: StoredScenario) -> ScenarioFile:
    scenario = parse_scenario(row.source, row.filename)
    return ScenarioFile(row.filename, row.source, scenario, False, row.imported_at, row.imported_by)


def every_scenario(session: Session) -> list[ScenarioFile]:
    rows = session.scalars(select(StoredScenario).order_by(StoredScenario.scenario_id))
    return [*shipped(), *(_imported(row) for row in rows)]


def find(session: Session, scenario_id: str) -> ScenarioFile:
    for item in shipped():
        if item.id == scenario_id:
            return item
    row = session.scalar(select(StoredScenario).where(StoredScenario.scenario_id == scenario_id))
    if row is None:
        raise NotFound(f"no scenario {scenario_id!r} in the library or imported here")
    return _imported(row)


def import_scenario(
    session: Session, principal: Principal, source: str, filename: str
) -> tuple[ScenarioFile, bool]:
    """Store a trainer's scenario after checking it; a second import of an id replaces it.

    Answers the scenario and whether it replaced one. A library scenario's id is refused:
    a changed copy of one gets an id of its own.
    """
    filename = Path(filename.replace("\\", "/")).name or "scenario.yaml"
    if any(unicodedata.category(c)[0] == "C" for c in filename):
        raise ValidationFailed(
            errors=[FieldError(field="file", reason="a file name holds no control characters")]
        )
    if not filename.lower().endswith((".yaml", ".yml", ".json")):
        raise ValidationFailed(
            errors=[FieldError(field="file", reason="a scenario file ends in .yaml, .yml or .json")]
        )
    scenario = parse_scenario(source, filename)
    if any(item.id == scenario.id for item in shipped()):
        raise Conflict(
            f"{scenario.id!r} is a library scenario; give your copy an id of its own",
            field="id",
        )
    row = session.scalar(select(StoredScenario).where(StoredScenario.scenario_id == scenario.id))
    replaced = row is not None
    if row is None:
        row = StoredScenario(scenario_id=scenario.id)
        session.add(row)
    row.title, row.filename, row.source = scenario.title.en, filename, source
    row.imported_at, row.imported_by = utcnow(), principal.actor().name
    session.flush()
    record_event(
        session, actor=principal.actor().name, bureau_code=principal.bureau_code,
        action="training.scenario_imported", subject=f"scenario:{scenario.id}",
        details={"filename": filename, "replaced": replaced, "steps": len(scenario.steps)},
    )  # fmt: skip
    return _imported(row), replaced
