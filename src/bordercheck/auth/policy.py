"""Who may read what, beyond the roles an endpoint requires.

Writing records is ``Actor.ensure_may_write_records_of`` (the issuing country's bureau).
Reading a record's details is narrower than screening: screening tells anyone allowed to
screen that a document is recorded, with its number, country, type and status; the rest
(holder, circumstances, history) stays with the owning bureau, the secretariat's analysts
and the administrators who run the system.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.errors import Forbidden

F = TypeVar("F")
RECORD_WRITERS = (Role.ADMIN, Role.BUREAU_OFFICER)
# What a country a record is withheld from is told about it, wherever it would see it.
RESTRICTED = "restricted, contact the owning bureau"


def may_read_records_of(principal: Principal, country: str, secretariat_code: str) -> bool:
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.BUREAU_OFFICER:
        return principal.bureau_code == country
    return principal.role is Role.ANALYST and principal.bureau_code == secretariat_code


def readable_countries(principal: Principal, secretariat_code: str) -> frozenset[str] | None:
    """The countries whose records ``principal`` may list: ``None`` for every country.

    The same rule as reading one record: administrators and the secretariat's analysts read
    all, a bureau officer its own country's; others screen, and may not list (403).
    """
    if principal.role is Role.ADMIN or (
        principal.role is Role.ANALYST and principal.bureau_code == secretariat_code
    ):
        return None
    if principal.role is Role.BUREAU_OFFICER:
        return frozenset({principal.bureau_code})
    raise Forbidden(
        "records may be listed only by bureau officers (their own country's), the "
        "secretariat's analysts and administrators; to check a document, screen it"
    )


def ensure_may_read_record(principal: Principal, country: str, secretariat_code: str) -> None:
    """403, not 404: screening already tells callers that the record exists.

    The message names no record: a country the record is withheld from is never told its id.
    """
    if not may_read_records_of(principal, country, secretariat_code):
        raise Forbidden(
            "a record may be read only by its issuing country's bureau and the secretariat's "
            "analysts; ask the owning bureau about a hit through the hit's thread"
        )


# Withholding. An owner may withhold a record's details from some querying countries:
# screening from there answers "possible hit, restricted", and so must everything else that
# country sees afterwards (its cases, their thread, notifications, webhook events, error
# messages, its offline kit). These two functions are that rule; every exit applies them.


def withheld_codes(stored: str | None) -> frozenset[str]:
    """The countries a record is withheld from, from its stored form (space-separated)."""
    return frozenset((stored or "").split())


def details_withheld(
    bureau: str, owner: str, withheld_from: Collection[str], secretariat_code: str | None = None
) -> bool:
    """Whether ``bureau`` may not see the details of a record ``owner`` withholds from
    ``withheld_from``. The owning bureau and the secretariat always see them."""
    return bureau != owner and bureau != secretariat_code and bureau in withheld_from


def details_withheld_from_viewer(
    role: Role, bureau: str, owner: str, withheld_from: Collection[str], secretariat_code: str
) -> bool:
    """As ``details_withheld``, for a person or client: administrators run the system and
    see every record (``may_read_records_of``), whatever their bureau."""
    if role is Role.ADMIN:
        return False
    return details_withheld(bureau, owner, withheld_from, secretariat_code)


def restricted_notice(owner: str) -> str:
    """The restricted form of a record's details, naming whom to contact."""
    return f"{RESTRICTED} ({owner})"


def ensure_may_follow_changes(principal: Principal, secretariat_code: str) -> None:
    """The changes feed is for the centre's own machines (API nodes, replicas) and staff.

    It names every recorded document, withheld ones included, so a country's border systems
    may not read it: they screen. (Offline kits get their own signed, filtered bundles.)
    """
    if principal.role is Role.ADMIN:
        return
    if principal.role is Role.BUREAU_OFFICER and principal.bureau_code == secretariat_code:
        return
    raise Forbidden(
        "the changes feed is for administrators and the secretariat's bureau officers "
        "(people or API clients)"
    )


# Partner organisations' accounts. Every route refuses them unless it says it is for them
# too (``open_to_partners``): a route added later is closed to them by default, whatever
# roles it lets through and whatever it checks in its body.
OPEN_TO_PARTNERS = "_bordercheck_open_to_partners"


def open_to_partners(endpoint: F) -> F:
    """Mark a route's function as one a partner's account may call (its own rules follow)."""
    setattr(endpoint, OPEN_TO_PARTNERS, True)
    return endpoint


def ensure_open_to(role: Role, endpoint: object) -> None:
    """403 for a partner's account on a route not open to partners."""
    if role is Role.PARTNER and not getattr(endpoint, OPEN_TO_PARTNERS, False):
        raise Forbidden(
            "a partner organisation's account sees only the operations it is invited to, "
            "their figures, reports and message thread"
        )
