"""``/hits`` (cases, figures, the bureau's webhook) and ``/notifications`` (the console's).

A case is seen by its two bureaus (the owner's bureau officers; the querying side's bureau
and border officers), by administrators, and by the secretariat once escalated; any other
bureau gets 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.orm import Session

from bordercheck.api.deps import Principal, PrincipalDep, SessionDep, SettingsDep, require_roles
from bordercheck.api.limits import rate_limit
from bordercheck.auth.models import Role
from bordercheck.auth.policy import restricted_notice
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.errors import FieldError, Forbidden, ValidationFailed
from bordercheck.hits import cases, notifications, rules, sightings, webhooks
from bordercheck.hits.figures import figures
from bordercheck.hits.models import DomesticRule, Hit, HitRules, Notification, Webhook
from bordercheck.hits.schemas import (
    AnswerIn,
    BureauFiguresOut,
    DeliveryOut,
    FiguresOut,
    HitOut,
    HitPage,
    HitRulesIn,
    HitRulesOut,
    Marked,
    MarkRead,
    NotificationOut,
    NotificationPage,
    OutcomeIn,
    RecordSummary,
    SightingOut,
    WebhookIn,
    WebhookOut,
)
from bordercheck.messaging.service import CentreNotes
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

# Who opens cases at all (``cases.Viewer.may_see`` says which), and who reads a bureau's
# notifications.
CASE_ROLES = (Role.ADMIN, Role.BUREAU_OFFICER, Role.BORDER_OFFICER, Role.ANALYST)
NOTIFICATION_ROLES = (Role.ADMIN, Role.BUREAU_OFFICER)
router = APIRouter(
    tags=["hits"], dependencies=[Depends(require_roles(*CASE_ROLES)), Depends(rate_limit)]
)
notifications_router = APIRouter(
    tags=["hits"],
    dependencies=[Depends(require_roles(*NOTIFICATION_ROLES)), Depends(rate_limit)],
)
HitId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The case's id.")]
Limit = Annotated[int, Query(ge=1, le=500)]
Before = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Older than this id.")]
BureauQuery = Annotated[
    str | None, Query(description="Administrators (and the secretariat) may name a bureau.")
]


def _viewer(principal: Principal, settings: Settings) -> cases.Viewer:
    return cases.Viewer(principal.actor(), settings.secretariat_code)


def _now() -> datetime:
    return utcnow()


def _hit_out(
    session: Session, viewer: cases.Viewer, hit: Hit, now: datetime, *, seen: bool = False
) -> HitOut:
    """The case as the viewer may see it; with its latest sightings when ``seen``."""
    record = cases.record_for(session, viewer, hit)
    withheld = record is None
    summary = None
    if record is not None:
        summary = RecordSummary(
            document_number=record.document_number,
            issuing_country=record.issuing_country,
            document_type=record.document_type,
            status=record.status,
            active=record.active,
        )
    return HitOut(
        id=hit.id, state=hit.state, source=hit.source, query_id=hit.query_id,
        record_id=None if withheld else hit.record_id, record=summary,
        match="restricted" if withheld else hit.match, score=None if withheld else hit.score,
        message=restricted_notice(hit.owner_bureau) if withheld else None,
        owner_bureau=hit.owner_bureau, querying_bureau=hit.querying_bureau,
        queried_by=hit.queried_by, location=hit.location, operation_id=hit.operation_id,
        manifest_id=hit.manifest_id, flight=hit.flight, created_at=hit.created_at,
        due_at=hit.due_at,
        overdue=cases.overdue(hit, now),
        reminded_at=hit.reminded_at, escalated_at=hit.escalated_at, answer=hit.answer,
        action=hit.action, answer_note=hit.answer_note, answered_at=hit.answered_at,
        answered_by=hit.answered_by, outcome=hit.outcome, outcome_note=hit.outcome_note,
        outcome_at=hit.outcome_at, outcome_by=hit.outcome_by, domestic=hit.domestic,
        sightings=hit.sightings, last_seen_at=hit.last_seen_at or hit.created_at,
        # A sighting says when, where and by whom the querying side screened: what that side
        # did itself, never the record (nor how it matched), so withholding leaves it whole.
        recent_sightings=[
            SightingOut(
                query_id=s.query_id, seen_at=s.seen_at, location=s.location, source=s.source,
                queried_by=s.queried_by, operation_id=s.operation_id, notified=s.notified,
            )
            for s in sightings.recent_sightings(session, hit.id)
        ] if seen else None,
    )  # fmt: skip


@router.get("/hits", response_model=HitPage)
def list_hits(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    state: Annotated[
        Literal["open", "answered", "closed", "escalated"] | None,
        Query(description="`escalated`: open cases past their deadline."),
    ] = None,
    role: Annotated[
        Literal["owner", "querying"] | None, Query(description="Your bureau's side of the case.")
    ] = None,
    before: Before = None,
    limit: Limit = 100,
) -> HitPage:
    """Your bureau's cases, as owner or as querying side, newest first."""
    viewer = _viewer(principal, settings)
    found = cases.list_cases(session, viewer, state=state, role=role, before=before, limit=limit)
    now = _now()
    return HitPage(
        hits=[_hit_out(session, viewer, hit, now) for hit in found],
        next_before=found[-1].id if len(found) == limit else None,
    )


@router.get("/hits/figures", response_model=FiguresOut)
def hit_figures(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=3660, description="Cases opened this far back.")] = 30,
    bureau: BureauQuery = None,
) -> FiguresOut:
    """Per owning bureau: time to answer (median, 90th percentile), share confirmed, open and
    overdue cases. Administrators and the secretariat see every bureau; others their own."""
    viewer = _viewer(principal, settings)
    sees_all = principal.role is Role.ADMIN or viewer.is_secretariat
    code = _bureau(bureau) if bureau is not None else None
    if not sees_all:
        if code is not None and code != principal.bureau_code:
            raise Forbidden(
                f"only administrators and the secretariat see other bureaus' figures; "
                f"yours are at ?bureau={principal.bureau_code}"
            )
        code = principal.bureau_code
    now = _now()
    since = now - timedelta(days=days)
    rows = figures(session, now, since=since, bureau=code)
    return FiguresOut(
        since=since,
        bureaus=[
            BureauFiguresOut(
                bureau=f.bureau, cases=f.cases, answered=f.answered, confirmed=f.confirmed,
                confirmed_share=f.confirmed_share, median_answer_minutes=f.median_answer_minutes,
                p90_answer_minutes=f.p90_answer_minutes, open=f.open, overdue=f.overdue,
                escalated=f.escalated,
            )
            for f in rows
        ],
    )  # fmt: skip


def _bureau(code: str) -> str:
    try:
        return normalise_country(code)
    except InvalidCountry as exc:
        raise ValidationFailed(errors=[FieldError("bureau", str(exc))]) from None


def _hook_bureau(principal: Principal, bureau: str | None, what: str = "webhook") -> str:
    """Whose webhook (or hit rules): a bureau officer's own bureau's; any bureau's for an
    administrator."""
    if principal.role is Role.ADMIN:
        return _bureau(bureau) if bureau is not None else principal.bureau_code
    if principal.role is not Role.BUREAU_OFFICER:
        raise Forbidden(
            f"a bureau's {what} is set by its bureau officers or an administrator; "
            f"{principal.name} is {principal.role.value}"
        )
    if bureau is not None and _bureau(bureau) != principal.bureau_code:
        raise Forbidden(f"bureau {principal.bureau_code} may set only its own {what}")
    return principal.bureau_code


def _hook_out(hook: Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        bureau=hook.bureau_code, url=hook.url, created_at=hook.created_at,
        created_by=hook.created_by, secret=secret,
    )  # fmt: skip


@router.put("/hits/webhook", response_model=WebhookOut)
def put_webhook(
    body: WebhookIn,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    bureau: BureauQuery = None,
) -> WebhookOut:
    """Send your bureau's hit events to this URL. The answer holds the signing secret, once;
    setting the webhook again makes a new secret."""
    code = _hook_bureau(principal, bureau)
    new = webhooks.set_webhook(
        session, principal.actor(), code, body.url, secret_key=settings.secret_key,
        production=settings.env == "production", now=_now(),
        training=settings.training_sandbox is not None,
    )  # fmt: skip
    return _hook_out(new.webhook, new.secret)


@router.get("/hits/webhook", response_model=WebhookOut)
def get_webhook(
    principal: PrincipalDep, session: SessionDep, bureau: BureauQuery = None
) -> WebhookOut:
    """Your bureau's webhook (never its secret)."""
    return _hook_out(webhooks.get_webhook(session, _hook_bureau(principal, bureau)))


@router.delete("/hits/webhook", status_code=204)
def delete_webhook(
    principal: PrincipalDep, session: SessionDep, bureau: BureauQuery = None
) -> Response:
    """Stop sending events to your bureau's webhook."""
    webhooks.remove_webhook(session, principal.actor(), _hook_bureau(principal, bureau))
    return Response(status_code=204)


def _rules_out(found: HitRules) -> HitRulesOut:
    return HitRulesOut(
        bureau=found.bureau_code, domestic=DomesticRule(found.domestic),
        updated_at=found.updated_at, updated_by=found.updated_by,
    )  # fmt: skip


@router.get("/hits/rules", response_model=HitRulesOut)
def get_hit_rules(
    principal: PrincipalDep, session: SessionDep, bureau: BureauQuery = None
) -> HitRulesOut:
    """Your bureau's rules for the hits on its records."""
    return _rules_out(rules.get_rules(session, _hook_bureau(principal, bureau, "hit rules")))


@router.put("/hits/rules", response_model=HitRulesOut)
def put_hit_rules(
    body: HitRulesIn, principal: PrincipalDep, session: SessionDep, bureau: BureauQuery = None
) -> HitRulesOut:
    """Set your bureau's rules: `domestic` says what a hit by your own officers on your own
    record does (`case`, the default; `notify_only`; `ignore`)."""
    code = _hook_bureau(principal, bureau, "hit rules")
    return _rules_out(
        rules.set_rules(session, principal.actor(), code, domestic=body.domestic, now=_now())
    )


@router.get("/hits/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    principal: PrincipalDep,
    session: SessionDep,
    state: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    bureau: BureauQuery = None,
    limit: Limit = 100,
) -> list[DeliveryOut]:
    """Your bureau's webhook events, newest first: attempts, the last error, failed ones."""
    code = _hook_bureau(principal, bureau)
    rows = webhooks.list_deliveries(session, code, state=state, limit=limit)
    return [
        DeliveryOut(
            id=d.id, event=d.event, hit_id=d.hit_id, state=d.state, attempts=d.attempts,
            next_attempt_at=d.next_attempt_at, last_error=d.last_error,
            created_at=d.created_at, delivered_at=d.delivered_at,
        )
        for d in rows
    ]  # fmt: skip


@router.get("/hits/{hit_id}", response_model=HitOut)
def get_hit(
    hit_id: HitId, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> HitOut:
    """One case: the query, both bureaus, the record, its sightings, the answer and the
    outcome."""
    viewer = _viewer(principal, settings)
    return _hit_out(session, viewer, cases.get_case(session, viewer, hit_id), _now(), seen=True)


@router.post("/hits/{hit_id}/answer", response_model=HitOut)
def answer_hit(
    hit_id: HitId, body: AnswerIn, principal: PrincipalDep, session: SessionDep,
    settings: SettingsDep,
) -> HitOut:  # fmt: skip
    """The owning bureau's answer: `confirmed` (with the action it asks for), `not_confirmed`
    (the record is out of date: withdrawn, or corrected with `correction`, in the same
    step) or `no_match` (a different document). Once only (409 after)."""
    viewer = _viewer(principal, settings)
    hit = cases.answer_case(
        session, viewer, hit_id, body.answer, action=body.action, note=body.note or None,
        correction=body.correction, record_version=body.record_version, now=_now(),
        notes=CentreNotes.from_settings(settings),
    )  # fmt: skip
    return _hit_out(session, viewer, hit, _now())


@router.post("/hits/{hit_id}/outcome", response_model=HitOut)
def record_outcome(
    hit_id: HitId, body: OutcomeIn, principal: PrincipalDep, session: SessionDep,
    settings: SettingsDep,
) -> HitOut:  # fmt: skip
    """What the querying side did: `seized`, `refused_entry`, `arrested`, `released`, `other`.
    Once only (409 after)."""
    viewer = _viewer(principal, settings)
    hit = cases.record_outcome(
        session, viewer, hit_id, body.outcome, note=body.note or None, now=_now(),
        notes=CentreNotes.from_settings(settings),
    )  # fmt: skip
    return _hit_out(session, viewer, hit, _now())


def _notification_out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id, kind=row.kind, hit_id=row.hit_id, text=row.text, created_at=row.created_at,
        read_at=row.read_at, read_by=row.read_by,
    )  # fmt: skip


@notifications_router.get("/notifications", response_model=NotificationPage)
def list_notifications(
    principal: PrincipalDep,
    session: SessionDep,
    unread: Annotated[bool, Query(description="Only those not yet read.")] = False,
    before: Before = None,
    limit: Limit = 100,
) -> NotificationPage:
    """Your bureau's notifications, newest first, and how many are unread."""
    bureau = principal.bureau_code
    rows = notifications.list_notifications(
        session, bureau, unread_only=unread, before=before, limit=limit
    )
    return NotificationPage(
        notifications=[_notification_out(row) for row in rows],
        unread=notifications.unread_count(session, bureau),
        next_before=rows[-1].id if len(rows) == limit else None,
    )


@notifications_router.post("/notifications/read", response_model=Marked)
def mark_read(body: MarkRead, principal: PrincipalDep, session: SessionDep) -> Marked:
    """Mark notifications read: the `ids` sent, or all of your bureau's."""
    bureau = principal.bureau_code
    marked = notifications.mark_read(session, bureau, principal.actor().name, _now(), body.ids)
    return Marked(marked=marked, unread=notifications.unread_count(session, bureau))
