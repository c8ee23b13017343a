"""One case: the document, the match, where and when it was seen, the deadline; the owner's
answer and the querying side's outcome, each for its side only; the thread between the two
bureaus. The state and the thread refresh in place, so that an answer shows without reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Form, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bordercheck.auth.policy import restricted_notice
from bordercheck.errors import Forbidden, ValidationFailed
from bordercheck.hits import cases, sightings, threads
from bordercheck.hits.api import CASE_ROLES
from bordercheck.hits.models import Action, Answer, Hit, HitSighting, Outcome
from bordercheck.hits.schemas import AnswerIn, OutcomeIn
from bordercheck.messaging import reading
from bordercheck.messaging.access import View, thread_view
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.service import BODY_MAX, CentreNotes
from bordercheck.registry.models import Record
from bordercheck.timestamps import utcnow
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.hits.inbox import case_viewer
from bordercheck.web.hits.names import NAMES, digest, time_left
from bordercheck.web.i18n import N_, Language
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

HitId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FIELD_LABELS = {
    "answer": N_("Your answer"),
    "action": N_("What the other side should do"),
    "answer_note": N_("Note for the other bureau"),
    "outcome": N_("What you did"),
    "outcome_note": N_("Note on what you did"),
    "body": N_("Your message"),
}


@dataclass(frozen=True)
class CaseView:
    """The case as this viewer may see it and work on it."""

    hit: Hit
    record: Record | None  # None: the owner withholds the record from the viewer's bureau
    notice: str | None
    side: str  # "owner", "querying" or "" (an administrator, the secretariat)
    may_answer: bool
    may_record_outcome: bool
    overdue: bool
    time_left: str
    sightings: list[HitSighting]

    @property
    def version(self) -> str:
        hit = self.hit
        return digest(
            hit.state, hit.answer, hit.outcome, hit.sightings, hit.escalated_at, self.overdue
        )


def _view(
    session: Session, who: cases.Viewer, hit: Hit, language: Language, now: datetime
) -> CaseView:
    record = cases.record_for(session, who, hit)
    side = "owner" if who.is_owner(hit) else "querying" if who.is_querying(hit) else ""
    return CaseView(
        hit=hit,
        record=record,
        notice=restricted_notice(hit.owner_bureau) if record is None else None,
        side=side,
        may_answer=side == "owner" and hit.answer is None,
        may_record_outcome=who.is_querying(hit) and hit.outcome is None,
        overdue=cases.overdue(hit, now),
        time_left=time_left(language, hit.due_at, now),
        sightings=sightings.recent_sightings(session, hit.id),
    )


@dataclass(frozen=True)
class ThreadView:
    """The case's messages as the viewer may read them."""

    # The viewer reads and writes in it (a bureau officer of one of the case's bureaus);
    # otherwise they see at most how many messages it holds.
    full: bool
    messages: list[reading.OpenedMessage]
    count: int

    @property
    def last_id(self) -> int:
        return self.messages[-1].message.id if self.messages else 0


def _thread(
    request: Request, session: Session, viewer: Viewer, hit: Hit, after: int = 0
) -> ThreadView:
    """The thread by messaging's own rules (``messaging.access``), as its API applies them."""
    settings = settings_of(request)
    principal, secretariat = viewer.principal, settings.secretariat_code
    try:
        found = threads.hit_thread_of(session, principal, secretariat, hit.id)
    except Forbidden:  # messages are not for this role (border officers)
        return ThreadView(False, [], 0)
    if found is None:  # no message yet: its participants will be the case's two bureaus
        parties = threads.hit_parties(session, principal, secretariat, hit.id)
        return ThreadView(thread_view(principal, hit.id, parties, secretariat) is View.FULL, [], 0)
    thread, _participants, view = found
    if view is not View.FULL:
        return ThreadView(False, [], thread.message_count)
    messages = reading.thread_messages(
        session, MessageCrypto.from_settings(settings), thread.id, after=after
    )
    return ThreadView(True, messages, thread.message_count)


def _page(
    request: Request,
    viewer: Viewer,
    hit_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request, viewer)
    who = case_viewer(request, viewer)
    with database_of(request).session() as session:
        case = _view(session, who, cases.get_case(session, who, hit_id), language, _now())
        thread = _thread(request, session, viewer, case.hit)
        return render(
            request,
            "hits/case.html",
            _context(viewer, case) | {
                "thread": thread, "errors": errors or {}, "form": form or {},
                "labels": FIELD_LABELS,
            },
            language=language,
            status_code=status_code,
        )  # fmt: skip


def _context(viewer: Viewer, case: CaseView) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "case": case,
        "hit": case.hit,
        "names": NAMES,
        "actions": [a.value for a in Action],
        "outcomes": [o.value for o in Outcome],
        "answers": [a.value for a in Answer],
    }


def _now() -> datetime:
    return utcnow()


@router.get("/hits/{hit_id}")
def case_page(request: Request, viewer: ViewerDep, hit_id: HitId) -> Response:
    allow(viewer, *CASE_ROLES)
    return _page(request, viewer, hit_id)


@router.get("/hits/{hit_id}/status")
def case_status(
    request: Request,
    viewer: ViewerDep,
    hit_id: HitId,
    v: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The live part of the case: 204 while nothing changed."""
    allow(viewer, *CASE_ROLES)
    language = language_of(request, viewer)
    who = case_viewer(request, viewer)
    with database_of(request).session() as session:
        case = _view(session, who, cases.get_case(session, who, hit_id), language, _now())
        if v == case.version:
            return Response(status_code=204)
        return render(
            request, "hits/_status.html", _context(viewer, case) | {"live": True},
            language=language,
        )  # fmt: skip


@router.get("/hits/{hit_id}/thread")
def case_thread(
    request: Request,
    viewer: ViewerDep,
    hit_id: HitId,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """The thread's messages after ``after``: 204 while there are none."""
    allow(viewer, *CASE_ROLES)
    who = case_viewer(request, viewer)
    with database_of(request).session() as session:
        hit = cases.get_case(session, who, hit_id)
        thread = _thread(request, session, viewer, hit, after)
        if not thread.messages:
            return Response(status_code=204)
        return render(
            request, "hits/_messages.html",
            {"viewer": viewer, "hit": hit, "thread": thread, "after": thread.last_id,
             "live": True},
            language=language_of(request, viewer),
        )  # fmt: skip


def _form_errors(exc: ValidationError | ValidationFailed, note: str) -> dict[str, str]:
    """The errors of the API's own checks, by the form's field names."""
    errors: dict[str, str] = {}
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            errors[error.field] = error.reason
        return errors
    for item in exc.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        errors[note if name == "note" else name] = str(item["msg"])
    return errors


@router.post("/hits/{hit_id}/answer")
def answer(
    request: Request,
    viewer: ViewerDep,
    hit_id: HitId,
    answer: Annotated[str, Form(max_length=32)] = "",
    action: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The owner's answer, through the same service as ``POST /api/v1/hits/{id}/answer``."""
    allow(viewer, *CASE_ROLES)
    language = language_of(request, viewer)
    form = {"action": action, "answer_note": note}
    if not answer:
        errors = {
            "answer": translate(
                language, N_("Choose an answer: confirmed, not confirmed or no match.")
            )
        }
        return _page(request, viewer, hit_id, errors=errors, form=form, status_code=422)
    fields: dict[str, Any] = {"answer": answer, "note": note.strip() or None}
    if answer == Answer.CONFIRMED.value and action:
        fields["action"] = action
    try:
        body = AnswerIn.model_validate(fields)
        who = case_viewer(request, viewer)
        with database_of(request).session(write=True) as session:
            cases.answer_case(
                session, who, hit_id, body.answer, action=body.action, note=body.note or None,
                now=_now(), notes=CentreNotes.from_settings(settings_of(request)),
            )  # fmt: skip
    except (ValidationError, ValidationFailed) as exc:
        errors = _form_errors(exc, "answer_note")
        return _page(request, viewer, hit_id, errors=errors, form=form, status_code=422)
    return redirect(request, f"/hits/{hit_id}")


@router.post("/hits/{hit_id}/outcome")
def outcome(
    request: Request,
    viewer: ViewerDep,
    hit_id: HitId,
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """What the querying side did, through the same service as the API's outcome."""
    allow(viewer, *CASE_ROLES)
    language = language_of(request, viewer)
    form = {"outcome_note": note}
    if not outcome:
        errors = {"outcome": translate(language, N_("Choose what you did."))}
        return _page(request, viewer, hit_id, errors=errors, form=form, status_code=422)
    try:
        body = OutcomeIn.model_validate({"outcome": outcome, "note": note.strip() or None})
        who = case_viewer(request, viewer)
        with database_of(request).session(write=True) as session:
            cases.record_outcome(
                session, who, hit_id, body.outcome, note=body.note or None, now=_now(),
                notes=CentreNotes.from_settings(settings_of(request)),
            )  # fmt: skip
    except (ValidationError, ValidationFailed) as exc:
        errors = _form_errors(exc, "outcome_note")
        return _page(request, viewer, hit_id, errors=errors, form=form, status_code=422)
    return redirect(request, f"/hits/{hit_id}")


@router.post("/hits/{hit_id}/messages")
def reply(
    request: Request,
    viewer: ViewerDep,
    hit_id: HitId,
    body: Annotated[str, Form(max_length=BODY_MAX)] = "",
) -> Response:
    """Write in the case's thread, as ``POST /api/v1/hits/{id}/messages`` does."""
    allow(viewer, *CASE_ROLES)
    language = language_of(request, viewer)
    live = bool(request.headers.get("HX-Request"))
    errors: dict[str, str] = {}
    if not body.strip():
        errors["body"] = translate(language, N_("Write your message first."))
    else:
        settings = settings_of(request)
        with database_of(request).session(write=True) as session:
            threads.post_to_hit(session, settings, viewer.principal, hit_id, body=body)
    if not live:
        if errors:
            return _page(request, viewer, hit_id, errors=errors, form={"body": body},
                         status_code=422)  # fmt: skip
        return redirect(request, f"/hits/{hit_id}#thread")
    # From the page: a fresh form, and the thread is told to fetch the new message now.
    return render(
        request,
        "hits/_reply.html",
        {
            "viewer": viewer,
            "hit_id": hit_id,
            "errors": errors,
            "form": {"body": body} if errors else {},
            "labels": FIELD_LABELS,
        },
        language=language,
        status_code=422 if errors else 200,
        headers=None if errors else {"HX-Trigger": "thread-changed"},
    )
