"""Loading a synthetic world through the system's own paths: bureaus, the records import,
passenger lists screened and stored as airlines' lists are, desk screenings at land and sea
posts, then each hit answered by its owner and its outcome recorded by the querying side.

So the hits, cases and audit entries the analysis reads are real ones. Screenings are dated
at the world's own times (a flight's hits at its departure), not at the time of loading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select

from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.auth.service import add_bureau, bureau_ids_by_country, ensure_secretariat
from bordercheck.db import Database
from bordercheck.documents.countries import country_name
from bordercheck.errors import BordercheckError, InvalidInput
from bordercheck.hits.cases import Viewer, answer_case, record_outcome
from bordercheck.hits.models import Action, Answer, Hit, HitState, Outcome
from bordercheck.hits.service import CaseOpener
from bordercheck.manifests import service as manifests
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.messaging.service import CentreNotes
from bordercheck.registry.import_writer import ImportRejected
from bordercheck.registry.importer import Importer
from bordercheck.registry.schemas import field_errors
from bordercheck.screening.live import build_from_registry, screening_key, withheld_records
from bordercheck.screening.querylog import LoggedQuery, write_entries
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.screening.service import Asker, screen_requests
from bordercheck.settings import Settings

ACTOR = "synth:load"
Progress = Callable[[str], None]


def _dated(logged: list[LoggedQuery], at: datetime) -> None:
    for query in logged:
        query.at = at
        query.hits = tuple(dataclasses.replace(hit, at=at) for hit in query.hits)


def load_world(
    database: Database, settings: Settings, directory: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Load the world in ``directory`` (as ``synth world`` wrote it); returns counts."""
    say = progress or (lambda _: None)
    world = _described(directory)
    records_file = directory / "records.jsonl"
    posts = {post["code"]: post for post in world["posts"]}
    numbered = _rows(records_file)
    rows = [row for _, row in numbered]
    countries = world.get("bureaus") or sorted(
        {str(row.get("issuing_country", "")).upper() for row in rows} - {""}
    )
    system = Actor(name=ACTOR, role=Role.ADMIN, bureau_code=settings.secretariat_code)
    with database.session(write=True) as session:
        ensure_secretariat(session, settings.secretariat_code, settings.secretariat_name)
        known = bureau_ids_by_country(session)
        for country in countries:
            if country not in known and country != settings.secretariat_code:
                add_bureau(session, country, f"NCB {country_name(country)}", actor=ACTOR)
    say("bureaus ready")
    with database.session(write=True) as session:
        importer = Importer(session, system, batch_size=settings.import_batch_size)
        for line, row in numbered:
            importer.add(line, row)
        try:
            report = importer.finish()
        except ImportRejected as exc:
            first = exc.report.errors[0]
            raise InvalidInput(
                f"{records_file}: line {first.line:,}: {first.field}: {first.reason} ({exc})"
            ) from None
    say(f"{report.rows:,} records imported")
    index = build_from_registry(database, screening_key(settings.secret_key))
    withheld = withheld_records(database)
    # What screening finds opens hit cases, in the transaction that logs the queries.
    on_hits = [CaseOpener.from_settings(settings)]
    folder = directory / "manifests"
    files = sorted(f for f in folder.glob("*") if f.is_file() and not f.name.startswith("."))
    travellers = 0
    for number, file in enumerate(files, 1):
        try:
            interchange = parse_paxlst(file.read_bytes())
        except BordercheckError as exc:
            raise InvalidInput(f"{file}: {exc}") from None
        for manifest in interchange.manifests:
            arrival = posts.get(manifest.arrival or "")
            bureau = (arrival or {}).get("country") or settings.secretariat_code
            asker = Asker(kind="command", name=ACTOR, bureau_code=bureau)
            screened = manifests.screen_manifest(
                index,
                manifest,
                asker,
                location=manifest.arrival,
                withheld_from=lambda r: withheld.get(r, frozenset()),
            )
            when = manifest.departure_at or datetime.now().astimezone()
            _dated(screened.logged, when)
            with database.session(write=True) as session:
                # Received now (the retention counts from here); screened at the flight's time.
                manifests.store(session, interchange, screened, asker, source="cli")
                write_entries(session, screened.logged, on_hits=on_hits)
            travellers += len(manifest.travellers)
        if number % 200 == 0:
            say(f"{number:,} of {len(files):,} passenger lists screened")
    desk = 0
    screenings = directory / "screenings.jsonl"
    for line, row in _rows(screenings):
        post = posts.get(row.get("location") or "", {})
        bureau = post.get("country") or settings.secretariat_code
        asker = Asker(kind="command", name=ACTOR, bureau_code=bureau)
        request, at = _screening(screenings, line, row)
        answered = screen_requests(
            index,
            [request],
            asker,
            source="desk",
            withheld_from=lambda r: withheld.get(r, frozenset()),
        )
        logged = [a.logged for a in answered]
        if at is not None:
            _dated(logged, at)
        with database.session(write=True) as session:
            write_entries(session, logged, on_hits=on_hits)
        desk += 1
    say(f"{len(files):,} passenger lists and {desk:,} desk screenings done; answering hits")
    hits = _answer_hits(database, settings)
    return {
        "records": report.rows,
        "manifests": len(files),
        "travellers": travellers,
        "desk_screenings": desk,
        "hits": hits,
    }


def check_world(directory: Path) -> tuple[int, int]:
    """Refuse what is not a world ``load_world`` reads; returns its seed and weeks as its
    ``world.json`` gives them (0 when it does not say: a world made by another tool)."""
    world = _described(directory)
    given = world.get("seed", 0), world.get("weeks", 0)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in given):
        raise InvalidInput(f"{directory / 'world.json'}: seed and weeks must be whole numbers")
    return given


def _described(directory: Path) -> dict[str, Any]:
    """The world's own description: ``world.json`` names its bureaus and border posts. Without
    it (a world made by another tool) the bureaus are the records' countries, and a passenger
    list is screened by the secretariat."""
    world_file = directory / "world.json"
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory: make a world with `synth world`")
    if not world_file.is_file() and not (directory / "records.jsonl").is_file():
        raise InvalidInput(
            f"{directory} holds neither world.json nor records.jsonl: make a world with "
            "`synth world`"
        )
    if not world_file.is_file():
        return {"posts": []}
    try:
        world = orjson.loads(world_file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{world_file} is not JSON: {exc}") from None
    posts = world.get("posts", []) if isinstance(world, dict) else None
    if not isinstance(posts, list) or not all(
        isinstance(post, dict) and isinstance(post.get("code"), str) for post in posts
    ):
        raise InvalidInput(
            f"{world_file}: expected an object whose posts are a list of objects with a code"
        )
    bureaus = world.get("bureaus", [])
    if not isinstance(bureaus, list) or not all(isinstance(code, str) for code in bureaus):
        raise InvalidInput(f"{world_file}: bureaus must be a list of country codes")
    return {**world, "posts": posts}


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON Lines file with their line numbers (none if there is no file);
    a line that is not an object is refused by its number."""
    if not path.is_file():
        return []
    rows = []
    for line, raw in enumerate(path.read_bytes().splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = orjson.loads(raw)
        except orjson.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            raise InvalidInput(f"{path}: line {line:,}: expected a JSON object")
        rows.append((line, row))
    return rows


def _screening(path: Path, line: int, row: dict[str, Any]) -> tuple[ScreenRequest, datetime | None]:
    """A desk screening of the world: its request and when it was made."""
    try:
        request = ScreenRequest(
            document_number=row.get("document_number"),
            issuing_country=row.get("issuing_country"),
            location=row.get("location"),
        )
        at = datetime.fromisoformat(row["at"]) if row.get("at") else None
    except ValidationError as exc:
        first = field_errors(exc)[0]
        where = "" if first.field == "record" else f"{first.field}: "
        raise InvalidInput(f"{path}: line {line:,}: {where}{first.reason}") from None
    except (TypeError, ValueError):
        raise InvalidInput(f"{path}: line {line:,}: at: {row['at']!r} is not a time") from None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return request, at


def _answer_hits(database: Database, settings: Settings) -> int:
    """Each owner confirms its records' hits; each querying side seizes the document."""
    secretariat = settings.secretariat_code
    notes = CentreNotes.from_settings(settings)
    with database.session(write=True) as session:
        cases = list(session.scalars(select(Hit).where(Hit.state == HitState.OPEN.value)))
        for hit in cases:
            owner = Viewer(Actor(ACTOR, Role.BUREAU_OFFICER, hit.owner_bureau), secretariat)
            answer_case(
                session,
                owner,
                hit.id,
                Answer.CONFIRMED,
                action=Action.SEIZE_DOCUMENT,
                note="synthetic world: confirmed",
                now=hit.created_at,
                notes=notes,
            )
            querying = Viewer(Actor(ACTOR, Role.BUREAU_OFFICER, hit.querying_bureau), secretariat)
            record_outcome(
                session,
                querying,
                hit.id,
                Outcome.SEIZED,
                now=hit.created_at + timedelta(minutes=40),
                notes=notes,
            )
    return len(cases)
