"""``/hits/{id}/messages``: a hit's thread between its owning and querying bureaus.

The hits domain knows the case's two bureaus; the messaging domain keeps the thread, and
knows of the hit only the id its thread is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.api.deps import Principal, PrincipalDep, SessionDep, SettingsDep, require_roles
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import MAX_ID
from bordercheck.auth.models import Role
from bordercheck.errors import Forbidden, NotFound
from bordercheck.hits.models import Hit
from bordercheck.messaging import service as messaging
from bordercheck.messaging.access import (
    View,
    ensure_may_use_messaging,
    ensure_may_write,
    may_oversee,
    thread_view,
)
from bordercheck.messaging.api import message_of, thread_out
from bordercheck.messaging.api_models import MessageOut, NewMessage, ThreadOut
from bordercheck.messaging.attachments import NewAttachment
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.models import Thread
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

# Who may use a hit's thread is the messaging domain's rule (``messaging.access``).
router = APIRouter(tags=["hits"], dependencies=[Depends(rate_limit)])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OfficerDep = Annotated[Principal, Depends(require_roles(Role.BUREAU_OFFICER))]


def case_bureaus(session: Session, hit_id: int) -> tuple[str, str] | None:
    """The hit's owning and querying bureaus, or None if there is no such hit."""
    row = session.execute(
        select(Hit.owner_bureau, Hit.querying_bureau).where(Hit.id == hit_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def hit_parties(
    session: Session, principal: Principal, secretariat_code: str, hit_id: int
) -> list[str]:
    """The hit's bureaus, for a caller who may see its thread (404 for any other bureau)."""
    ensure_may_use_messaging(principal, secretariat_code)
    parties = case_bureaus(session, hit_id)
    if parties is None or (
        principal.bureau_code not in parties and not may_oversee(principal, secretariat_code)
    ):
        raise NotFound(f"there is no hit {hit_id} of your bureau", hit_id=hit_id)
    return sorted(set(parties))


def hit_thread_of(
    session: Session, principal: Principal, secretariat_code: str, hit_id: int
) -> tuple[Thread, list[str], View] | None:
    """The hit's thread, its participants and how much of it the caller sees; None before
    its first message."""
    hit_parties(session, principal, secretariat_code, hit_id)
    thread = messaging.thread_of_hit(session, hit_id)
    if thread is None:
        return None
    participants = messaging.participants_of(session, [thread.id])[thread.id]
    return thread, participants, thread_view(principal, thread.id, participants, secretariat_code)


def post_to_hit(
    session: Session,
    settings: Settings,
    principal: Principal,
    hit_id: int,
    *,
    body: str,
    attachments: Sequence[NewAttachment] = (),
) -> tuple[int, int]:
    """Write to the other bureau of a hit, starting its thread if need be:
    ``(thread_id, message_id)``. Only bureau officers of its two bureaus write in it."""
    ensure_may_write(principal)
    parties = hit_parties(session, principal, settings.secretariat_code, hit_id)
    if principal.bureau_code not in parties:
        raise Forbidden(f"hit {hit_id}: only its owning and querying bureaus write in its thread")
    thread_id, participants, _ = messaging.hit_thread(
        session,
        MessageCrypto.from_settings(settings),
        hit_id,
        parties,
        by=principal.actor(),
        at=utcnow(),
    )
    thread = messaging.get_thread(session, thread_id)
    message_id = messaging.post_message(
        session, settings, principal.actor(), thread, participants, body=body,
        attachments=attachments,
    )  # fmt: skip
    return thread_id, message_id


@router.get("/hits/{hit_id}/messages", response_model=ThreadOut)
def hit_messages(
    hit_id: Id, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> ThreadOut:
    """The hit's thread between its owning and querying bureaus."""
    found = hit_thread_of(session, principal, settings.secretariat_code, hit_id)
    if found is None:
        raise NotFound(
            f"hit {hit_id} has no messages yet; "
            f"post the first with POST /api/v1/hits/{hit_id}/messages",
            hit_id=hit_id,
        )
    thread, participants, view = found
    return thread_out(session, settings, principal, thread, participants, view)


@router.post(
    "/hits/{hit_id}/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED
)
def post_hit_message(
    hit_id: Id,
    body: NewMessage,
    principal: OfficerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> MessageOut:
    """Write to the other bureau of a hit; the hit's thread is started if need be."""
    thread_id, message_id = post_to_hit(
        session, settings, principal, hit_id, body=body.body,
        attachments=[a.new() for a in body.attachments],
    )  # fmt: skip
    return message_of(session, settings, thread_id, message_id)
