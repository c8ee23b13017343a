"""The bodies ``/messages`` takes and answers, as pydantic models for OpenAPI."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bordercheck.api.types import MAX_ID, UtcDatetime
from bordercheck.inputs import Input
from bordercheck.messaging.attachments import MAX_ATTACHMENTS, NewAttachment, media_type
from bordercheck.messaging.service import BODY_MAX, SUBJECT_MAX

MAX_RECIPIENTS = 50


class AttachmentIn(Input):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(description="The file's name, without a directory.")
    content_type: str = Field(description="application/pdf, image/png, image/jpeg, text/plain")
    content: bytes = Field(description="The file, base64-encoded.")

    @field_validator("content_type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        return media_type(value)

    @field_validator("content", mode="before")
    @classmethod
    def _base64(cls, value: object) -> bytes:
        if not isinstance(value, str):
            raise ValueError("must be the file's content in base64, as a string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None

    def new(self) -> NewAttachment:
        return NewAttachment(self.filename, self.content_type, self.content)


class NewMessage(Input):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=BODY_MAX)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class NewThread(NewMessage):
    subject: str = Field(max_length=SUBJECT_MAX)
    recipients: list[str] = Field(
        min_length=1, max_length=MAX_RECIPIENTS, description="Bureau codes, e.g. FRA."
    )


class MarkRead(Input):
    model_config = ConfigDict(extra="forbid")

    up_to: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The last message read; all of them if left out."
    )


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int


class ReadByOut(BaseModel):
    bureau: str
    user: str
    at: UtcDatetime


class MessageOut(BaseModel):
    id: int
    thread_id: int
    sender_bureau: str
    sender_user: str
    system: bool = Field(description="A note from the centre on the hit's events.")
    created_at: UtcDatetime
    body: str | None = Field(description="null when the message cannot be opened.")
    verified: bool = Field(description="Its signature holds for its sender, time and content.")
    attachments: list[AttachmentOut]
    read_by: list[ReadByOut]


class ThreadOut(BaseModel):
    """A thread. In the ``metadata`` view (the secretariat, administrators) there is no
    subject, no creator's name and no message: who, when and how many only."""

    id: int
    view: Literal["full", "metadata"]
    kind: Literal["free", "hit"]
    hit_id: int | None
    participants: list[str]
    created_by_bureau: str
    created_at: UtcDatetime
    last_message_at: UtcDatetime
    message_count: int
    subject: str | None = None
    created_by: str | None = None
    unread: int | None = Field(default=None, description="Messages your bureau has not read.")
    messages: list[MessageOut] | None = None


class ThreadList(BaseModel):
    threads: list[ThreadOut]


class ReadReport(BaseModel):
    read: int = Field(description="Messages newly marked read for your bureau.")
