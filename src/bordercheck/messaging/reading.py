"""Opening what was sealed: subjects, bodies and attachments, each checked against its
signature. A message that cannot be opened (its key removed, its row altered) is shown as
unreadable and unverified, never as an error page: the rest of the thread stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.tokens import Principal
from bordercheck.errors import NotFound
from bordercheck.messaging.attachments import NewAttachment
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.envelope import Unreadable, WrappedKey, digest, unseal
from bordercheck.messaging.models import Attachment, Message, Receipt, Thread
from bordercheck.messaging.service import (
    BODY,
    CONTENT,
    FILENAME,
    SUBJECT,
    attachment_digest,
    thread_as_participant,
)
from bordercheck.messaging.signatures import SignedFields
from bordercheck.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class OpenedAttachment:
    id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ReadBy:
    bureau: str
    user: str
    at: datetime


@dataclass
class OpenedMessage:
    message: Message
    body: str | None
    verified: bool
    attachments: list[OpenedAttachment] = field(default_factory=list)
    read_by: list[ReadBy] = field(default_factory=list)


def open_subject(crypto: MessageCrypto, thread: Thread) -> str | None:
    try:
        data_key = crypto.envelopes.unwrap(WrappedKey(thread.key_id, thread.wrapped_key))
        return unseal(data_key, thread.subject, SUBJECT).decode()
    except Unreadable as exc:
        log.error("thread subject unreadable", thread_id=thread.id, reason=str(exc))
        return None


def open_message(
    crypto: MessageCrypto, message: Message, attachments: Sequence[Attachment]
) -> OpenedMessage:
    """The message's body and attachments' names, and whether its signature holds."""
    try:
        data_key = crypto.envelopes.unwrap(WrappedKey(message.key_id, message.wrapped_key))
        body = unseal(data_key, message.body, BODY)
        files = [
            NewAttachment(
                unseal(data_key, a.filename, FILENAME).decode(),
                a.content_type,
                unseal(data_key, a.content, CONTENT),
            )
            for a in sorted(attachments, key=lambda a: a.position)
        ]
    except Unreadable as exc:
        log.error("message unreadable", message_id=message.id, reason=str(exc))
        return OpenedMessage(message, None, False)
    fields = SignedFields(
        thread_id=message.thread_id,
        sender_bureau=message.sender_bureau,
        sender_user=message.sender_user,
        created_at=message.created_at,
        body_digest=digest(data_key, body),
        attachment_digests=tuple(attachment_digest(data_key, f) for f in files),
    )
    verified = crypto.signer.verify(message.signing_key_id, message.signature, fields)
    if not verified:
        log.warning("message signature does not verify", message_id=message.id)
    opened = [
        OpenedAttachment(a.id, f.filename, f.content_type, len(f.content))
        for a, f in zip(sorted(attachments, key=lambda a: a.position), files, strict=True)
    ]
    return OpenedMessage(message, body.decode(), verified, opened)


def thread_messages(
    session: Session,
    crypto: MessageCrypto,
    thread_id: int,
    *,
    message_id: int | None = None,
    after: int | None = None,
) -> list[OpenedMessage]:
    """The thread's messages (or the one asked for, or those after ``after``), oldest first,
    opened, with receipts."""
    query = select(Message).where(Message.thread_id == thread_id).order_by(Message.id)
    if message_id is not None:
        query = query.where(Message.id == message_id)
    if after is not None:
        query = query.where(Message.id > after)
    messages = list(session.scalars(query))
    if message_id is not None and not messages:
        raise NotFound(f"there is no message {message_id} in thread {thread_id}")
    ids = [m.id for m in messages]
    files: dict[int, list[Attachment]] = {i: [] for i in ids}
    for attachment in session.scalars(select(Attachment).where(Attachment.message_id.in_(ids))):
        files[attachment.message_id].append(attachment)
    receipts: dict[int, list[ReadBy]] = {i: [] for i in ids}
    for receipt in session.scalars(
        select(Receipt).where(Receipt.message_id.in_(ids)).order_by(Receipt.read_at)
    ):
        receipts[receipt.message_id].append(
            ReadBy(receipt.bureau_code, receipt.read_by, receipt.read_at)
        )
    opened = []
    for message in messages:
        item = open_message(crypto, message, files[message.id])
        item.read_by = receipts[message.id]
        opened.append(item)
    return opened


def read_attachment(
    session: Session, crypto: MessageCrypto, thread_id: int, message_id: int, attachment_id: int
) -> tuple[str, str, bytes]:
    """``(filename, content_type, content)`` of one attachment of a thread's message."""
    row = session.execute(
        select(Attachment, Message)
        .join(Message, Message.id == Attachment.message_id)
        .where(
            Attachment.id == attachment_id,
            Attachment.message_id == message_id,
            Message.thread_id == thread_id,
        )
    ).first()
    if row is None:
        raise NotFound(f"there is no attachment {attachment_id} on message {message_id}")
    attachment, message = row
    try:
        data_key = crypto.envelopes.unwrap(WrappedKey(message.key_id, message.wrapped_key))
        return (
            unseal(data_key, attachment.filename, FILENAME).decode(),
            attachment.content_type,
            unseal(data_key, attachment.content, CONTENT),
        )
    except Unreadable as exc:
        log.error("attachment unreadable", attachment_id=attachment_id, reason=str(exc))
        raise NotFound(
            f"attachment {attachment_id} cannot be opened; the administrators have been told"
        ) from None


def attachment_for(
    session: Session,
    settings: Settings,
    principal: Principal,
    thread_id: int,
    message_id: int,
    attachment_id: int,
) -> tuple[str, str, bytes]:
    """An attachment of a thread the caller's bureau takes part in, its reading logged."""
    thread_as_participant(session, settings, principal, thread_id)
    found = read_attachment(
        session, MessageCrypto.from_settings(settings), thread_id, message_id, attachment_id
    )
    log.info(
        "attachment read",
        thread_id=thread_id,
        message_id=message_id,
        attachment_id=attachment_id,
        by=principal.name,
        bureau=principal.bureau_code,
    )
    return found
