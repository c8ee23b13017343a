"""Who may read what, beyond the roles an endpoint requires.

Writing records is ``Actor.ensure_may_write_records_of`` (the issuing country's bureau).
Reading a record's details is narrower than screening: screening tells anyone allowed to
screen that a document is recorded, with its number, country, type and status; the rest
(holder, circumstances, history) stays with the owning bureau, the secretariat's analysts
and the administrators who run the system.
"""

from __future__ import annotations

from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.errors import Forbidden

RECORD_WRITERS = (Role.ADMIN, Role.BUREAU_OFFICER)


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


def ensure_may_read_record(
    principal: Principal, record_id: int, country: str, secretariat_code: str
) -> None:
    """403, not 404: screening already tells callers that the record exists."""
    if not may_read_records_of(principal, country, secretariat_code):
        raise Forbidden(
            f"record {record_id} may be read only by its issuing country's bureau and the "
            "secretariat's analysts; ask the owning bureau about a hit through the hit's thread",
            record_id=record_id,
        )


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
