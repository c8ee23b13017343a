"""Offline kits: every registered kit with its last sync, and revoking a lost or retired one."""

from __future__ import annotations

from fastapi import Request, Response

from bordercheck.edge import service
from bordercheck.edge.api import ADMINS
from bordercheck.web.access import ViewerDep, allow, database_of
from bordercheck.web.admin import page
from bordercheck.web.routing import console_router, redirect

router = console_router()


@router.get("/admin/kits")
def kits(request: Request, viewer: ViewerDep) -> Response:
    allow(viewer, *ADMINS)
    with database_of(request).session() as session:
        return page(request, viewer, "kits.html", {"kits": service.list_kits(session)})


@router.post("/admin/kits/{kit_id}/revoke")
def revoke(request: Request, viewer: ViewerDep, kit_id: str) -> Response:
    """As ``DELETE /edge/kits/{kit_id}``: the centre sends the kit nothing more."""
    allow(viewer, *ADMINS)
    with database_of(request).session(write=True) as session:
        service.revoke_kit(session, kit_id, viewer.principal.actor().name)
    return redirect(request, "/admin/kits?done=revoked")
