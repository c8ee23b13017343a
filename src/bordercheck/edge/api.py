"""The centre's endpoints for kits: registration, snapshot, change bundles, uploads; and
for admins: listing and revoking kits. A revoked kit is refused by every kit endpoint."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from bordercheck.api.deps import (
    DatabaseDep,
    Principal,
    PrincipalDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    require_roles,
)
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import MAX_SEQUENCE, UtcDatetime
from bordercheck.audit.service import record_event
from bordercheck.auth.models import Role
from bordercheck.edge import centre, service, uploads
from bordercheck.edge.models import EdgeKit
from bordercheck.edge.signing import EdgeKeys, deployment_keys
from bordercheck.errors import (
    FieldError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from bordercheck.inputs import Input
from bordercheck.installation import TRAINING_HEADER
from bordercheck.screening.live import LiveIndex
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.screening.service import Asker, Screened, screen_requests
from bordercheck.settings import Settings

KIT_ROLES = (Role.ADMIN, Role.BUREAU_OFFICER, Role.BORDER_OFFICER)
MAX_UPLOAD = 1000
_SNAPSHOT_NAME = re.compile(r"kit_[0-9a-f]{20}-\d+(-e[0-9a-f]{16})?-h\d+\.snap")

router = APIRouter(
    prefix="/edge",
    tags=["edge kits"],
    dependencies=[Depends(require_roles(*KIT_ROLES)), Depends(rate_limit)],
)
ADMINS = (Role.ADMIN,)
admin = APIRouter(
    prefix="/edge", tags=["edge kits"], dependencies=[Depends(require_roles(*ADMINS))]
)


def edge_keys(request: Request, settings: SettingsDep) -> EdgeKeys:
    keys: EdgeKeys | None = getattr(request.app.state, "edge_keys", None)
    if keys is None:
        keys = request.app.state.edge_keys = deployment_keys(settings)
    return keys


KeysDep = Annotated[EdgeKeys, Depends(edge_keys)]
KitHeader = Annotated[str | None, Header(alias="X-Edge-Kit", description="The kit's id.")]


def same_installation(
    settings: SettingsDep,
    training: Annotated[
        str | None,
        Header(
            alias=TRAINING_HEADER,
            description="A training sandbox's kit names its sandbox (registration told it).",
        ),
    ] = None,
) -> None:
    """A sandbox's kit is refused by the live centre, and a live kit by a sandbox."""
    mine = settings.training_sandbox
    if (training or None) == mine:
        return
    if mine is None:
        why = f"this kit belongs to the training sandbox {training!r}, and this is the live centre"
    elif not training:
        why = f"this is the training sandbox {mine!r}, and this kit is a live one"
    else:
        why = f"this kit belongs to the training sandbox {training!r}, not to {mine!r}"
    raise Forbidden(f"kit refused: {why}")


SameInstallation = [Depends(same_installation)]


def _wrapping(settings: Settings) -> bytes:
    return service.wrapping_key(settings.secret_key)


class RegisteredKit(BaseModel):
    kit_id: str
    bureau: str
    kit_secret: str = Field(description="Hex; shown this once. The kit keeps it in secret.json.")
    signing_key: str = Field(description="The centre's Ed25519 public key (hex), to pin.")
    sealing_key: str = Field(description="The centre's X25519 public key (hex) for queue entries.")
    training: str | None = Field(
        default=None,
        description="The training sandbox this kit belongs to (none: live); the kit sends it "
        f"back in {TRAINING_HEADER} with every call.",
    )


@router.post("/kits", response_model=RegisteredKit, status_code=201)
def register(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep, keys: KeysDep
) -> RegisteredKit:
    """Register the calling API client's new kit; answers its secret, once."""
    kit, secret = service.register_kit(session, principal, _wrapping(settings))
    return RegisteredKit(
        kit_id=kit.kit_id, bureau=kit.bureau_code, kit_secret=secret.hex(),
        signing_key=keys.public_signing.hex(), sealing_key=keys.public_sealing.hex(),
        training=settings.training_sandbox,
    )  # fmt: skip


class SnapshotOut(BaseModel):
    sequence: int
    bytes: int
    url: str


@router.post("/snapshot", response_model=SnapshotOut, dependencies=SameInstallation)
def prepare_snapshot(
    principal: PrincipalDep,
    session: ReadSessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    keys: KeysDep,
    kit_id: KitHeader = None,
) -> SnapshotOut:
    """Build (or reuse) the kit's snapshot at the feed's end; download it from ``url``."""
    kit = service.kit_of(session, principal, kit_id)
    secret = service.kit_secret(kit, _wrapping(settings))
    issued = centre.snapshot_file(database, kit, secret, keys, centre.cache_directory(settings))
    with database.session(write=True) as audit_session:
        if kit.needs_snapshot:
            service.note_snapshot(audit_session, kit.kit_id)
        record_event(
            audit_session,
            actor=f"client:{principal.id}",
            bureau_code=kit.bureau_code,
            action="edge.snapshot_issued",
            subject=f"kit:{kit.kit_id}",
            details={"sequence": issued.sequence, "bytes": issued.size},
        )
    return SnapshotOut(
        sequence=issued.sequence, bytes=issued.size, url=f"/api/v1/edge/snapshot/{issued.path.name}"
    )


@router.get("/snapshot/{name}", response_class=FileResponse, dependencies=SameInstallation)
def download_snapshot(
    name: str,
    principal: PrincipalDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    kit_id: KitHeader = None,
) -> FileResponse:
    """The snapshot file; send ``Range: bytes=N-`` to resume an interrupted download."""
    kit = service.kit_of(session, principal, kit_id)
    path = centre.cache_directory(settings) / name
    if not _SNAPSHOT_NAME.fullmatch(name) or not name.startswith(kit.kit_id + "-"):
        raise NotFound(f"there is no snapshot {name!r} for kit {kit.kit_id}")
    if not path.exists():
        raise NotFound(f"snapshot {name} is gone (a newer one replaced it); ask for it again")
    return FileResponse(path, media_type="application/octet-stream")


@router.get("/changes", response_class=Response, dependencies=SameInstallation)
def changes(
    principal: PrincipalDep,
    session: ReadSessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    keys: KeysDep,
    since: Annotated[int, Query(ge=0, le=MAX_SEQUENCE, description="The kit's sequence number.")],
    kit_id: KitHeader = None,
) -> Response:
    """A signed bundle of the changes after ``since`` (binary; see docs/edge.md)."""
    kit = service.kit_of(session, principal, kit_id)
    secret = service.kit_secret(kit, _wrapping(settings))
    data = centre.bundle(session, kit, secret, keys, since, settings.edge_bundle_max_changes)
    with database.session(write=True) as note:
        service.note_sync(note, kit.kit_id, since)
    return Response(data, media_type="application/octet-stream")


class UploadEntry(Input):
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    sealed: Annotated[str, Field(max_length=8192)]


class UploadIn(Input):
    entries: Annotated[list[UploadEntry], Field(min_length=1, max_length=MAX_UPLOAD)]


class UploadOut(BaseModel):
    stored: list[str]
    duplicates: list[str]
    rejected: dict[str, str]


@router.post("/uploads", response_model=UploadOut, dependencies=SameInstallation)
def upload(
    body: UploadIn,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    keys: KeysDep,
    kit_id: KitHeader = None,
) -> UploadOut:
    """Queries queued on the kit while offline: logged and screened here once each."""
    kit = service.kit_of(session, principal, kit_id)
    live: LiveIndex = request.app.state.live_index
    index = live.index
    if index is None:
        raise ServiceUnavailable("the screening index is still loading; try again", retry_after=1)
    # Logged as the kit's: its client may have other kits, and checks of its own.
    asker = Asker(kind="kit", name=kit.kit_id, bureau_code=principal.bureau_code)

    def screen(one: ScreenRequest) -> Screened:
        return screen_requests(
            index, [one], asker, source=uploads.SOURCE, withheld_from=live.withheld_from
        )[0]

    entries = []
    for i, entry in enumerate(body.entries):
        try:
            entries.append((entry.id, base64.b64decode(entry.sealed, validate=True)))
        except binascii.Error:
            raise ValidationFailed(
                errors=[FieldError(f"entries.{i}.sealed", "is not base64")]
            ) from None
    received = uploads.receive(session, kit, entries, keys, screen, request.app.state.on_hits)
    return UploadOut(
        stored=received.stored, duplicates=received.duplicates, rejected=received.rejected
    )


class KitOut(BaseModel):
    kit_id: str
    client_id: str
    bureau: str
    registered_at: UtcDatetime
    last_sync_seq: int | None
    last_sync_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


def kit_out(kit: EdgeKit) -> KitOut:
    return KitOut(
        kit_id=kit.kit_id, client_id=kit.client_id, bureau=kit.bureau_code,
        registered_at=kit.registered_at, last_sync_seq=kit.last_sync_seq,
        last_sync_at=kit.last_sync_at, revoked_at=kit.revoked_at,
    )  # fmt: skip


@admin.get("/kits", response_model=list[KitOut])
def list_kits(session: ReadSessionDep) -> list[KitOut]:
    """Every registered kit, revoked ones included."""
    return [kit_out(kit) for kit in service.list_kits(session)]


AdminDep = Annotated[Principal, Depends(require_roles(*ADMINS))]


@admin.delete("/kits/{kit_id}", response_model=KitOut)
def revoke(kit_id: str, principal: AdminDep, session: SessionDep) -> KitOut:
    """Revoke a kit (lost, stolen, retired): the centre sends it nothing more."""
    return kit_out(service.revoke_kit(session, kit_id, principal.actor().name))
