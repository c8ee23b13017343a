"""The bodies the hit endpoints take and answer."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bordercheck.api.types import MAX_ID, BodyId, UtcDatetime
from bordercheck.hits.models import Action, Answer, DomesticRule, Outcome
from bordercheck.inputs import Input

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class AnswerIn(Input):
    model_config = ConfigDict(extra="forbid")

    answer: Answer
    action: Action | None = Field(
        default=None, description="With `confirmed`: what the querying side should do."
    )
    note: Note | None = None
    correction: dict[str, Any] | None = Field(
        default=None,
        description="With `not_confirmed`: record fields to correct instead of withdrawing it.",
    )
    record_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="The record version you read; a stale one gets 409.",
    )


class OutcomeIn(Input):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    note: Note | None = None


class RecordSummary(BaseModel):
    document_number: str
    issuing_country: str
    document_type: str
    status: str
    active: bool


class SightingOut(BaseModel):
    """One screening of the case's document by the querying bureau while the case was open."""

    query_id: str
    seen_at: UtcDatetime
    location: str | None
    source: str
    queried_by: str
    operation_id: str | None
    notified: bool = Field(description="The owner was told of this sighting.")


class HitOut(BaseModel):
    id: int
    state: str
    source: str
    query_id: str
    record_id: int | None = Field(description="Null when the owner withholds it from you.")
    record: RecordSummary | None = Field(description="Null when the owner withholds it from you.")
    match: str = Field(description="`restricted` when the owner withholds the record from you.")
    score: float | None = Field(description="Null when the owner withholds the record from you.")
    message: str | None = Field(
        default=None, description="Whom to ask, when the owner withholds the record from you."
    )
    owner_bureau: str
    querying_bureau: str
    queried_by: str
    location: str | None
    operation_id: str | None
    manifest_id: int | None
    flight: str | None
    created_at: UtcDatetime
    due_at: UtcDatetime
    overdue: bool
    reminded_at: UtcDatetime | None
    escalated_at: UtcDatetime | None
    answer: str | None
    action: str | None
    answer_note: str | None
    answered_at: UtcDatetime | None
    answered_by: str | None
    outcome: str | None
    outcome_note: str | None
    outcome_at: UtcDatetime | None
    outcome_by: str | None
    domestic: bool = Field(description="The querying bureau screened its own country's record.")
    sightings: int = Field(description="Screenings of the document while the case was open.")
    last_seen_at: UtcDatetime
    recent_sightings: list[SightingOut] | None = Field(
        default=None,
        description="In `GET /hits/{id}` only: the latest 100 sightings, newest first.",
    )


class HitPage(BaseModel):
    hits: list[HitOut]
    next_before: int | None = Field(description="Ask again with before=this for older cases.")


class BureauFiguresOut(BaseModel):
    bureau: str
    cases: int
    answered: int
    confirmed: int
    confirmed_share: float | None
    median_answer_minutes: float | None
    p90_answer_minutes: float | None
    open: int
    overdue: int
    escalated: int


class FiguresOut(BaseModel):
    since: UtcDatetime
    bureaus: list[BureauFiguresOut]


class WebhookIn(Input):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)


class WebhookOut(BaseModel):
    bureau: str
    url: str
    created_at: UtcDatetime
    created_by: str
    secret: str | None = Field(
        default=None, description="Only in the answer to PUT: keep it, it is not shown again."
    )


class DeliveryOut(BaseModel):
    id: int
    event: str
    hit_id: int | None
    state: str
    attempts: int
    next_attempt_at: UtcDatetime
    last_error: str | None
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None


class NotificationOut(BaseModel):
    id: int
    kind: str
    hit_id: int | None
    text: str
    created_at: UtcDatetime
    read_at: UtcDatetime | None
    read_by: str | None


class NotificationPage(BaseModel):
    notifications: list[NotificationOut]
    unread: int
    next_before: int | None


class MarkRead(Input):
    model_config = ConfigDict(extra="forbid")

    ids: list[BodyId] | None = Field(
        default=None, max_length=1000, description="Omit to mark every notification read."
    )


class Marked(BaseModel):
    marked: int
    unread: int


class HitRulesIn(Input):
    model_config = ConfigDict(extra="forbid")

    domestic: DomesticRule = Field(
        description="A hit by your officers on your own record: `case`, `notify_only`, `ignore`."
    )


class HitRulesOut(BaseModel):
    bureau: str
    domestic: DomesticRule
    updated_at: UtcDatetime | None = Field(description="Null: never set, the defaults.")
    updated_by: str | None
