"""The hits inbox: the cases on our records to answer, and the cases our screenings opened,
the nearest deadline first, refreshed in place while the page is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Request, Response
from sqlalchemy.orm import Session

from bordercheck.auth.models import Role
from bordercheck.hits import cases
from bordercheck.hits.api import CASE_ROLES
from bordercheck.hits.models import Hit
from bordercheck.timestamps import utcnow
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.hits.names import NAMES, digest, time_left
from bordercheck.web.i18n import Language
from bordercheck.web.render import render
from bordercheck.web.routing import console_router
from bordercheck.web.sessions import Viewer

router = console_router()

PAGE_SIZE = 25
Side = Literal["owner", "querying"]
State = Literal["open", "answered", "closed", "escalated"]


@dataclass(frozen=True)
class Row:
    """One case as a line of the inbox."""

    hit: Hit
    document: str | None  # None: the owner withholds the record from this bureau
    other_bureau: str
    overdue: bool
    time_left: str


def case_viewer(request: Request, viewer: Viewer) -> cases.Viewer:
    return cases.Viewer(viewer.principal.actor(), settings_of(request).secretariat_code)


def sides_of(role: Role) -> list[Side]:
    """The inbox's tabs: the owner's side for bureau officers, the querying side for those
    who screen; administrators see both."""
    sides: list[Side] = []
    if role is Role.ADMIN or role in cases.OWNER_ROLES:
        sides.append("owner")
    if role is Role.ADMIN or role in cases.QUERYING_ROLES:
        sides.append("querying")
    return sides


def _rows(
    session: Session, who: cases.Viewer, found: list[Hit], language: Language, now: datetime
) -> list[Row]:
    rows = []
    for hit in found:
        record = cases.record_for(session, who, hit)
        document = (
            None if record is None else f"{record.document_number} · {record.issuing_country}"
        )
        other = (
            hit.querying_bureau if who.actor.bureau_code == hit.owner_bureau else hit.owner_bureau
        )
        rows.append(
            Row(hit, document, other, cases.overdue(hit, now), time_left(language, hit.due_at, now))
        )
    return rows


@router.get("/hits")
def inbox(
    request: Request,
    viewer: ViewerDep,
    side: Side | None = None,
    state: Annotated[State | Literal[""] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    v: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    allow(viewer, *CASE_ROLES)
    language = language_of(request, viewer)
    sides = sides_of(viewer.role)
    if side not in sides:
        side = sides[0] if sides else None
    if state is None:  # what each side works on: the owner answers open cases
        state = "open" if side == "owner" else ""
    who = case_viewer(request, viewer)
    now = utcnow()
    with database_of(request).session() as session:
        found = cases.cases_by_deadline(
            session, who, role=side, state=state or None,
            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1,
        )  # fmt: skip
        rows = _rows(session, who, found[:PAGE_SIZE], language, now)
    version = digest(
        [
            (r.hit.id, r.hit.state, r.hit.answer, r.hit.outcome, r.overdue, r.time_left)
            for r in rows
        ],
        len(found),
    )
    live = bool(request.headers.get("HX-Request"))
    if live and v == version:
        return Response(status_code=204)  # nothing changed: htmx leaves the list as it is
    query = {"side": side or "", "state": state, "page": page}
    return render(
        request,
        "hits/_inbox.html" if live else "hits/inbox.html",
        {
            "viewer": viewer,
            "sides": sides,
            "side": side,
            "state": state,
            "states": ["open", "answered", "closed", "escalated"],
            "page": page,
            "more": len(found) > PAGE_SIZE,
            "rows": rows,
            "overdue": sum(r.overdue for r in rows),
            "query": query,
            "live_version": version,
            "live": live,
            "names": NAMES,
        },
        language=language,
    )


@router.get("/hits/badge")
def badge(request: Request, viewer: ViewerDep) -> Response:
    """The menu's count of cases on our records waiting for our answer."""
    allow(viewer, *CASE_ROLES)
    count = 0
    if "owner" in sides_of(viewer.role):
        with database_of(request).session() as session:
            count = cases.count_open(session, case_viewer(request, viewer), role="owner")
    return render(
        request,
        "hits/_badge.html",
        {"count": count, "what": "cases"},
        language=language_of(request, viewer),
    )
