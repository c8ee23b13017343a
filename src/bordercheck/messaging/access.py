"""Who may read a thread, and how much of it.

Only the bureaus taking part in a thread read its subject, bodies and attachments. The
central secretariat oversees the traffic: its bureau officers and analysts, and the system's
administrators, see threads' metadata (who, when, how many) and nothing of what was said.
A system administrator does not read police correspondence. Border officers and trainers
have no part in messaging.

A partner organisation's accounts read and write the threads their organisation takes part
in, and those are only the threads of the operations it is invited to: it is added to an
operation's thread when invited and removed when no longer (``operations.thread``). They
start no thread of their own.
"""

from __future__ import annotations

from enum import Enum

from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.errors import Forbidden, NotFound

# Who may open messaging at all (analysts: the secretariat's only, ``ensure_may_use_messaging``),
# and who writes. The API's routes and the console's pages take these.
READERS = (Role.BUREAU_OFFICER, Role.ANALYST, Role.ADMIN)
WRITERS = (Role.BUREAU_OFFICER,)


class View(Enum):
    FULL = "full"
    METADATA = "metadata"


# Who reads and writes a thread their bureau or organisation takes part in.
PARTIES = (Role.BUREAU_OFFICER, Role.PARTNER)
# Who may open one thread (the list of threads and new threads stay with ``READERS``).
THREAD_READERS = (*READERS, Role.PARTNER)


def ensure_may_use_messaging(principal: Principal, secretariat_code: str) -> None:
    if principal.role in (Role.BUREAU_OFFICER, Role.ADMIN, Role.PARTNER):
        return
    if principal.role is Role.ANALYST and principal.bureau_code == secretariat_code:
        return
    raise Forbidden(
        f"messages are for bureau officers (and, as metadata only, the secretariat's analysts "
        f"and administrators); {principal.name} is {principal.role.value}"
    )


def ensure_may_write(principal: Principal) -> None:
    """In a thread the caller takes part in (checked before): bureau officers and partners."""
    if principal.role not in PARTIES:
        raise Forbidden(
            f"only bureau officers send messages; {principal.name} is {principal.role.value}"
        )


def may_oversee(principal: Principal, secretariat_code: str) -> bool:
    """Sees every thread's metadata."""
    if principal.role is Role.PARTNER:
        return False
    return principal.role is Role.ADMIN or principal.bureau_code == secretariat_code


def thread_view(
    principal: Principal, thread_id: int, participants: list[str], secretariat_code: str
) -> View:
    """How much of the thread the caller sees; 404 if none of it (its existence included)."""
    ensure_may_use_messaging(principal, secretariat_code)
    if principal.role in PARTIES and principal.bureau_code in participants:
        return View.FULL
    if may_oversee(principal, secretariat_code):
        return View.METADATA
    raise NotFound(f"there is no thread {thread_id} of your bureau", thread_id=thread_id)


def ensure_full(view: View, thread_id: int) -> None:
    """Contents are for the participants: the secretariat gets 403, knowing the thread exists."""
    if view is not View.FULL:
        raise Forbidden(
            f"thread {thread_id}: only the bureaus taking part read its messages; "
            "the secretariat and administrators see its metadata",
            thread_id=thread_id,
        )
