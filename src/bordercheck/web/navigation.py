"""The console's pages by role: the menu and the home page list what each person may open."""

from __future__ import annotations

from dataclasses import dataclass

from bordercheck.auth.models import Role
from bordercheck.operations.api import READERS as OPERATION_READERS
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
        "/operations",
        N_("Operations"),
        N_("Live figures of the operations you take part in, and their final reports."),
        OPERATION_READERS,
    ),
]


def pages_for(role: Role) -> list[Page]:
    return [page for page in PAGES if role in page.roles]
