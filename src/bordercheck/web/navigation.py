"""The console's pages by role: the menu and the home page list what each person may open."""

from __future__ import annotations

from dataclasses import dataclass

from bordercheck.auth.models import Role
from bordercheck.auth.policy import RECORD_WRITERS
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
        "/records",
        N_("Records"),
        N_("Your bureau's records: search, add, change, withdraw, import a file."),
        RECORD_WRITERS,
    ),
]


def pages_for(role: Role) -> list[Page]:
    return [page for page in PAGES if role in page.roles]
