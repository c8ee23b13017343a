"""A bureau's notifications: cases opened, answered, closed, due soon, escalated; read by
the whole bureau, marked read by any of its officers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response

from bordercheck.hits import notifications
from bordercheck.hits.api import NOTIFICATION_ROLES
from bordercheck.timestamps import utcnow
from bordercheck.web.access import ViewerDep, allow, database_of, language_of
from bordercheck.web.render import render
from bordercheck.web.routing import console_router, redirect

router = console_router()

PAGE_SIZE = 50


@router.get("/notifications")
def notifications_page(
    request: Request,
    viewer: ViewerDep,
    unread: bool = False,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    allow(viewer, *NOTIFICATION_ROLES)
    bureau = viewer.bureau_code
    with database_of(request).session() as session:
        rows = notifications.list_notifications(
            session, bureau, unread_only=unread, before=before, limit=PAGE_SIZE + 1
        )
        count = notifications.unread_count(session, bureau)
    return render(
        request,
        "hits/notifications.html",
        {
            "viewer": viewer,
            "rows": rows[:PAGE_SIZE],
            "unread": unread,
            "unread_count": count,
            "before": before,
            "next_before": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        },
        language=language_of(request, viewer),
    )


@router.post("/notifications/read")
def mark_read(
    request: Request,
    viewer: ViewerDep,
    notification: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    unread: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Mark one notification read (``notification``), or all of the bureau's."""
    allow(viewer, *NOTIFICATION_ROLES)
    with database_of(request).session(write=True) as session:
        notifications.mark_read(
            session, viewer.bureau_code, viewer.name, utcnow(),
            [notification] if notification is not None else None,
        )  # fmt: skip
    return redirect(request, "/notifications" + ("?unread=true" if unread else ""))


@router.get("/notifications/badge")
def badge(request: Request, viewer: ViewerDep) -> Response:
    """The menu's count of unread notifications."""
    allow(viewer, *NOTIFICATION_ROLES)
    with database_of(request).session() as session:
        count = notifications.unread_count(session, viewer.bureau_code)
    return render(
        request,
        "hits/_badge.html",
        {"count": count, "what": "notifications"},
        language=language_of(request, viewer),
    )
