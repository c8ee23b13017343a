"""What the tables hold: sealed bodies, signatures that catch tampering, hit threads, keys."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from bordercheck.audit import service as audit
from bordercheck.messaging import reading, rotation, service
from bordercheck.messaging.attachments import NewAttachment
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.models import Message, Thread
from bordercheck.settings import ConfigurationError, Settings, load_settings
from tests.factories import centre_notes, make_bureau, officer
from tests.messaging.conftest import PDF, make_hit

SECRET_BODY = "Suspect KOWALSKI travels on C01X00T47 tomorrow"
SECRET_SUBJECT = "Operation NIGHTJAR"
SECRET_FILE = "nightjar-informant.pdf"


def keys(*pairs: tuple[str, bytes]) -> str:
    return ",".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in pairs)


K1, K2 = ("k1", b"\x01" * 32), ("k2", b"\x02" * 32)


def settings(**overrides: Any) -> Settings:
    return Settings(env="test", **overrides)


def thread_with_message(session: Session, config: Settings | None = None) -> tuple[Thread, int]:
    for code in ("DEU", "FRA"):
        make_bureau(session, code)
    return service.create_thread(
        session,
        config or settings(),
        officer("DEU"),
        subject=SECRET_SUBJECT,
        recipients=["FRA"],
        body=SECRET_BODY,
        attachments=[NewAttachment(SECRET_FILE, "application/pdf", PDF)],
    )


def opened(session: Session, thread_id: int, config: Settings | None = None) -> list[Any]:
    crypto = MessageCrypto.from_settings(config or settings())
    return reading.thread_messages(session, crypto, thread_id)


def test_subjects_bodies_and_files_are_not_stored_in_the_clear(session: Session) -> None:
    thread, _ = thread_with_message(session)
    session.flush()
    raw = b""
    for table in ("message_threads", "messages", "message_attachments"):
        for row in session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 (fixed names)
            raw += b"|".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert raw  # the rows were read
    for secret in (SECRET_BODY, "KOWALSKI", SECRET_SUBJECT, "NIGHTJAR", SECRET_FILE):
        assert secret.encode() not in raw
    assert b"%PDF" not in raw
    [message] = opened(session, thread.id)
    assert (message.body, message.verified) == (SECRET_BODY, True)
    assert [a.filename for a in message.attachments] == [SECRET_FILE]


@pytest.mark.parametrize(
    "change",
    [
        {"sender_user": "officer.fra"},
        {"sender_bureau": "FRA"},
        {"signature": b"\x00" * 64},
        {"signing_key_id": "elsewhere"},
    ],
)
def test_a_tampered_message_no_longer_verifies(session: Session, change: dict[str, Any]) -> None:
    thread, message_id = thread_with_message(session)
    session.execute(update(Message).where(Message.id == message_id).values(**change))
    session.expire_all()
    [message] = opened(session, thread.id)
    assert message.body == SECRET_BODY
    assert message.verified is False


def test_a_body_moved_between_messages_cannot_be_read_or_verified(session: Session) -> None:
    thread, first = thread_with_message(session)
    second = service.post_message(
        session, settings(), officer("FRA"), thread, ["DEU", "FRA"], body="nothing to see"
    )
    swapped = session.scalar(select(Message.body).where(Message.id == first))
    session.execute(update(Message).where(Message.id == second).values(body=swapped))
    session.expire_all()
    messages = opened(session, thread.id)
    assert [(m.body, m.verified) for m in messages] == [(SECRET_BODY, True), (None, False)]


def test_a_moved_creation_time_no_longer_verifies(session: Session) -> None:
    thread, message_id = thread_with_message(session)
    at = session.scalar(select(Message.created_at).where(Message.id == message_id))
    assert at is not None
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(created_at=at.replace(microsecond=(at.microsecond + 1) % 1_000_000))
    )
    session.expire_all()
    assert opened(session, thread.id)[0].verified is False


def test_post_hit_event_keeps_one_thread_per_hit_and_appends_to_it(session: Session) -> None:
    first, second = make_hit(session, "DEU", "FRA"), make_hit(session, "DEU", "ITA")
    before = {h: _count(session, h) for h in (first, second)}
    service.post_hit_event(
        session, centre_notes(), hit_id=first, bureaus=["DEU", "FRA"], text="answered"
    )
    service.post_hit_event(
        session, centre_notes(), hit_id=first, bureaus=["FRA", "DEU"], text="outcome: seized"
    )
    service.post_hit_event(
        session, centre_notes(), hit_id=second, bureaus=["DEU", "ITA"], text="opened"
    )
    threads = session.scalars(select(Thread).where(Thread.hit_id.in_([first, second]))).all()
    assert sorted(t.hit_id or 0 for t in threads) == [first, second]
    assert _count(session, first) == before[first] + 2
    assert _count(session, second) == before[second] + 1
    by_hit = {t.hit_id: t for t in threads}
    participants = service.participants_of(session, [by_hit[first].id, by_hit[second].id])
    assert participants[by_hit[first].id] == ["DEU", "FRA"]
    assert participants[by_hit[second].id] == ["DEU", "ITA"]
    last = opened(session, by_hit[first].id)[-1]
    assert (last.body, last.verified, last.message.system) == ("outcome: seized", True, True)
    assert (last.message.sender_bureau, last.message.sender_user) == ("XPO", "system")


def _count(session: Session, hit_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Thread, Thread.id == Message.thread_id)
            .where(Thread.hit_id == hit_id)
        )
        or 0
    )


def test_rotation_rewraps_data_keys_and_the_old_key_can_go(session: Session) -> None:
    old = settings(message_keys=keys(K1))
    thread, _ = thread_with_message(session, old)
    rotated = settings(message_keys=keys(K2, K1))
    service.post_message(
        session, rotated, officer("FRA"), thread, ["DEU", "FRA"], body="after rotation"
    )
    only_new = settings(message_keys=keys(K2))
    # Before re-wrapping, what the old key wraps cannot be read without it.
    assert [m.body for m in opened(session, thread.id, only_new)] == [None, "after rotation"]
    with pytest.raises(ConfigurationError, match="message key 'k1' still wraps"):
        rotation.rewrap(session, MessageCrypto.from_settings(only_new), actor="test")
    done = rotation.rewrap(session, MessageCrypto.from_settings(rotated), actor="test")
    assert done == {"k1": 2}  # the thread's subject key and the first message's key
    assert rotation.keys_in_use(session) == {"k2": 3}
    session.expire_all()
    messages = opened(session, thread.id, only_new)
    assert [(m.body, m.verified) for m in messages] == [
        (SECRET_BODY, True),
        ("after rotation", True),
    ]
    refreshed = session.get(Thread, thread.id)
    assert refreshed is not None
    assert reading.open_subject(MessageCrypto.from_settings(only_new), refreshed) == SECRET_SUBJECT
    assert rotation.rewrap(session, MessageCrypto.from_settings(only_new), actor="test") == {}


def test_bad_or_missing_message_keys_are_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"BORDERCHECK_MESSAGE_KEYS: .*must be 32"):
        load_settings(message_keys="k1:" + base64.b64encode(b"short").decode())
    with pytest.raises(ConfigurationError, match=r"BORDERCHECK_MESSAGE_SIGNING_KEYS: .*KEY_ID"):
        load_settings(message_signing_keys="no-colon-here")
    with pytest.raises(ConfigurationError, match="listed twice"):
        load_settings(message_keys=keys(K1, ("k1", b"\x03" * 32)))
    secret = secrets.token_urlsafe(32)
    with pytest.raises(ConfigurationError, match="BORDERCHECK_MESSAGE_KEYS and"):
        load_settings(env="production", secret_key=secret)
    ready = load_settings(
        env="production",
        secret_key=secret,
        message_keys=keys(("k1", secrets.token_bytes(32))),
        message_signing_keys=keys(("k2", secrets.token_bytes(32))),
    )
    assert MessageCrypto.from_settings(ready).envelopes.current_id == "k1"


def test_sending_and_reading_are_audited_without_their_content(session: Session) -> None:
    thread, message_id = thread_with_message(session)
    assert service.mark_read(session, officer("FRA"), thread.id, None) == 1
    page = audit.search(session, audit.AuditFilter(action="messages."))
    entries = [(e.action, e.actor, e.bureau_code, e.subject) for e in page.entries]
    subject = f"thread:{thread.id}"
    assert entries[:2] == [
        ("messages.read", "officer.fra", "FRA", subject),
        ("messages.thread_created", "officer.deu", "DEU", subject),
    ]
    details = " ".join(e.details for e in page.entries)
    assert str(message_id) in details
    for secret in ("KOWALSKI", "NIGHTJAR", SECRET_FILE):
        assert secret not in details
