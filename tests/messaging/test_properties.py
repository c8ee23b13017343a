"""Properties of the parsers and checks messaging relies on."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bordercheck.errors import ValidationFailed
from bordercheck.keys.formats import parse_key_list
from bordercheck.messaging.attachments import EXECUTABLE_MAGIC, NewAttachment, check_attachments
from bordercheck.messaging.envelope import Unreadable, seal, unseal
from bordercheck.settings import Settings

KEY_IDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
    min_size=1,
    max_size=32,
)
KEYS = st.binary(min_size=32, max_size=32)
SETTINGS = Settings(env="test")


@given(st.dictionaries(KEY_IDS, KEYS, min_size=1, max_size=5), st.booleans())
def test_key_lists_read_back_what_was_written(keys: dict[str, bytes], urlsafe: bool) -> None:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    text = " , ".join(f"{kid}:{encode(key).decode()}" for kid, key in keys.items())
    assert parse_key_list(text) == list(keys.items())


@given(st.text(max_size=200))
def test_any_key_list_text_is_read_or_refused_without_showing_a_key(text: str) -> None:
    problem = ""
    try:
        parse_key_list(text)
    except ValueError as exc:
        problem = str(exc)
    for entry in text.split(","):
        secret = entry.partition(":")[2].strip()
        if len(secret) >= 8:
            assert secret not in problem


@given(st.binary(max_size=64))
def test_a_pdf_must_start_as_a_pdf(content: bytes) -> None:
    attachment = NewAttachment("report.pdf", "application/pdf", content)
    if content.startswith(b"%PDF-"):
        check_attachments([attachment], SETTINGS)
    else:
        with pytest.raises(ValidationFailed):
            check_attachments([attachment], SETTINGS)


@given(
    st.sampled_from(EXECUTABLE_MAGIC),
    st.binary(max_size=64),
    st.sampled_from(["application/pdf", "image/png", "image/jpeg", "text/plain"]),
)
def test_executables_are_refused_whatever_they_claim_to_be(
    magic: bytes, rest: bytes, declared: str
) -> None:
    with pytest.raises(ValidationFailed, match="executable"):
        check_attachments([NewAttachment("file", declared, magic + rest)], SETTINGS)


@given(KEYS, st.binary(max_size=256))
def test_a_sealed_text_opens_only_for_what_it_was_sealed_as(key: bytes, plain: bytes) -> None:
    sealed = seal(key, plain, "message body")
    assert unseal(key, sealed, "message body") == plain
    with pytest.raises(Unreadable):
        unseal(key, sealed, "attachment")
