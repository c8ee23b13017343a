"""Messages between bureaus: my bureau's threads, a thread read and answered, a new thread.

The pages go through the messaging service as ``/api/v1/messages`` does: the same roles, the
same view of a thread (participants read it; the secretariat and administrators see its
metadata; other bureaus are told it does not exist), the same checks on attachments. A
thread's page asks every few seconds for messages newer than the last one shown, so a reply
from the other bureau appears without reloading.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Path, Query, Request, Response, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.api.types import MAX_ID
from bordercheck.auth import service as auth_service
from bordercheck.auth.policy import open_to_partners
from bordercheck.errors import BordercheckError, ValidationFailed
from bordercheck.hits import cases
from bordercheck.hits.models import Hit
from bordercheck.messaging import reading, service
from bordercheck.messaging.access import PARTIES, READERS, THREAD_READERS, WRITERS, View
from bordercheck.messaging.api import attachment_download
from bordercheck.messaging.attachments import NewAttachment, media_type
from bordercheck.messaging.crypto import MessageCrypto
from bordercheck.messaging.service import BODY_MAX, SUBJECT_MAX
from bordercheck.settings import Settings
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router, redirect
from bordercheck.web.sessions import Viewer

router = console_router()

PAGE_SIZE = 25
Page = Annotated[int, Query(ge=1, le=10_000)]
After = Annotated[int | None, Query(ge=0, le=MAX_ID)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
FIELD_LABELS = {
    "subject": N_("Subject"),
    "recipients": N_("To the bureau of"),
    "body": N_("Message"),
    "attachments": N_("Attach files"),
}


def _form_errors(exc: BordercheckError, files: list[UploadFile]) -> dict[str, str]:
    """The service's refusal, by the form's fields; ``attachments.0.content`` is the first
    file's, and is told by that file's name."""
    errors: dict[str, str] = {}
    found = exc.errors if isinstance(exc, ValidationFailed) else []
    for error in found:
        name, _, rest = error.field.partition(".")
        reason = error.reason
        index = rest.partition(".")[0]
        if name == "attachments" and index.isdigit() and int(index) < len(files):
            reason = f"{files[int(index)].filename or index}: {reason}"
        elif name == "attachments" and rest:
            reason = f"{error.field}: {reason}"
        errors.setdefault(name if name in FIELD_LABELS else "body", reason)
    if not errors:
        field = str(exc.detail.get("field", "body")).split(".")[0]
        errors[field if field in FIELD_LABELS else "body"] = exc.message
    return errors


def uploaded(files: list[UploadFile]) -> list[NewAttachment]:
    """The files of a form as the API takes them (an empty file field sends no file)."""
    attachments = []
    for upload in files:
        if not upload.filename and not upload.size:
            continue
        declared = media_type(upload.content_type or "application/octet-stream")
        attachments.append(NewAttachment(upload.filename or "", declared, upload.file.read()))
    return attachments


# --- the list ---------------------------------------------------------------------------


@router.get("/messages")
def threads_page(request: Request, viewer: ViewerDep, page: Page = 1) -> Response:
    allow(viewer, *READERS)
    settings = settings_of(request)
    crypto = MessageCrypto.from_settings(settings)
    with database_of(request).session() as session:
        visible = service.visible_threads(
            session,
            settings,
            viewer.principal,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        shown = visible[:PAGE_SIZE]
        open_cases = _cases_open_to(
            session, settings, viewer, [v.thread.hit_id for v in shown if v.thread.hit_id]
        )
        rows = [
            {
                "id": v.thread.id,
                "kind": v.thread.kind,
                "hit_id": v.thread.hit_id,
                "case_open": v.thread.hit_id in open_cases,
                "full": v.view is View.FULL,
                "subject": reading.open_subject(crypto, v.thread) if v.view is View.FULL else None,
                "participants": v.participants,
                "last_message_at": v.thread.last_message_at,
                "message_count": v.thread.message_count,
                "unread": v.unread,
            }
            for v in shown
        ]
    return render(
        request,
        "messages/list.html",
        {
            "viewer": viewer,
            "threads": rows,
            "page": page,
            "more": len(visible) > PAGE_SIZE,
            "may_write": viewer.role in WRITERS,
        },
        language=language_of(request, viewer),
    )


def _cases_open_to(
    session: Session, settings: Settings, viewer: Viewer, hit_ids: list[int]
) -> set[int]:
    """The cases among ``hit_ids`` the viewer may open: a thread of a case is shown to the
    secretariat before the case is escalated to it, and a link would lead to a 404."""
    if not hit_ids:
        return set()
    who = cases.Viewer(viewer.principal.actor(), settings.secretariat_code)
    return {
        hit.id
        for hit in session.scalars(select(Hit).where(Hit.id.in_(hit_ids)))
        if who.may_see(hit)
    }


# --- a new thread -----------------------------------------------------------------------


def _new_thread_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    bureaus = [
        (b.country_code, b.name)
        for b in auth_service.list_bureaus(session)
        if b.country_code != viewer.bureau_code
    ]
    return render(
        request,
        "messages/new.html",
        {
            "viewer": viewer,
            "form": form,
            "errors": errors,
            "labels": FIELD_LABELS,
            "bureaus": bureaus,
            "subject_max": SUBJECT_MAX,
            "body_max": BODY_MAX,
        },
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.get("/messages/new")
def new_thread_page(request: Request, viewer: ViewerDep, to: str = "") -> Response:
    allow(viewer, *WRITERS)
    with database_of(request).session() as session:
        return _new_thread_page(
            request, viewer, session, form={"recipients": to.upper()[:3]}, errors={}
        )


@router.post("/messages")
def create_thread(
    request: Request,
    viewer: ViewerDep,
    subject: Annotated[str, Form(max_length=SUBJECT_MAX * 2)] = "",
    recipients: Annotated[str, Form(max_length=10)] = "",
    body: Annotated[str, Form(max_length=BODY_MAX * 2)] = "",
    attachments: Annotated[list[UploadFile], File()] = [],  # noqa: B006 (FastAPI copies it)
) -> Response:
    allow(viewer, *WRITERS)
    settings = settings_of(request)
    form = {"subject": subject, "recipients": recipients, "body": body}
    errors: dict[str, str] = {}
    if not recipients:
        errors["recipients"] = translate(
            language_of(request, viewer), N_("Choose the bureau to write to.")
        )
    try:
        with database_of(request).session(write=True) as session:
            if errors:
                return _new_thread_page(
                    request, viewer, session, form=form, errors=errors, status_code=422
                )
            thread, _ = service.create_thread(
                session,
                settings,
                viewer.principal.actor(),
                subject=subject,
                recipients=[recipients],
                body=body,
                attachments=uploaded(attachments),
            )
            thread_id = thread.id
    except BordercheckError as exc:
        if exc.status_code not in (413, 422):
            raise
        with database_of(request).session() as session:
            return _new_thread_page(
                request,
                viewer,
                session,
                form=form,
                errors=_form_errors(exc, attachments),
                status_code=exc.status_code,
            )
    return redirect(request, f"/messages/{thread_id}")


# --- a thread ---------------------------------------------------------------------------


def _thread_context(
    session: Session,
    settings: Settings,
    viewer: Viewer,
    thread_id: int,
    *,
    after: int | None = None,
) -> dict[str, Any]:
    thread, participants, view = service.thread_for(session, settings, viewer.principal, thread_id)
    crypto = MessageCrypto.from_settings(settings)
    full = view is View.FULL
    messages = reading.thread_messages(session, crypto, thread_id, after=after) if full else []
    unread = service.unread_counts(session, viewer.bureau_code, [thread_id]).get(thread_id, 0)
    last = messages[-1].message.id if messages else (after or 0)
    return {
        "viewer": viewer,
        "thread": thread,
        # The whole page only: the page's poll (``after``) shows new messages alone.
        "case_open": after is None
        and thread.hit_id is not None
        and thread.hit_id in _cases_open_to(session, settings, viewer, [thread.hit_id]),
        "subject": reading.open_subject(crypto, thread) if full else None,
        "participants": participants,
        "full": full,
        "messages": messages,
        "unread": unread if full else 0,
        "last": last,
        "may_write": full and viewer.role in PARTIES,
    }


def _thread_page(
    request: Request,
    viewer: Viewer,
    thread_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        context = _thread_context(session, settings, viewer, thread_id)
    return render(
        request,
        "messages/thread.html",
        context
        | {
            "form": form or {},
            "errors": errors or {},
            "labels": FIELD_LABELS,
            "body_max": BODY_MAX,
        },
        language=language_of(request, viewer),
        status_code=status_code,
    )


@router.get("/messages/{thread_id}")
@open_to_partners
def thread_page(
    request: Request, viewer: ViewerDep, thread_id: Id, after: After = None
) -> Response:
    allow(viewer, *THREAD_READERS)
    if request.headers.get("HX-Request") and after is not None:
        # The page's poll: only the messages newer than the last one it shows.
        settings = settings_of(request)
        with database_of(request).session() as session:
            context = _thread_context(session, settings, viewer, thread_id, after=after)
        return render(request, "messages/_new.html", context, language=language_of(request, viewer))
    return _thread_page(request, viewer, thread_id)


@router.post("/messages/{thread_id}")
@open_to_partners
def reply(
    request: Request,
    viewer: ViewerDep,
    thread_id: Id,
    body: Annotated[str, Form(max_length=BODY_MAX * 2)] = "",
    attachments: Annotated[list[UploadFile], File()] = [],  # noqa: B006 (FastAPI copies it)
) -> Response:
    allow(viewer, *PARTIES)
    settings = settings_of(request)
    try:
        with database_of(request).session(write=True) as session:
            message_id = service.reply(
                session,
                settings,
                viewer.principal,
                thread_id,
                body=body,
                attachments=uploaded(attachments),
            )
    except BordercheckError as exc:
        if exc.status_code not in (413, 422):
            raise
        return _thread_page(
            request,
            viewer,
            thread_id,
            form={"body": body},
            errors=_form_errors(exc, attachments),
            status_code=exc.status_code,
        )
    return redirect(request, f"/messages/{thread_id}#message-{message_id}")


@router.post("/messages/{thread_id}/read")
@open_to_partners
def mark_read(request: Request, viewer: ViewerDep, thread_id: Id) -> Response:
    allow(viewer, *PARTIES)
    settings = settings_of(request)
    with database_of(request).session(write=True) as session:
        service.read_thread(session, settings, viewer.principal, thread_id, None)
    return redirect(request, f"/messages/{thread_id}")


@router.get("/messages/{thread_id}/messages/{message_id}/attachments/{attachment_id}")
@open_to_partners
def attachment(
    request: Request, viewer: ViewerDep, thread_id: Id, message_id: Id, attachment_id: Id
) -> Response:
    allow(viewer, *THREAD_READERS)
    settings = settings_of(request)
    with database_of(request).session() as session:
        filename, content_type, content = reading.attachment_for(
            session, settings, viewer.principal, thread_id, message_id, attachment_id
        )
    return attachment_download(filename, content_type, content)
