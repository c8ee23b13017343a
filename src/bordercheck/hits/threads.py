"""``/hits/{id}/messages``: a hit's thread between its owning and querying bureaus.

The hits domain knows the case's two bureaus; the messaging domain keeps the thread, and
knows of the hit only the id its thread is about.
"""

from __future__ import annotations

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
from bordercheck.messaging.access import ensure_may_use_messaging, may_oversee, thread_view
from bordercheck.messaging.api import message_of, thread_out
from bordercheck.messaging.api_models import MessageOut, NewMessage, ThreadOut
from bordercheck.messaging.crypto import MessageCrypto
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


def _hit_parties(
    session: Session, principal: Principal, settings: Settings, hit_id: int
) -> list[str]:
    ensure_may_use_messaging(principal, settings.secretariat_code)
    parties = case_bureaus(session, hit_id)
    if parties is None or (
        principal.bureau_code not in parties
        and not may_oversee(principal, settings.secretariat_code)
    ):
        raise NotFound(f"there is no hit {hit_id} of your bureau", hit_id=hit_id)
    return sorted(set(parties))


@router.get("/hits/{hit_id}/messages", response_model=ThreadOut)
def hit_messages(
    hit_id: Id, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> ThreadOut:
    """The hit's thread between its owning and querying bureaus."""
    _hit_parties(session, principal, settings, hit_id)
    thread = messaging.thread_of_hit(session, hit_id)
    if thread is None:
        raise NotFound(
            f"hit {hit_id} has no messages yet; "
            f"post the first with POST /api/v1/hits/{hit_id}/messages",
            hit_id=hit_id,
        )
    participants = messaging.participants_of(session, [thread.id])[thread.id]
    view = thread_view(principal, thread.id, participants, settings.secretariat_code)
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
    parties = _hit_parties(session, principal, settings, hit_id)
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
        session,
        settings,
        principal.actor(),
        thread,
        participants,
        body=body.body,
        attachments=[a.new() for a in body.attachments],
    )
    return message_of(session, settings, thread_id, message_id)
