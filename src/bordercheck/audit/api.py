"""``GET /audit``: searching the audit trail. There is no endpoint that changes it.

Administrators search every entry; a bureau's officers search the entries of their own
bureau (changes to its records, users, clients, directory entries, and its sign-ins).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bordercheck.api.deps import Principal, SessionDep, require_roles
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import UtcDatetime
from bordercheck.audit import service
from bordercheck.audit.models import AuditEntry
from bordercheck.auth.models import Role

router = APIRouter(tags=["audit"], dependencies=[Depends(rate_limit)])
SearcherDep = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.BUREAU_OFFICER))]
MAX_PAGE = 1000


class AuditEntryOut(BaseModel):
    seq: int
    at: UtcDatetime
    actor: str
    bureau: str | None
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: int | None = Field(
        description="Pass as `before` for the next, older page; null on the last page."
    )


def _entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        bureau=entry.bureau_code,
        action=entry.action,
        subject=entry.subject,
        details=json.loads(entry.details),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


@router.get("/audit", response_model=AuditPageOut)
def search_audit(
    principal: SearcherDep,
    session: SessionDep,
    action: Annotated[
        str | None,
        Query(max_length=64, description="e.g. record.updated; ending in '.': every record.*"),
    ] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    subject: Annotated[str | None, Query(max_length=200, description="e.g. record:12")] = None,
    bureau: Annotated[
        str | None,
        Query(min_length=3, max_length=3, description="Administrators only; others: theirs."),
    ] = None,
    since: Annotated[datetime | None, Query(description="From this moment (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before this moment.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="A `next_cursor`.")] = None,
) -> AuditPageOut:
    """Audit entries, newest first: administrators see all, bureau officers their bureau's."""
    criteria = service.AuditFilter(
        bureau_code=service.searchable_bureau(principal, bureau),
        action=action,
        actor=actor,
        subject=subject,
        since=since,
        until=until,
    )
    page = service.search(session, criteria, limit=limit, before=before)
    return AuditPageOut(
        entries=[_entry_out(entry) for entry in page.entries], next_cursor=page.next_cursor
    )
