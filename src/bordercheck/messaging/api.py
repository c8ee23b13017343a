"""``/messages``: threads between bureaus, a hit's thread, attachments, live updates.

Participants read and write; the secretariat and administrators see metadata only; other
bureaus get 404, as if the thread did not exist (``access``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bordercheck.api.deps import (
    Principal,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    TokenDep,
    require_roles,
)
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import MAX_ID, BeforeId
from bordercheck.auth.policy import open_to_partners
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.errors import FieldError, ValidationFailed
from bordercheck.messaging import reading, service
from bordercheck.messaging.access import (
    WRITERS,
    View,
)
from bordercheck.messaging.api_models import (
    AttachmentOut,
    MarkRead,
    MessageOut,
    NewMessage,
    NewThread,
    ReadByOut,
    ReadReport,
    ThreadList,
    ThreadOut,
)
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.models import Thread
from bordercheck.messaging.stream import event_stream
from bordercheck.settings import Settings

router = APIRouter(tags=["messages"], dependencies=[Depends(rate_limit)])
log = structlog.get_logger(__name__)

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OfficerDep = Annotated[Principal, Depends(require_roles(*WRITERS))]
MAX_THREADS_PAGE = 500
# How old the revocation list may be when an open stream checks its token (seconds).
STREAM_REVOCATION_AGE = 1.0


def message_out(item: reading.OpenedMessage) -> MessageOut:
    m = item.message
    return MessageOut(
        id=m.id,
        thread_id=m.thread_id,
        sender_bureau=m.sender_bureau,
        sender_user=m.sender_user,
        system=m.system,
        created_at=m.created_at,
        body=item.body,
        verified=item.verified,
        attachments=[
            AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size)
            for a in item.attachments
        ],
        read_by=[ReadByOut(bureau=r.bureau, user=r.user, at=r.at) for r in item.read_by],
    )


def thread_out(
    session: Session,
    settings: Settings,
    principal: Principal,
    thread: Thread,
    participants: list[str],
    view: View,
    *,
    with_messages: bool = True,
    unread: int | None = None,
) -> ThreadOut:
    out = ThreadOut(
        id=thread.id,
        view=view.value,
        kind="hit" if thread.kind == "hit" else "free",
        hit_id=thread.hit_id,
        participants=participants,
        created_by_bureau=thread.created_by_bureau,
        created_at=thread.created_at,
        last_message_at=thread.last_message_at,
        message_count=thread.message_count,
    )
    if view is not View.FULL:
        return out
    crypto = MessageCrypto.from_settings(settings)
    out.subject = reading.open_subject(crypto, thread)
    out.created_by = thread.created_by
    if with_messages:
        out.messages = [message_out(m) for m in reading.thread_messages(session, crypto, thread.id)]
    if unread is None:
        unread = service.unread_counts(session, principal.bureau_code, [thread.id]).get(
            thread.id, 0
        )
    out.unread = unread
    return out


@router.get(
    "/messages/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    principal: OfficerDep,
    token: TokenDep,
    last_event_id: Annotated[
        str | None, Header(description="The id of the last event received, to catch up.")
    ] = None,
) -> StreamingResponse:
    """Server-sent events: a ``message`` event for each message posted in a thread of your
    bureau (ids and times, never content), until the token expires. Reconnect with
    ``Last-Event-ID`` to catch up."""
    after = None
    if last_event_id is not None:
        text = last_event_id.strip()
        # ASCII digits only (str.isdigit also takes "²"), and an id a table can hold.
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
            raise ValidationFailed(
                errors=[FieldError("Last-Event-ID", f"must be a message id (1 to {MAX_ID})")]
            )
        after = int(text)
    database = request.app.state.database
    tokens: TokenAuthority = request.app.state.tokens

    async def still_valid() -> bool:
        revocations = tokens.revocations
        # Revocations made by other processes (a deactivation from the command line) are
        # fetched at most once a second per process, whatever the number of streams.
        if revocations.needs_refresh(STREAM_REVOCATION_AGE):
            await run_in_threadpool(revocations.refresh, database, STREAM_REVOCATION_AGE)
        return not revocations.is_revoked(token.jti, principal.subject, token.issued_at)

    return StreamingResponse(
        await event_stream(
            database,
            principal.bureau_code,
            after,
            until=token.expires_at,
            still_valid=still_valid,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/messages", response_model=ThreadList)
@open_to_partners
def list_threads(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=MAX_THREADS_PAGE)] = 100,
    before: BeforeId = None,
) -> ThreadList:
    """Your bureau's threads, latest activity first; for the secretariat and administrators,
    every thread's metadata (with full view of those their bureau takes part in)."""
    visible = service.visible_threads(session, settings, principal, limit=limit, before=before)
    return ThreadList(
        threads=[
            thread_out(
                session,
                settings,
                principal,
                v.thread,
                v.participants,
                v.view,
                with_messages=False,
                unread=v.unread,
            )
            for v in visible
        ]
    )


@router.post("/messages", response_model=ThreadOut, status_code=status.HTTP_201_CREATED)
def create_thread(
    body: NewThread, principal: OfficerDep, session: SessionDep, settings: SettingsDep
) -> ThreadOut:
    """Start a thread with other bureaus (``recipients``), with its first message."""
    thread, _ = service.create_thread(
        session,
        settings,
        principal.actor(),
        subject=body.subject,
        recipients=body.recipients,
        body=body.body,
        attachments=[a.new() for a in body.attachments],
    )
    participants = service.participants_of(session, [thread.id])[thread.id]
    return thread_out(session, settings, principal, thread, participants, View.FULL)


@router.get("/messages/{thread_id}", response_model=ThreadOut)
@open_to_partners
def get_thread(
    thread_id: Id, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> ThreadOut:
    """The thread with its messages (participants), or its metadata (the secretariat)."""
    thread, participants, view = service.thread_for(session, settings, principal, thread_id)
    return thread_out(session, settings, principal, thread, participants, view)


@router.post(
    "/messages/{thread_id}", response_model=MessageOut, status_code=status.HTTP_201_CREATED
)
@open_to_partners
def post_message(
    thread_id: Id,
    body: NewMessage,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> MessageOut:
    """Add a message to a thread your bureau takes part in."""
    message_id = service.reply(
        session,
        settings,
        principal,
        thread_id,
        body=body.body,
        attachments=[a.new() for a in body.attachments],
    )
    return message_of(session, settings, thread_id, message_id)


def message_of(session: Session, settings: Settings, thread_id: int, message_id: int) -> MessageOut:
    crypto = MessageCrypto.from_settings(settings)
    (item,) = reading.thread_messages(session, crypto, thread_id, message_id=message_id)
    return message_out(item)


@router.get("/messages/{thread_id}/messages/{message_id}", response_model=MessageOut)
@open_to_partners
def get_message(
    thread_id: Id,
    message_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> MessageOut:
    """One message, with ``verified``: whether its signature holds."""
    service.thread_as_participant(session, settings, principal, thread_id)
    return message_of(session, settings, thread_id, message_id)


@router.get(
    "/messages/{thread_id}/messages/{message_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
@open_to_partners
def get_attachment(
    thread_id: Id,
    message_id: Id,
    attachment_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The attached file, as a download."""
    filename, content_type, content = reading.attachment_for(
        session, settings, principal, thread_id, message_id, attachment_id
    )
    return attachment_download(filename, content_type, content)


def attachment_download(filename: str, content_type: str, content: bytes) -> Response:
    """An attachment as a download, never rendered in the console's origin."""
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post("/messages/{thread_id}/read", response_model=ReadReport)
@open_to_partners
def mark_read(
    thread_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[MarkRead | None, Body()] = None,
) -> ReadReport:
    """Record that your bureau read the thread (up to ``up_to``): the senders see it."""
    up_to = body.up_to if body is not None else None
    return ReadReport(read=service.read_thread(session, settings, principal, thread_id, up_to))
