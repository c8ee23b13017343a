"""``/directory``: the focal points of every bureau, for everyone signed in; kept by each
bureau for itself (administrators may act for any). Exports as vCard and CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bordercheck.api.deps import Principal, PrincipalDep, SessionDep, require_roles
from bordercheck.api.limits import rate_limit
from bordercheck.api.types import UtcDatetime
from bordercheck.directory import export, service
from bordercheck.directory.models import DirectoryEntry, Topic
from bordercheck.directory.schemas import EntryChanges, EntryFields
from bordercheck.directory.service import KEEPERS
from bordercheck.errors import Forbidden
from bordercheck.timestamps import utcnow

router = APIRouter(tags=["directory"], dependencies=[Depends(rate_limit)])
KeeperDep = Annotated[Principal, Depends(require_roles(*KEEPERS))]
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The entry's id.")]
MAX_PAGE = 1000


async def _person(principal: PrincipalDep) -> Principal:
    # Names and numbers of officers are for people who sign in, not for machines.
    if principal.kind != "user":
        raise Forbidden("the contact directory is read by people signed in, not by API clients")
    return principal


ReaderDep = Annotated[Principal, Depends(_person)]


class NewEntry(EntryFields):
    bureau: str | None = Field(
        default=None, description="The bureau's country code; default: the caller's bureau."
    )


class EntryOut(BaseModel):
    id: int
    bureau: str
    name: str
    function: str
    unit: str
    topics: list[str]
    languages: list[str]
    phone: str
    email: str
    hours: str
    time_zone: str
    last_confirmed: date
    stale: bool = Field(description="Not confirmed for 12 months: check before relying on it.")
    updated_at: UtcDatetime
    updated_by: str


class EntryList(BaseModel):
    entries: list[EntryOut]
    stale: int = Field(description="How many of these entries are stale.")


def _out(entry: DirectoryEntry, today: date) -> EntryOut:
    return EntryOut(
        id=entry.id,
        bureau=entry.bureau_code,
        name=entry.name,
        function=entry.function,
        unit=entry.unit,
        topics=service.topics_of(entry),
        languages=service.languages_of(entry),
        phone=entry.phone,
        email=entry.email,
        hours=entry.hours,
        time_zone=entry.time_zone,
        last_confirmed=entry.last_confirmed,
        stale=service.is_stale(entry, today),
        updated_at=entry.updated_at,
        updated_by=entry.updated_by,
    )


class Filters:
    """The search every listing and export shares."""

    def __init__(
        self,
        country: Annotated[str | None, Query(description="The bureau's country code.")] = None,
        topic: Topic | None = None,
        language: Annotated[str | None, Query(description="ISO 639-1, e.g. en.")] = None,
        stale: Annotated[bool | None, Query(description="Only stale, or only current.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
        offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    ) -> None:
        country, language = service.check_filters(country, language)
        self.country, self.topic, self.language, self.stale = country, topic, language, stale
        self.limit, self.offset = limit, offset

    def entries(self, session: Session, today: date) -> list[DirectoryEntry]:
        return service.search_entries(
            session,
            today=today,
            country=self.country,
            topic=self.topic,
            language=self.language,
            stale=self.stale,
            limit=self.limit,
            offset=self.offset,
        )


FiltersDep = Annotated[Filters, Depends()]


@router.get("/directory", response_model=EntryList)
def list_entries(_reader: ReaderDep, session: SessionDep, filters: FiltersDep) -> EntryList:
    """Focal points by country, topic and language; stale ones flagged (and filterable)."""
    today = utcnow().date()
    entries = [_out(entry, today) for entry in filters.entries(session, today)]
    return EntryList(entries=entries, stale=sum(entry.stale for entry in entries))


@router.get(
    "/directory.vcf",
    response_class=Response,
    responses={200: {"content": {"text/vcard": {}}, "description": "vCard 4.0"}},
)
def export_vcards(_reader: ReaderDep, session: SessionDep, filters: FiltersDep) -> Response:
    """The entries found, as vCards (4.0) to load into a phone or mail client."""
    today = utcnow().date()
    body = export.vcards(filters.entries(session, today), service.bureau_names(session), today)
    return Response(
        body,
        media_type="text/vcard; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="directory.vcf"'},
    )


@router.get(
    "/directory.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}},
)
def export_csv(_reader: ReaderDep, session: SessionDep, filters: FiltersDep) -> Response:
    """The entries found, as CSV with a header row."""
    today = utcnow().date()
    body = export.csv_text(filters.entries(session, today), service.bureau_names(session), today)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="directory.csv"'},
    )


@router.get("/directory/{entry_id}", response_model=EntryOut)
def get_entry(entry_id: EntryId, _reader: ReaderDep, session: SessionDep) -> EntryOut:
    return _out(service.get_entry(session, entry_id), utcnow().date())


@router.post("/directory", response_model=EntryOut, status_code=status.HTTP_201_CREATED)
def add_entry(body: NewEntry, keeper: KeeperDep, session: SessionDep) -> EntryOut:
    """A new focal point of your bureau (administrators: of ``bureau``)."""
    fields = EntryFields.model_validate(body.model_dump(exclude={"bureau"}))
    entry = service.add_entry(session, keeper.actor(), fields, bureau=body.bureau)
    return _out(entry, utcnow().date())


@router.patch("/directory/{entry_id}", response_model=EntryOut)
def update_entry(
    entry_id: EntryId, body: EntryChanges, keeper: KeeperDep, session: SessionDep
) -> EntryOut:
    """Change the fields sent; the others stay. Changing an entry does not confirm it."""
    changes = body.model_dump(exclude_unset=True)
    entry = service.update_entry(session, keeper.actor(), entry_id, changes)
    return _out(entry, utcnow().date())


@router.post("/directory/{entry_id}/confirm", response_model=EntryOut)
def confirm_entry(entry_id: EntryId, keeper: KeeperDep, session: SessionDep) -> EntryOut:
    """The entry is still right as it stands: it is confirmed today, and no longer stale."""
    entry = service.confirm_entry(session, keeper.actor(), entry_id)
    return _out(entry, utcnow().date())


@router.delete("/directory/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_entry(entry_id: EntryId, keeper: KeeperDep, session: SessionDep) -> Response:
    service.delete_entry(session, keeper.actor(), entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
