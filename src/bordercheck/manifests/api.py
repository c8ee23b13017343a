"""``/manifests``: airlines' passenger lists screened as they arrive, then read by the bureau.

A list is read and screened off the event loop (seconds of work for the largest), and stored
in one transaction with its log entries and the hit cases they open: the answer is sent after
that commit, so a case is never lost once the airline has its answer, and never names a list
that is not there.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bordercheck.api.deps import DatabaseDep, Principal, SessionDep, SettingsDep, require_roles
from bordercheck.api.limits import RateLimiter, rate_limit
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.errors import BordercheckError, Forbidden, InvalidInput, ServiceUnavailable
from bordercheck.logs import get_logger
from bordercheck.manifests import service
from bordercheck.manifests.intake import ParsingSlots, size_cost
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.schemas import (
    ScreenManifestsOut,
    StoredManifestDetailOut,
    StoredManifestOut,
    interchange_answer,
    stored_out,
    traveller_out,
)
from bordercheck.screening.api import DOCUMENTS_PER_REQUEST
from bordercheck.screening.live import LiveIndex
from bordercheck.screening.querylog import write_entries
from bordercheck.screening.schemas import Location, OperationId
from bordercheck.screening.service import Asker
from bordercheck.settings import Settings
from bordercheck.timestamps import utcnow

log = get_logger(__name__)
# Airline gateways are API clients with one of these roles.
SUBMITTERS = (Role.ADMIN, Role.BUREAU_OFFICER, Role.BORDER_OFFICER)
READERS = (Role.ADMIN, Role.ANALYST, Role.BUREAU_OFFICER, Role.BORDER_OFFICER)
PURGE_EVERY = timedelta(days=1)

router = APIRouter(tags=["manifests"], dependencies=[Depends(rate_limit)])
SubmitterDep = Annotated[Principal, Depends(require_roles(*SUBMITTERS))]
ReaderDep = Annotated[Principal, Depends(require_roles(*READERS))]
ManifestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The manifest's id.")]


class ManifestTooLarge(BordercheckError):
    status_code = 413
    code = "too_large"


async def _file(request: Request, max_bytes: int) -> bytes:
    """The PAXLST file: the body itself, or the form field ``file`` of an upload."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the PAXLST file in the form field 'file'")
        data = await upload.read(max_bytes + 1)
    else:
        data = await request.body()
    if len(data) > max_bytes:
        raise ManifestTooLarge(
            f"the manifest is larger than {max_bytes:,} bytes (BORDERCHECK_MANIFEST_MAX_BYTES)",
            max_bytes=max_bytes,
        )
    if not data.strip():
        raise InvalidInput(
            "the body is empty: send the PAXLST file as the body, or as the form field 'file'"
        )
    return data


@router.post("/manifests", response_model=ScreenManifestsOut)
async def submit_manifest(
    request: Request,
    principal: SubmitterDep,
    database: DatabaseDep,
    settings: SettingsDep,
    location: Annotated[Location | None, Query(description="Border post code.")] = None,
    operation_id: Annotated[OperationId | None, Query()] = None,
) -> Response:
    """Screen every document on a flight's PAXLST list (the file as the body, or uploaded)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    # Charged by size before a byte is read: the declared length, else the length read.
    declared = request.headers.get("content-length", "")
    charged = 1  # the router's dependency took one request's worth
    if declared.isascii() and declared.isdigit():
        charged = _charge(limiter, principal, int(declared), charged)
    data = await _file(request, settings.manifest_max_bytes)
    charged = _charge(limiter, principal, len(data), charged)
    live: LiveIndex = request.app.state.live_index
    if live.index is None:
        raise ServiceUnavailable(
            "the screening index is still loading; try again in a moment", retry_after=1
        )
    slots: ParsingSlots = request.app.state.manifest_parsing
    async with slots.slot():
        answer = await run_in_threadpool(
            _screen_and_store, request, principal, database, settings, data, location,
            operation_id, charged,
        )  # fmt: skip
    return Response(orjson.dumps(answer), media_type="application/json")


def _charge(limiter: RateLimiter, principal: Principal, size: int, charged: int) -> int:
    """Take what a list of ``size`` bytes costs beyond what was ``charged``; the new total."""
    cost = size_cost(size)
    if cost > charged:
        limiter.take(principal.subject, cost - charged)
    return max(cost, charged)


def _screen_and_store(
    request: Request,
    principal: Principal,
    database: Database,
    settings: Settings,
    data: bytes,
    location: str | None,
    operation_id: str | None,
    charged: int,
) -> dict[str, Any]:
    started = time.perf_counter()
    interchange = parse_paxlst(data)
    documents = sum(m.documents for m in interchange.manifests)
    # A list denser than its size suggested pays the rest, as /screen/batch would.
    extra = math.ceil(documents / DOCUMENTS_PER_REQUEST) - charged
    if extra > 0:
        request.app.state.rate_limiter.take(principal.subject, extra)
    live: LiveIndex = request.app.state.live_index
    assert live.index is not None
    asker = Asker(kind=principal.kind, name=principal.name, bureau_code=principal.bureau_code)
    screened = [
        service.screen_manifest(live.index, manifest, asker, withheld_from=live.withheld_from,
                                location=location, operation_id=operation_id)
        for manifest in interchange.manifests
    ]  # fmt: skip
    with database.session(write=True) as session:
        for one in screened:
            service.store(session, interchange, one, asker, source="api")
            # After ``store``: the hit cases name the list, which now has its id.
            write_entries(session, one.logged, on_hits=request.app.state.on_hits)
        _purge_if_due(request, session, settings)
    for one in screened:
        request.app.state.metrics.screenings.inc(len(one.logged))
        log.info(
            "manifest screened",
            manifest_id=one.stored_id, flight=one.manifest.flight,
            travellers=len(one.manifest.travellers), hits=len(one.with_result("hit")),
            by=principal.name, bureau=principal.bureau_code,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )  # fmt: skip
    return interchange_answer(interchange, screened)


def _purge_if_due(request: Request, session: Session, settings: Settings) -> None:
    """Once a day per process, forget lists past their retention, in the same transaction."""
    now = utcnow()
    last: datetime | None = getattr(request.app.state, "manifests_purged_at", None)
    if last is not None and now - last < PURGE_EVERY:
        return
    request.app.state.manifests_purged_at = now
    cutoff = now - timedelta(days=settings.manifest_retention_days)
    purged = service.purge(session, cutoff, actor="system:retention")
    if purged:
        log.info("manifests past their retention forgotten", manifests=purged)


def _ensure_may_read(principal: Principal, bureau_code: str, secretariat: str, what: str) -> None:
    if principal.role is Role.ADMIN:
        return
    if principal.role is Role.ANALYST:
        if principal.bureau_code == secretariat:
            return
        raise Forbidden(f"{what}: only the secretariat's analysts read other bureaus' lists")
    if principal.bureau_code != bureau_code:
        raise Forbidden(
            f"{what} was submitted by bureau {bureau_code}; only that bureau, administrators "
            "and the secretariat's analysts may read it"
        )


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
    sees_all = principal.role is Role.ADMIN or (
        principal.role is Role.ANALYST and principal.bureau_code == settings.secretariat_code
    )
    if not sees_all:
        _ensure_may_read(principal, bureau or principal.bureau_code, settings.secretariat_code,
                         f"the lists of bureau {bureau}")  # fmt: skip
    scope = (bureau.upper() if bureau else None) if sees_all else principal.bureau_code
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
    _ensure_may_read(principal, row.bureau_code, settings.secretariat_code,
                     f"manifest {manifest_id}")  # fmt: skip
    body = stored_out(row) | {
        "traveller_list": [traveller_out(t) for t in service.travellers_of(session, row.id)]
    }
    log.info("manifest read", manifest_id=manifest_id, by=principal.name)
    out = StoredManifestDetailOut.model_validate(body).model_dump(mode="json")
    return Response(orjson.dumps(out), media_type="application/json")
