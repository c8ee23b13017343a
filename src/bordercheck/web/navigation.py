"""The console's pages by role: the menu and the home page list what each person may open."""

from __future__ import annotations

from dataclasses import dataclass

from bordercheck.analysis.api import READERS as ANALYSIS_READERS
from bordercheck.auth.models import Role
from bordercheck.screening.api import SCREENERS
from bordercheck.web.i18n import N_


@dataclass(frozen=True)
class Page:
    path: str
    title: str  # translated where shown
    summary: str
    roles: tuple[Role, ...]


PAGES: list[Page] = [
    Page(
        "/check",
        N_("Check a document"),
        N_("Is this passport or identity card recorded as stolen or lost?"),
        SCREENERS,
    ),
    Page(
        "/analysis",
        N_("Networks behind stolen documents"),
        N_("Networks of stolen documents, their routes by week and when they change."),
        ANALYSIS_READERS,
    ),
]


def pages_for(role: Role) -> list[Page]:
    return [page for page in PAGES if role in page.roles]
