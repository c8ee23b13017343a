"""``/manifests``: airlines' passenger lists screened as they arrive, then read by the bureau.

A list is read and screened off the event loop (seconds of work for the largest), and stored
in one transaction with its log entries and the hit cases they open: the answer is sent after
that commit, so a case is never lost once the airline has its answer, and never names a list
that is not there.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from bordercheck.api.deps import Principal, SessionDep, SettingsDep, require_roles
from bordercheck.api.limits import rate_limit
from bordercheck.auth.models import Role
from bordercheck.logs import get_logger
from bordercheck.manifests import intake, service
from bordercheck.manifests.schemas import (
    ScreenManifestsOut,
    StoredManifestDetailOut,
    StoredManifestOut,
    interchange_answer,
    stored_out,
    traveller_out,
)
from bordercheck.screening.schemas import Location, OperationId

log = get_logger(__name__)
# Airline gateways are API clients with one of these roles.
SUBMITTERS = (Role.ADMIN, Role.BUREAU_OFFICER, Role.BORDER_OFFICER)
READERS = (Role.ADMIN, Role.ANALYST, Role.BUREAU_OFFICER, Role.BORDER_OFFICER)

router = APIRouter(tags=["manifests"], dependencies=[Depends(rate_limit)])
SubmitterDep = Annotated[Principal, Depends(require_roles(*SUBMITTERS))]
ReaderDep = Annotated[Principal, Depends(require_roles(*READERS))]
ManifestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The manifest's id.")]


@router.post("/manifests", response_model=ScreenManifestsOut)
async def submit_manifest(
    request: Request,
    principal: SubmitterDep,
    location: Annotated[Location | None, Query(description="Border post code.")] = None,
    operation_id: Annotated[OperationId | None, Query()] = None,
) -> Response:
    """Screen every document on a flight's PAXLST list (the file as the body, or uploaded)."""
    received = await intake.receive(
        request, principal, location=location, operation_id=operation_id, charged=1
    )  # one request's worth: the router's dependency took it
    answer = interchange_answer(received.interchange, received.screened)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get("/manifests", response_model=list[StoredManifestOut])
def list_manifests(
    principal: ReaderDep,
    session: SessionDep,
    settings: SettingsDep,
    bureau: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="An id.")] = None,
) -> Response:
    """Lists received, newest first: your bureau's (all bureaus' for admins and analysts)."""
    scope = service.listable_bureau(principal, bureau, settings.secretariat_code)
    rows = service.list_manifests(session, bureau_code=scope, limit=limit, before_id=before)
    body = [StoredManifestOut.model_validate(stored_out(r)).model_dump(mode="json") for r in rows]
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/manifests/{manifest_id}", response_model=StoredManifestDetailOut)
def read_manifest(
    manifest_id: ManifestId,
    principal: ReaderDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One list with its travellers and what screening said of each."""
    row = service.get_manifest(session, manifest_id)
    service.ensure_may_read(principal, row, settings.secretariat_code)
    body = stored_out(row) | {
        "traveller_list": [traveller_out(t) for t in service.travellers_of(session, row.id)]
    }
    log.info("manifest read", manifest_id=manifest_id, by=principal.name)
    out = StoredManifestDetailOut.model_validate(body).model_dump(mode="json")
    return Response(orjson.dumps(out), media_type="application/json")
