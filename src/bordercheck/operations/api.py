"""``/operations``: create an operation (coordinators), list and read the ones one may see, its
live figures and its final report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import ConfigDict, Field

from bordercheck.api.deps import (
    Principal,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
    require_roles,
)
from bordercheck.api.limits import rate_limit
from bordercheck.auth.models import Role
from bordercheck.auth.policy import open_to_partners
from bordercheck.inputs import Input
from bordercheck.operations import report, service, thread
from bordercheck.operations.service import NewOperation, OperationView
from bordercheck.timestamps import utcnow
from bordercheck.web.i18n import DEFAULT_LANGUAGE, LANGUAGES

# Who may ask at all; the operation's own rules (coordinator, participating bureau) follow.
COORDINATORS = (Role.ADMIN, Role.ANALYST)
READERS = (Role.ADMIN, Role.ANALYST, Role.BUREAU_OFFICER, Role.BORDER_OFFICER, Role.PARTNER)

router = APIRouter(tags=["operations"], dependencies=[Depends(rate_limit)])
CoordinatorDep = Annotated[Principal, Depends(require_roles(*COORDINATORS))]
ReaderDep = Annotated[Principal, Depends(require_roles(*READERS))]
OperationIdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="The operation's id.")]
Code = Annotated[str, Field(min_length=1, max_length=64)]


class OperationIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    purpose: Annotated[str, Field(max_length=2000)] = ""
    starts_on: date
    ends_on: date
    locations: Annotated[list[Code], Field(min_length=1, max_length=100)]
    bureaus: Annotated[list[Code], Field(min_length=1, max_length=100)]
    clients: Annotated[list[Code], Field(max_length=100)] = Field(default_factory=list)
    kits: Annotated[list[Code], Field(max_length=100)] = Field(default_factory=list)


class Invitation(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    partner: Annotated[str, Field(min_length=1, max_length=16, examples=["EBA"])]


def operation_out(
    operation: OperationView, today: date, thread_id: int | None = None
) -> dict[str, Any]:
    return {
        "id": operation.id,
        "name": operation.name,
        "purpose": operation.purpose,
        "starts_on": operation.starts_on.isoformat(),
        "ends_on": operation.ends_on.isoformat(),
        "state": operation.state(today),
        "coordinator_bureau": operation.coordinator_bureau,
        "created_at": operation.created_at.isoformat(),
        "created_by": operation.created_by,
        "locations": list(operation.locations),
        "bureaus": list(operation.bureaus),
        "clients": list(operation.clients),
        "kits": list(operation.kits),
        "partners": list(operation.partners),
        "thread_id": thread_id,
    }


@router.post("/operations", status_code=201)
def create_operation(
    body: OperationIn, principal: CoordinatorDep, session: WriteSessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Create an operation: its dates, border posts, participating bureaus, clients and kits."""
    new = NewOperation(**body.model_dump())
    created = service.create(session, principal, settings.secretariat_code, new)
    thread_id = thread.ensure(session, settings, principal.actor(), created)
    return operation_out(created, utcnow().date(), thread_id)


@router.get("/operations")
@open_to_partners
def list_operations(
    principal: ReaderDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """The operations the caller may see: all for coordinators, else its bureau's."""
    today = utcnow().date()
    found = service.visible(session, principal, settings.secretariat_code)
    return {
        "operations": [operation_out(o, today, thread.thread_id_of(session, o.id)) for o in found]
    }


@router.get("/operations/{operation_id}")
@open_to_partners
def read_operation(
    operation_id: OperationIdPath, principal: ReaderDep, session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:  # fmt: skip
    operation = service.get(session, principal, operation_id, settings.secretariat_code)
    return operation_out(operation, utcnow().date(), thread.thread_id_of(session, operation.id))


@router.post("/operations/{operation_id}/partners")
def invite_partner(
    operation_id: OperationIdPath, body: Invitation, principal: CoordinatorDep,
    session: WriteSessionDep, settings: SettingsDep,
) -> dict[str, Any]:  # fmt: skip
    """Invite a partner organisation: its accounts see the operation, its figures, report and
    thread (message it at ``/messages/{thread_id}``), nothing else."""
    service.ensure_coordinator(principal, settings.secretariat_code)
    operation = service.invite(session, principal.actor(), operation_id, body.partner)
    thread_id = thread.ensure(session, settings, principal.actor(), operation)
    return operation_out(operation, utcnow().date(), thread_id)


@router.delete("/operations/{operation_id}/partners/{partner}")
def uninvite_partner(
    operation_id: OperationIdPath,
    partner: Annotated[str, Path(min_length=1, max_length=16)],
    principal: CoordinatorDep, session: WriteSessionDep, settings: SettingsDep,
) -> dict[str, Any]:  # fmt: skip
    """Remove a partner organisation: its accounts lose the operation and its thread at once."""
    service.ensure_coordinator(principal, settings.secretariat_code)
    operation = service.uninvite(session, principal.actor(), operation_id, partner)
    thread_id = thread.ensure(session, settings, principal.actor(), operation)
    return operation_out(operation, utcnow().date(), thread_id)


@router.get("/operations/{operation_id}/figures")
@open_to_partners
def operation_figures(
    operation_id: OperationIdPath, principal: ReaderDep, session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:  # fmt: skip
    """Live figures: checked per day, location and bureau; hits, answers, outcomes."""
    operation = service.get(session, principal, operation_id, settings.secretariat_code)
    return service.figures(session, operation).as_dict()


@router.get("/operations/{operation_id}/report")
@open_to_partners
def operation_report(
    operation_id: OperationIdPath, principal: ReaderDep, session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["html", "pdf"], Query(description="html or pdf")] = "html",
    language: Annotated[
        str,
        Query(max_length=8, description=f"The report's language: {', '.join(LANGUAGES)}"),
    ] = DEFAULT_LANGUAGE,  # checked by the report, with the console's languages
) -> Response:  # fmt: skip
    """The final report, as a file to send to the participating countries."""
    operation = service.get(session, principal, operation_id, settings.secretariat_code)
    body = report.render(session, service.figures(session, operation), format, language)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    name = f"operation-{operation.id}-report.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
