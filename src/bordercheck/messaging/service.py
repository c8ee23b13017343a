"""Threads and messages: starting a thread, posting, a hit's thread, read receipts.

Everything written is sealed and signed here, in the caller's transaction; live streams
hear of a message once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bordercheck.audit.service import AuditEvent, record_event
from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.errors import FieldError, NotFound, ValidationFailed
from bordercheck.messaging.access import (
    View,
    ensure_full,
    ensure_may_use_messaging,
    ensure_may_write,
    may_oversee,
    thread_view,
)
from bordercheck.messaging.attachments import NewAttachment, check_attachments
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.envelope import digest, seal
from bordercheck.messaging.live import MessageEvent, publish_after_commit
from bordercheck.messaging.models import Attachment, Message, Participant, Receipt, Thread
from bordercheck.messaging.signatures import SignedFields
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

SUBJECT_MAX = 200
BODY_MAX = 20_000
SYSTEM_USER = "system"
# What each ciphertext is, bound into it as AES-GCM associated data.
SUBJECT, BODY, FILENAME, CONTENT = "thread subject", "message body", "attachment name", "attachment"


# Built once: a batch of hits posts many messages, and building a statement costs more than
# running it. Core tables, not the ORM's bulk paths, for the same reason.
_threads, _messages = cast(Table, Thread.__table__), cast(Table, Message.__table__)
_INSERT_THREAD = {
    name: dialect_insert(_threads)
    .on_conflict_do_nothing(index_elements=["hit_id"])
    .returning(_threads.c.id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_INSERT_PARTICIPANTS = insert(cast(Table, Participant.__table__))
_HIT_THREAD = select(_threads.c.id).where(_threads.c.hit_id == bindparam("hit_id"))
_INSERT_MESSAGE = insert(_messages).returning(_messages.c.id)
_COUNT_MESSAGE = (
    update(_threads)
    .where(_threads.c.id == bindparam("thread"))
    .values(message_count=_threads.c.message_count + 1, last_message_at=bindparam("at"))
)


def _text(value: str, name: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(errors=[FieldError(name, "must not be empty")])
    if len(value) > limit:
        raise ValidationFailed(errors=[FieldError(name, f"at most {limit:,} characters")])
    return value


def attachment_digest(data_key: bytes, attachment: NewAttachment) -> bytes:
    return digest(
        data_key,
        attachment.content_type.encode(),
        attachment.filename.encode(),
        attachment.content,
    )


def create_thread(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    subject: str,
    recipients: Sequence[str],
    body: str,
    attachments: Sequence[NewAttachment] = (),
) -> tuple[Thread, int]:
    """A free thread from ``actor``'s bureau to ``recipients`` with its first message."""
    subject = _text(subject, "subject", SUBJECT_MAX)
    body = _text(body, "body", BODY_MAX)
    check_attachments(attachments, settings)
    known = auth_service.bureau_ids_by_country(session)
    codes = {code.strip().upper() for code in recipients}
    unknown = sorted(code for code in codes if code not in known)
    if unknown:
        raise ValidationFailed(
            errors=[FieldError("recipients", f"there is no bureau {code}") for code in unknown]
        )
    participants = sorted(codes | {actor.bureau_code})
    if len(participants) < 2:
        raise ValidationFailed(errors=[FieldError("recipients", "name another bureau")])
    crypto = MessageCrypto.from_settings(settings)
    at = utcnow()
    thread_id = _insert_thread(
        session, crypto, "free", None, subject, participants, actor.bureau_code, actor.name, at
    )
    assert thread_id is not None  # free threads have no hit to conflict on
    message_id = _insert_message(
        session, crypto, thread_id, None, participants, actor, body, attachments, at=at
    )
    record_event(
        session,
        actor=actor.name,
        bureau_code=actor.bureau_code,
        action="messages.thread_created",
        subject=f"thread:{thread_id}",
        details={"participants": participants, "message_id": message_id,
                 "attachments": len(attachments)},
    )  # fmt: skip
    return get_thread(session, thread_id), message_id


def post_message(
    session: Session,
    settings: Settings,
    actor: Actor,
    thread: Thread,
    participants: Sequence[str],
    *,
    body: str,
    attachments: Sequence[NewAttachment] = (),
) -> int:
    """Add a message to a thread ``actor``'s bureau takes part in (checked by the caller)."""
    body = _text(body, "body", BODY_MAX)
    check_attachments(attachments, settings)
    message_id = _insert_message(
        session,
        MessageCrypto.from_settings(settings),
        thread.id,
        thread.hit_id,
        participants,
        actor,
        body,
        attachments,
        at=utcnow(),
    )
    record_event(
        session,
        actor=actor.name,
        bureau_code=actor.bureau_code,
        action="messages.sent",
        subject=f"thread:{thread.id}",
        details={"message_id": message_id, "attachments": len(attachments)},
    )
    return message_id


@dataclass(frozen=True)
class CentreNotes:
    """How the centre writes its notes in hits' threads: the keys that seal and sign them, and
    the bureau it speaks for (the secretariat's)."""

    crypto: MessageCrypto
    bureau_code: str

    @classmethod
    def from_settings(cls, settings: Settings) -> CentreNotes:
        return cls(MessageCrypto.from_settings(settings), settings.secretariat_code)


def post_hit_event(
    session: Session, notes: CentreNotes, *, hit_id: int, bureaus: Sequence[str], text: str
) -> AuditEvent:
    """Post the centre's note of a hit's event to the hit's thread, started if need be; the
    audit entry of the note, for the caller to append with the others of its transaction.

    Called for many hits in one transaction (a screening batch): a handful of statements
    each, and one append to the audit trail for all of them.
    """
    crypto = notes.crypto
    # The system speaks for the centre: its notes come from the secretariat's bureau.
    centre = Actor(name=SYSTEM_USER, role=Role.ADMIN, bureau_code=notes.bureau_code)
    # A note longer than a message may be is cut, not allowed to fail the batch it is in.
    body = _text(text[:BODY_MAX], "text", BODY_MAX)
    thread_id, participants, _ = hit_thread(
        session, crypto, hit_id, bureaus, by=centre, at=utcnow()
    )
    at = utcnow()
    message_id = _insert_message(
        session, crypto, thread_id, hit_id, participants, centre, body, (), at=at, system=True
    )
    return AuditEvent(
        actor=SYSTEM_USER,
        bureau_code=centre.bureau_code,
        action="messages.note_posted",
        subject=f"thread:{thread_id}",
        details={"hit_id": hit_id, "message_id": message_id, "participants": participants},
    )


def hit_thread(
    session: Session,
    crypto: MessageCrypto,
    hit_id: int,
    bureaus: Sequence[str],
    *,
    by: Actor,
    at: datetime,
) -> tuple[int, list[str], bool]:
    """The hit's thread, started if need be: ``(thread_id, participants, started)``.

    A hit's two bureaus never change, so they are the participants it was started with.
    """
    participants = sorted({code.upper() for code in bureaus})
    thread_id = session.scalar(_HIT_THREAD, {"hit_id": hit_id})
    if thread_id is not None:
        return thread_id, participants, False
    thread_id = _insert_thread(
        session, crypto, "hit", hit_id, f"hit {hit_id}", participants, by.bureau_code, by.name, at
    )
    if thread_id is None:  # another transaction started it since the look-up
        thread_id = session.scalars(select(Thread.id).where(Thread.hit_id == hit_id)).one()
        return thread_id, participants, False
    return thread_id, participants, True


def start_thread(
    session: Session, settings: Settings, actor: Actor, *, kind: str, subject: str,
    participants: Sequence[str],
) -> int:  # fmt: skip
    """A thread with no message yet, for another domain's subject (an operation's): its id."""
    crypto = MessageCrypto.from_settings(settings)
    codes = sorted({code.upper() for code in participants})
    thread_id = _insert_thread(
        session, crypto, kind, None, subject, codes, actor.bureau_code, actor.name, utcnow()
    )
    assert thread_id is not None  # only a hit's thread can conflict
    record_event(
        session, actor=actor.name, bureau_code=actor.bureau_code,
        action="messages.thread_created", subject=f"thread:{thread_id}",
        details={"participants": codes, "kind": kind},
    )  # fmt: skip
    return thread_id


def set_participants(
    session: Session, actor: Actor, thread_id: int, participants: Sequence[str]
) -> None:
    """Who takes part in the thread from now on: those left out lose it at once."""
    wanted = {code.upper() for code in participants}
    current = set(participants_of(session, [thread_id])[thread_id])
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if added:
        session.execute(
            _INSERT_PARTICIPANTS, [{"thread_id": thread_id, "bureau_code": c} for c in added]
        )
    for code in removed:
        participant = session.get(Participant, (thread_id, code))
        if participant is not None:
            session.delete(participant)
    if added or removed:
        session.flush()
        record_event(
            session, actor=actor.name, bureau_code=actor.bureau_code,
            action="messages.participants_changed", subject=f"thread:{thread_id}",
            details={"added": added, "removed": removed},
        )  # fmt: skip


def _insert_thread(
    session: Session,
    crypto: MessageCrypto,
    kind: str,
    hit_id: int | None,
    subject: str,
    participants: Sequence[str],
    bureau_code: str,
    created_by: str,
    at: datetime,
) -> int | None:
    """The new thread's id; None if the hit already has a thread (one per hit)."""
    data_key, wrapped = crypto.envelopes.new_data_key()
    # ON CONFLICT rather than a savepoint: one statement whether or not the hit's thread
    # was started meanwhile, which keeps a batch of new hits cheap.
    thread_id: int | None = session.execute(
        _INSERT_THREAD[session.get_bind().dialect.name],
        {
            "kind": kind,
            "hit_id": hit_id,
            "key_id": wrapped.key_id,
            "wrapped_key": wrapped.wrapped,
            "subject": seal(data_key, subject.encode(), SUBJECT),
            "created_by_bureau": bureau_code,
            "created_by": created_by,
            "created_at": at,
            "last_message_at": at,
            "message_count": 0,
        },
    ).scalar()
    if thread_id is not None:
        session.execute(
            _INSERT_PARTICIPANTS, [{"thread_id": thread_id, "bureau_code": c} for c in participants]
        )
    return thread_id


def _insert_message(
    session: Session,
    crypto: MessageCrypto,
    thread_id: int,
    hit_id: int | None,
    participants: Sequence[str],
    sender: Actor,
    body: str,
    attachments: Sequence[NewAttachment],
    *,
    at: datetime,
    system: bool = False,
) -> int:
    data_key, wrapped = crypto.envelopes.new_data_key()
    body_bytes = body.encode()
    fields = SignedFields(
        thread_id=thread_id,
        sender_bureau=sender.bureau_code,
        sender_user=sender.name,
        created_at=at,
        body_digest=digest(data_key, body_bytes),
        attachment_digests=tuple(attachment_digest(data_key, a) for a in attachments),
    )
    signing_key_id, signature = crypto.signer.sign(fields)
    message_id: int = session.execute(
        _INSERT_MESSAGE,
        {
            "thread_id": thread_id,
            "sender_bureau": sender.bureau_code,
            "sender_user": sender.name,
            "system": system,
            "created_at": at,
            "key_id": wrapped.key_id,
            "wrapped_key": wrapped.wrapped,
            "body": seal(data_key, body_bytes, BODY),
            "signing_key_id": signing_key_id,
            "signature": signature,
        },
    ).scalar_one()
    if attachments:
        session.execute(
            insert(Attachment),
            [
                {
                    "message_id": message_id,
                    "position": position,
                    "content_type": a.content_type,
                    "size": len(a.content),
                    "filename": seal(data_key, a.filename.encode(), FILENAME),
                    "content": seal(data_key, a.content, CONTENT),
                }
                for position, a in enumerate(attachments)
            ],
        )
    session.execute(_COUNT_MESSAGE, {"thread": thread_id, "at": at})
    publish_after_commit(
        session,
        MessageEvent(message_id, thread_id, hit_id, sender.bureau_code, tuple(participants), at),
    )
    return message_id


def get_thread(session: Session, thread_id: int) -> Thread:
    thread = session.get(Thread, thread_id, populate_existing=True)
    if thread is None:
        raise NotFound(f"there is no thread {thread_id} of your bureau", thread_id=thread_id)
    return thread


def thread_of_hit(session: Session, hit_id: int) -> Thread | None:
    return session.scalar(select(Thread).where(Thread.hit_id == hit_id))


def participants_of(session: Session, thread_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {thread_id: [] for thread_id in thread_ids}
    rows = session.execute(
        select(Participant.thread_id, Participant.bureau_code)
        .where(Participant.thread_id.in_(thread_ids))
        .order_by(Participant.bureau_code)
    )
    for thread_id, code in rows:
        found[thread_id].append(code)
    return found


def list_threads(
    session: Session,
    *,
    bureau_code: str | None,
    limit: int,
    before: int | None = None,
    offset: int = 0,
) -> list[Thread]:
    """Threads ``bureau_code`` takes part in (all threads if None), latest activity first."""
    query = (
        select(Thread)
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if bureau_code is not None:
        query = query.join(Participant, Participant.thread_id == Thread.id).where(
            Participant.bureau_code == bureau_code
        )
    if before is not None:
        query = query.where(Thread.id < before)
    return list(session.scalars(query))


def unread_counts(session: Session, bureau_code: str, thread_ids: Sequence[int]) -> dict[int, int]:
    """Messages from other bureaus that ``bureau_code`` has not read yet, per thread."""
    read = exists().where(Receipt.message_id == Message.id, Receipt.bureau_code == bureau_code)
    rows = session.execute(
        select(Message.thread_id, func.count())
        .where(Message.thread_id.in_(thread_ids), Message.sender_bureau != bureau_code, ~read)
        .group_by(Message.thread_id)
    )
    return {thread_id: count for thread_id, count in rows}  # noqa: C416 (rows, not pairs)


def mark_read(session: Session, actor: Actor, thread_id: int, up_to: int | None) -> int:
    """Record that ``actor``'s bureau read the thread's messages up to ``up_to`` (all if None).

    The first reader of a message for a bureau is the one recorded; returns how many
    messages were newly read.
    """
    read = exists().where(
        Receipt.message_id == Message.id, Receipt.bureau_code == actor.bureau_code
    )
    query = select(Message.id).where(
        Message.thread_id == thread_id, Message.sender_bureau != actor.bureau_code, ~read
    )
    if up_to is not None:
        query = query.where(Message.id <= up_to)
    ids = list(session.scalars(query))
    if not ids:
        return 0
    at = utcnow()
    session.execute(
        insert(Receipt),
        [
            {
                "message_id": i,
                "bureau_code": actor.bureau_code,
                "read_by": actor.name,
                "read_at": at,
            }
            for i in ids
        ],
    )
    record_event(
        session,
        actor=actor.name,
        bureau_code=actor.bureau_code,
        action="messages.read",
        subject=f"thread:{thread_id}",
        details={"messages": len(ids), "up_to": max(ids)},
    )
    return len(ids)


def events_since(
    session: Session, bureau_code: str, after: int, limit: int = 1000
) -> list[MessageEvent]:
    """Messages posted after message ``after`` in threads ``bureau_code`` takes part in."""
    rows = session.execute(
        select(Message.id, Message.thread_id, Thread.hit_id, Message.sender_bureau,
               Message.created_at)
        .join(Thread, Thread.id == Message.thread_id)
        .join(Participant, Participant.thread_id == Message.thread_id)
        .where(Participant.bureau_code == bureau_code, Message.id > after)
        .order_by(Message.id)
        .limit(limit)
    ).all()  # fmt: skip
    participants = participants_of(session, sorted({row.thread_id for row in rows}))
    return [
        MessageEvent(
            row.id,
            row.thread_id,
            row.hit_id,
            row.sender_bureau,
            tuple(participants[row.thread_id]),
            row.created_at,
        )
        for row in rows
    ]


# What a caller may see and do, for the API's routes and the console's pages alike.


@dataclass(frozen=True)
class VisibleThread:
    thread: Thread
    participants: list[str]
    view: View
    unread: int


def visible_threads(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    limit: int,
    before: int | None = None,
    offset: int = 0,
) -> list[VisibleThread]:
    """The caller's bureau's threads, latest activity first; for the secretariat and
    administrators, every thread (metadata only of those their bureau is not part of)."""
    ensure_may_use_messaging(principal, settings.secretariat_code)
    oversee = may_oversee(principal, settings.secretariat_code)
    threads = list_threads(
        session,
        bureau_code=None if oversee else principal.bureau_code,
        limit=limit,
        before=before,
        offset=offset,
    )
    ids = [t.id for t in threads]
    participants = participants_of(session, ids)
    unread = unread_counts(session, principal.bureau_code, ids)
    return [
        VisibleThread(
            t,
            participants[t.id],
            thread_view(principal, t.id, participants[t.id], settings.secretariat_code),
            unread.get(t.id, 0),
        )
        for t in threads
    ]


def thread_for(
    session: Session, settings: Settings, principal: Principal, thread_id: int
) -> tuple[Thread, list[str], View]:
    """The thread, its participants and how much of it the caller sees (404 if nothing)."""
    ensure_may_use_messaging(principal, settings.secretariat_code)
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(f"there is no thread {thread_id} of your bureau", thread_id=thread_id)
    participants = participants_of(session, [thread_id])[thread_id]
    return (
        thread,
        participants,
        thread_view(principal, thread_id, participants, settings.secretariat_code),
    )


def thread_as_participant(
    session: Session, settings: Settings, principal: Principal, thread_id: int
) -> tuple[Thread, list[str]]:
    """The thread, for a caller whose bureau takes part in it (403 for the secretariat)."""
    thread, participants, view = thread_for(session, settings, principal, thread_id)
    ensure_full(view, thread_id)
    return thread, participants


def reply(
    session: Session,
    settings: Settings,
    principal: Principal,
    thread_id: int,
    *,
    body: str,
    attachments: Sequence[NewAttachment] = (),
) -> int:
    """A message from the caller in a thread their bureau takes part in: its id."""
    thread, participants = thread_as_participant(session, settings, principal, thread_id)
    ensure_may_write(principal)
    return post_message(
        session,
        settings,
        principal.actor(),
        thread,
        participants,
        body=body,
        attachments=attachments,
    )


def read_thread(
    session: Session, settings: Settings, principal: Principal, thread_id: int, up_to: int | None
) -> int:
    """The caller's bureau read the thread (up to ``up_to``): how many messages newly read."""
    thread_as_participant(session, settings, principal, thread_id)
    ensure_may_write(principal)
    return mark_read(session, principal.actor(), thread_id, up_to)
