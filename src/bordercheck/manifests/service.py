"""Screening a flight's list in one batch, storing it, reading it back, and forgetting it.

Services take a session and never commit: the API and the command commit, then hand the
log entries (with the hit cases they open) to the query log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import pydantic
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.errors import FieldError, Forbidden, NotFound, ValidationFailed
from bordercheck.manifests.flight import Interchange, Manifest, TravelDocument, Traveller
from bordercheck.manifests.models import FurtherDocument, ManifestTraveller, StoredManifest
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.querylog import LoggedQuery
from bordercheck.screening.schemas import ScreenRequest, Where
from bordercheck.screening.service import Asker, Screened, no_restrictions, prepare, screen_requests
from bordercheck.timestamps import utcnow

SOURCE = "manifest"
MAX_NUMBER_FIELD = 40  # as ScreenRequest.document_number
_TRAVELLERS: Table = ManifestTraveller.__table__  # type: ignore[assignment]
# Worst first: a traveller's result is the worst of their documents'.
_RANK = {"hit": 0, "possible_hit": 1, "no_hit": 2, "not_screened": 3}


@dataclass
class DocumentResult:
    traveller: Traveller
    document: TravelDocument | None
    screened: Screened | None = None
    reason: str | None = None  # why it was not screened

    @property
    def result(self) -> str:
        return str(self.screened.answer["result"]) if self.screened else "not_screened"


@dataclass
class ScreenedManifest:
    manifest: Manifest
    results: list[DocumentResult] = field(default_factory=list)
    stored_id: int | None = None

    def with_result(self, result: str) -> list[DocumentResult]:
        return [r for r in self.results if r.result == result]

    @property
    def documents_screened(self) -> int:
        return sum(1 for r in self.results if r.screened is not None)

    @property
    def logged(self) -> list[LoggedQuery]:
        return [r.screened.logged for r in self.results if r.screened is not None]


def screen_manifest(
    index: ScreeningIndex,
    manifest: Manifest,
    asker: Asker,
    *,
    withheld_from: Callable[[int], frozenset[str]] = no_restrictions,
    location: str | None = None,
    operation_id: str | None = None,
) -> ScreenedManifest:
    """Every document on the flight screened in one batch; the unreadable ones say why.
    Without ``location``, the checks are made where the flight lands (its arrival airport)."""
    _check_where(location, operation_id)
    if location is None:
        location = _arrival_post(manifest)
    outcome = ScreenedManifest(manifest)
    pending: list[tuple[DocumentResult, ScreenRequest]] = []
    for traveller in manifest.travellers:
        if not traveller.documents:
            outcome.results.append(DocumentResult(traveller, None, reason="no travel document"))
        for document in traveller.documents:
            row = DocumentResult(traveller, document)
            outcome.results.append(row)
            request = _request(document, location, operation_id, row)
            if request is not None:
                pending.append((row, request))
    try:
        answered = _screen(index, pending, asker, withheld_from)
    except ValidationFailed:
        # One bad document must not refuse the whole flight: find it, screen the others.
        pending = [(row, request) for row, request in pending if _screenable(request, row)]
        answered = _screen(index, pending, asker, withheld_from)
    for (row, _), screened in zip(pending, answered, strict=True):
        row.screened = screened
    return outcome


def _check_where(location: str | None, operation_id: str | None) -> None:
    """Checked once for the whole list: a bad one is the caller's mistake, not the airline's."""
    try:
        Where(location=location, operation_id=operation_id)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise ValidationFailed(
            errors=[FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in errors]
        ) from None


def _arrival_post(manifest: Manifest) -> str | None:
    """The flight's arrival airport as a border post's code, if it can be one."""
    try:
        return Where(location=manifest.arrival).location
    except pydantic.ValidationError:
        return None


def _screen(
    index: ScreeningIndex,
    pending: list[tuple[DocumentResult, ScreenRequest]],
    asker: Asker,
    withheld_from: Callable[[int], frozenset[str]],
) -> list[Screened]:
    if not pending:
        return []
    requests = [request for _, request in pending]
    return screen_requests(index, requests, asker, source=SOURCE, withheld_from=withheld_from)


def _screenable(request: ScreenRequest, row: DocumentResult) -> bool:
    try:
        prepare(request)
    except ValidationFailed as exc:
        row.reason = exc.message
        return False
    return True


def _request(
    document: TravelDocument, location: str | None, operation_id: str | None, row: DocumentResult
) -> ScreenRequest | None:
    if not document.issuing_country:
        row.reason = "no issuing country"
        return None
    if len(document.number) > MAX_NUMBER_FIELD:
        row.reason = f"document number: longer than {MAX_NUMBER_FIELD} characters"
        return None
    # Built without validation: the reader made these fields, and what the request model would
    # check (lengths, one way of naming the document) holds by construction; the location and
    # operation were checked above. 400 validations would cost more than the screening.
    return ScreenRequest.model_construct(
        document_number=document.number,
        issuing_country=document.issuing_country,
        document_type=document.document_type.value if document.document_type else None,
        mrz=None,
        location=location,
        operation_id=operation_id,
    )


def store(
    session: Session,
    interchange: Interchange,
    screened: ScreenedManifest,
    asker: Asker,
    *,
    source: str,
    now: datetime | None = None,
) -> StoredManifest:
    """Keep the list and its travellers; tag the hit cases it opens with it and its flight."""
    manifest = screened.manifest
    warnings = [str(w) for w in [*interchange.warnings, *manifest.warnings]]
    row = StoredManifest(
        received_at=now or utcnow(),
        submitted_by=asker.name[:100],
        bureau_code=asker.bureau_code,
        source=source,
        list_type=manifest.list_type,
        flight=_cut(manifest.flight, 17),
        carrier=_cut(manifest.carrier, 17),
        departure=_cut(manifest.departure, 25),
        arrival=_cut(manifest.arrival, 25),
        departure_at=manifest.departure_at,
        arrival_at=manifest.arrival_at,
        sender=_cut(interchange.sender, 35),
        reference=_cut(manifest.reference, 35),
        travellers=len(manifest.travellers),
        reported_count=manifest.reported_count,
        documents_screened=screened.documents_screened,
        hits=len(screened.with_result("hit")),
        possible_hits=len(screened.with_result("possible_hit")),
        unscreened=len(screened.with_result("not_screened")),
        warnings=orjson.dumps(warnings).decode(),
    )
    session.add(row)
    session.flush()
    screened.stored_id = row.id
    travellers = _by_traveller(screened.results)
    rows = [_traveller_row(row.id, results) for results in travellers]
    if rows:
        # The table, not the class: the ORM's bulk path costs more than the screening.
        session.execute(insert(_TRAVELLERS), rows)
    # Each traveller's documents screened after the first: operations count a traveller once.
    further = [
        {"query_id": screened.logged.id}
        for results in travellers
        for screened in [r.screened for r in results if r.screened is not None][1:]
    ]
    if further:
        session.execute(insert(FurtherDocument), further)
    _tag_hits(screened, row.id)
    record_event(
        session,
        actor=asker.name,
        bureau_code=asker.bureau_code,
        action="manifest.screened",
        subject=f"manifest:{row.id}",
        details={
            "flight": manifest.flight, "departure": manifest.departure,
            "arrival": manifest.arrival, "travellers": row.travellers,
            "documents_screened": row.documents_screened, "hits": row.hits,
            "possible_hits": row.possible_hits, "source": source,
        },
    )  # fmt: skip
    return row


def _cut(text: str | None, length: int) -> str | None:
    return text[:length] if text else None


def _by_traveller(results: Sequence[DocumentResult]) -> list[list[DocumentResult]]:
    grouped: dict[int, list[DocumentResult]] = {}
    for result in results:
        grouped.setdefault(result.traveller.position, []).append(result)
    return list(grouped.values())


def _traveller_row(manifest_id: int, results: list[DocumentResult]) -> dict[str, Any]:
    """A traveller's row: the document screening said most about (the first, when alike)."""
    main = min(results, key=lambda r: _RANK[r.result])
    t, document = main.traveller, main.document
    problems = [str(p) for p in t.problems] + [
        f"{r.document.number if r.document else 'traveller'}: not screened: {r.reason}"
        for r in results
        if r.reason
    ]
    return {
        "manifest_id": manifest_id, "position": t.position, "role": t.role,
        "surname": t.surname[:70], "given_names": t.given_names[:70], "sex": t.sex,
        "birth_date": t.birth_date, "nationality": t.nationality,
        "embarkation": _cut(t.embarkation, 25), "debarkation": _cut(t.debarkation, 25),
        "seat": _cut(t.seat, 8), "booking_reference": _cut(t.booking_reference, 35),
        "document_number": _cut(document.number, 40) if document else None,
        "document_type": (
            document.document_type.value if document and document.document_type else None
        ),
        "issuing_country": document.issuing_country if document else None,
        "expiry_date": document.expiry_date if document else None,
        "result": main.result,
        "query_id": main.screened.logged.id if main.screened else None,
        "problems": orjson.dumps(problems).decode() if problems else None,
    }  # fmt: skip


def _tag_hits(screened: ScreenedManifest, manifest_id: int) -> None:
    # The arrival desk sorts its cases by flight: each case carries the list it came from.
    flight = _cut(screened.manifest.flight, 16)
    for result in screened.results:
        logged = result.screened.logged if result.screened else None
        if logged is not None and logged.hits:
            logged.hits = tuple(
                dataclasses.replace(hit, manifest_id=manifest_id, flight=flight)
                for hit in logged.hits
            )


def ensure_may_read(principal: Principal, manifest: StoredManifest, secretariat: str) -> None:
    """A list is read by the bureau that sent it, administrators and the secretariat's
    analysts."""
    _ensure_may_read(principal, manifest.bureau_code, secretariat, f"manifest {manifest.id}")


def listable_bureau(principal: Principal, bureau: str | None, secretariat: str) -> str | None:
    """Whose lists ``principal`` may list when asking for ``bureau``: None for every bureau
    (administrators and the secretariat's analysts), else their own bureau's only."""
    sees_all = principal.role is Role.ADMIN or (
        principal.role is Role.ANALYST and principal.bureau_code == secretariat
    )
    if sees_all:
        return bureau.upper() if bureau else None
    wanted = (bureau or principal.bureau_code).upper()
    _ensure_may_read(principal, wanted, secretariat, f"the lists of bureau {wanted}")
    return principal.bureau_code


def _ensure_may_read(principal: Principal, bureau_code: str, secretariat: str, what: str) -> None:
    if principal.role is Role.ADMIN:
        return
    if principal.role is Role.ANALYST:
        if principal.bureau_code == secretariat:
            return
        raise Forbidden(
            f"{what}: passenger lists are read by the bureau that sent them (its officers), "
            "administrators and the secretariat's analysts, not by a bureau's analysts"
        )
    if principal.bureau_code != bureau_code:
        raise Forbidden(
            f"{what} was submitted by bureau {bureau_code}; only that bureau, administrators "
            "and the secretariat's analysts may read it"
        )


def get_manifest(session: Session, manifest_id: int) -> StoredManifest:
    manifest = session.get(StoredManifest, manifest_id)
    if manifest is None:
        raise NotFound(f"no manifest {manifest_id}", manifest_id=manifest_id)
    return manifest


def travellers_of(session: Session, manifest_id: int) -> list[ManifestTraveller]:
    query = select(ManifestTraveller).where(ManifestTraveller.manifest_id == manifest_id)
    return list(session.scalars(query.order_by(ManifestTraveller.position)))


def list_manifests(
    session: Session, *, bureau_code: str | None, limit: int = 100, before_id: int | None = None
) -> list[StoredManifest]:
    """Newest first; ``bureau_code`` None lists every bureau's."""
    query = select(StoredManifest)
    if bureau_code is not None:
        query = query.where(StoredManifest.bureau_code == bureau_code)
    if before_id is not None:
        query = query.where(StoredManifest.id < before_id)
    return list(session.scalars(query.order_by(StoredManifest.id.desc()).limit(limit)))


def purge(session: Session, older_than: datetime, *, actor: str) -> int:
    """Forget the lists received before ``older_than``, travellers included; returns how many."""
    old = select(StoredManifest.id).where(StoredManifest.received_at < older_than)
    count = session.scalar(select(func.count()).select_from(old.subquery())) or 0
    if count:
        # Travellers first: PostgreSQL cascades, but SQLite only with its foreign keys on.
        session.execute(delete(ManifestTraveller).where(ManifestTraveller.manifest_id.in_(old)))
        session.execute(delete(StoredManifest).where(StoredManifest.received_at < older_than))
        details = {"manifests": count, "received_before": older_than.isoformat()}
        record_event(session, actor=actor, bureau_code=None, action="manifests.purged",
                     subject="manifests", details=details)  # fmt: skip
    return count
