"""The console's pages by role: the menu and the home page list what each person may open."""

from __future__ import annotations

from dataclasses import dataclass

from bordercheck.analysis.api import READERS as ANALYSIS_READERS
from bordercheck.auth.api import ADMINS
from bordercheck.auth.models import Role
from bordercheck.auth.policy import RECORD_WRITERS
from bordercheck.directory.service import READERS as DIRECTORY_READERS
from bordercheck.hits.api import CASE_ROLES, NOTIFICATION_ROLES
from bordercheck.manifests.api import READERS as MANIFEST_READERS
from bordercheck.messaging.access import READERS as MESSAGE_READERS
from bordercheck.operations.api import READERS as OPERATION_READERS
from bordercheck.screening.api import SCREENERS
from bordercheck.training.exercises import READERS as TRAINING_READERS
from bordercheck.training.exercises import TRAINEE_ROLES
from bordercheck.web.i18n import N_


@dataclass(frozen=True)
class Page:
    path: str
    title: str  # translated where shown
    summary: str
    roles: tuple[Role, ...]
    badge: str | None = None  # a fragment with a count the menu shows beside the title
    sandbox_only: bool = False  # listed in a training sandbox only


PAGES: list[Page] = [
    Page(
        "/check",
        N_("Check a document"),
        N_("Is this passport or identity card recorded as stolen or lost?"),
        SCREENERS,
    ),
    Page(
        "/hits",
        N_("Hits"),
        N_("Answer the hits on your records; follow the hits from your checks."),
        CASE_ROLES,
        badge="/hits/badge",
    ),
    Page(
        "/records",
        N_("Records"),
        N_("Your bureau's records: search, add, change, withdraw, import a file."),
        RECORD_WRITERS,
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
    Page(
        "/manifests",
        N_("Passenger lists"),
        N_("Upload an airline's PAXLST list and see its travellers, hits first."),
        MANIFEST_READERS,
    ),
    Page(
        "/operations",
        N_("Operations"),
        N_("Live figures of the operations you take part in, and their final reports."),
        OPERATION_READERS,
    ),
    Page(
        "/analysis",
        N_("Networks behind stolen documents"),
        N_("Networks of stolen documents, their routes by week and when they change."),
        ANALYSIS_READERS,
    ),
    Page(
        "/training",
        N_("Training"),
        N_("Scenarios, exercises for a group of trainees and their live scores."),
        TRAINING_READERS,
    ),
    Page(
        "/training/briefing",
        N_("Your exercise"),
        N_("The briefing of the exercise you take part in, and what you are handed."),
        TRAINEE_ROLES,
        sandbox_only=True,
    ),
    Page(
        "/notifications",
        N_("Notifications"),
        N_("What happened to your bureau's cases."),
        NOTIFICATION_ROLES,
        badge="/notifications/badge",
    ),
    Page(
        "/admin",
        N_("Administration"),
        N_("Bureaus, people, API clients, offline kits and the audit trail."),
        ADMINS,
    ),
]


def pages_for(role: Role, training: str | bool | None = None) -> list[Page]:
    """The pages ``role`` may open; a trainee's briefing only in a training sandbox."""
    return [page for page in PAGES if role in page.roles and (training or not page.sandbox_only)]
