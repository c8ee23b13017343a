"""An operation's message thread: its coordinator's bureau, its participating bureaus and the
partner organisations invited to it take part; a partner removed from the operation leaves
the thread in the same transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.actors import Actor
from bordercheck.messaging import service as messaging
from bordercheck.operations.models import OperationThread
from bordercheck.operations.service import OperationView
from bordercheck.settings import Settings

# The kind of thread (``message_threads.kind`` holds at most 8 characters).
KIND = "op"


def parties(operation: OperationView) -> list[str]:
    return sorted({operation.coordinator_bureau, *operation.bureaus, *operation.partners})


def thread_id_of(session: Session, operation_id: int) -> int | None:
    statement = select(OperationThread.thread_id).where(
        OperationThread.operation_id == operation_id
    )
    return session.scalar(statement)


def ensure(session: Session, settings: Settings, actor: Actor, operation: OperationView) -> int:
    """The operation's thread, started if need be, with the operation's parties as its own."""
    thread_id = thread_id_of(session, operation.id)
    if thread_id is None:
        thread_id = messaging.start_thread(
            session, settings, actor, kind=KIND, subject=operation.name,
            participants=parties(operation),
        )  # fmt: skip
        session.add(OperationThread(operation_id=operation.id, thread_id=thread_id))
        session.flush()
        return thread_id
    messaging.set_participants(session, actor, thread_id, parties(operation))
    return thread_id
