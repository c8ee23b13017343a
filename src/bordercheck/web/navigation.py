"""The console's pages by role: the menu and the home page list what each person may open."""

from __future__ import annotations

from dataclasses import dataclass

from bordercheck.auth.models import Role
from bordercheck.directory.service import READERS as DIRECTORY_READERS
from bordercheck.messaging.access import READERS as MESSAGE_READERS
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
        "/messages",
        N_("Messages"),
        N_("Threads between your bureau and the others, with their attachments."),
        MESSAGE_READERS,
    ),
    Page(
        "/directory",
        N_("Contact directory"),
        N_("Focal points of every bureau: search them, save them as vCards."),
        DIRECTORY_READERS,
    ),
]


def pages_for(role: Role) -> list[Page]:
    return [page for page in PAGES if role in page.roles]
