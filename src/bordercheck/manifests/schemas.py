"""What the manifests endpoints answer, and how a screened or stored list becomes that."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from pydantic import BaseModel

from bordercheck.api.types import UtcDatetime
from bordercheck.manifests.flight import Interchange
from bordercheck.manifests.models import ManifestTraveller, StoredManifest
from bordercheck.manifests.service import DocumentResult, ScreenedManifest
from bordercheck.screening.schemas import MatchOut


class FoundOut(BaseModel):
    """A traveller whose document screening found, or could not screen."""

    position: int
    name: str
    role: str
    seat: str | None
    booking_reference: str | None
    document_number: str | None
    document_type: str | None
    issuing_country: str | None
    result: str
    query_id: str | None = None
    matches: list[MatchOut] = []
    reason: str | None = None


class ManifestOut(BaseModel):
    manifest_id: int | None
    list_type: str
    flight: str | None
    carrier: str | None
    departure: str | None
    arrival: str | None
    departure_at: UtcDatetime | None
    arrival_at: UtcDatetime | None
    travellers: int
    reported_count: int | None
    documents_screened: int
    hits: list[FoundOut]
    possible_hits: list[FoundOut]
    not_screened: list[FoundOut]
    warnings: list[str]


class ScreenManifestsOut(BaseModel):
    manifests: list[ManifestOut]
    warnings: list[str]


class StoredManifestOut(BaseModel):
    id: int
    received_at: UtcDatetime
    submitted_by: str
    bureau_code: str
    source: str
    list_type: str
    flight: str | None
    carrier: str | None
    departure: str | None
    arrival: str | None
    departure_at: UtcDatetime | None
    arrival_at: UtcDatetime | None
    travellers: int
    reported_count: int | None
    documents_screened: int
    hits: int
    possible_hits: int
    unscreened: int
    warnings: list[str]


class TravellerOut(BaseModel):
    position: int
    role: str
    surname: str
    given_names: str
    sex: str | None
    birth_date: date | None
    nationality: str | None
    embarkation: str | None
    debarkation: str | None
    seat: str | None
    booking_reference: str | None
    document_number: str | None
    document_type: str | None
    issuing_country: str | None
    expiry_date: date | None
    result: str
    query_id: str | None
    problems: list[str]


class StoredManifestDetailOut(StoredManifestOut):
    traveller_list: list[TravellerOut]


def _found(row: DocumentResult) -> dict[str, Any]:
    t, document = row.traveller, row.document
    found: dict[str, Any] = {
        "position": t.position, "name": t.name, "role": t.role, "seat": t.seat,
        "booking_reference": t.booking_reference,
        "document_number": document.number if document else None,
        "document_type": (
            document.document_type.value if document and document.document_type else None
        ),
        "issuing_country": document.issuing_country if document else None,
        "result": row.result,
    }  # fmt: skip
    if row.screened is not None:
        found["query_id"] = row.screened.answer["query_id"]
        found["matches"] = row.screened.answer["matches"]
    else:
        found["reason"] = row.reason
    return found


def screened_answer(screened: ScreenedManifest) -> dict[str, Any]:
    """A flight's answer: what it is, how many were read, and each hit and possible hit."""
    manifest = screened.manifest
    return {
        "manifest_id": screened.stored_id,
        "list_type": manifest.list_type,
        "flight": manifest.flight,
        "carrier": manifest.carrier,
        "departure": manifest.departure,
        "arrival": manifest.arrival,
        "departure_at": manifest.departure_at.isoformat() if manifest.departure_at else None,
        "arrival_at": manifest.arrival_at.isoformat() if manifest.arrival_at else None,
        "travellers": len(manifest.travellers),
        "reported_count": manifest.reported_count,
        "documents_screened": screened.documents_screened,
        "hits": [_found(r) for r in screened.with_result("hit")],
        "possible_hits": [_found(r) for r in screened.with_result("possible_hit")],
        "not_screened": [_found(r) for r in screened.with_result("not_screened")],
        "warnings": [
            *(str(w) for w in manifest.warnings),
            *(f"traveller {t.position} ({t.name}): {p}" for t in manifest.travellers
              for p in t.problems),
        ],
    }  # fmt: skip


def interchange_answer(
    interchange: Interchange, screened: list[ScreenedManifest]
) -> dict[str, Any]:
    return {
        "manifests": [screened_answer(s) for s in screened],
        "warnings": [str(w) for w in interchange.warnings],
    }


def stored_out(row: StoredManifest) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in StoredManifestOut.model_fields}
    out["warnings"] = orjson.loads(row.warnings)
    return out


def traveller_out(row: ManifestTraveller) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in TravellerOut.model_fields}
    out["problems"] = orjson.loads(row.problems) if row.problems else []
    return out
