"""Master key rotation: re-wrap every data key under the current master key.

Only the small wrapped data keys change; bodies, attachments and signatures stay as they
are. Run it after putting a new key first in ``BORDERCHECK_MESSAGE_KEYS``; once it reports
nothing left under an old key, that key may be removed.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.envelope import Unreadable, WrappedKey
from bordercheck.messaging.models import Message, Thread
from bordercheck.settings import ConfigurationError

BATCH = 1000


def keys_in_use(session: Session) -> dict[str, int]:
    """How many data keys each master key wraps (threads' and messages')."""
    counts: dict[str, int] = {}
    for model in (Thread, Message):
        for key_id, count in session.execute(
            select(model.key_id, func.count()).group_by(model.key_id)
        ):
            counts[key_id] = counts.get(key_id, 0) + count
    return counts


def rewrap(session: Session, crypto: MessageCrypto, *, actor: str) -> dict[str, int]:
    """Re-wrap every data key not under the current key; how many there were, per old key."""
    envelopes = crypto.envelopes
    current = envelopes.current_id
    done: dict[str, int] = {}
    for model in (Thread, Message):
        while True:
            rows = session.execute(
                select(model.id, model.key_id, model.wrapped_key)
                .where(model.key_id != current)
                .order_by(model.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            changes = []
            for row_id, key_id, wrapped in rows:
                try:
                    new = envelopes.rewrap(WrappedKey(key_id, wrapped))
                except Unreadable:
                    raise ConfigurationError(
                        f"message key {key_id!r} still wraps data keys but is not in "
                        "BORDERCHECK_MESSAGE_KEYS: list it after the current key and run "
                        "`bordercheck messages rewrap` again (nothing was changed)"
                    ) from None
                changes.append({"id": row_id, "key_id": new.key_id, "wrapped_key": new.wrapped})
                done[key_id] = done.get(key_id, 0) + 1
            session.execute(update(model), changes)
    if done:
        record_event(
            session,
            actor=actor,
            bureau_code=None,
            action="messages.rewrapped",
            subject=f"message-key:{current}",
            details={"from": done},
        )
    return done
