"""Planting a scenario's situation in a training sandbox, through the domains' own services.

Records are created as their owning bureau would (audited, in the changes feed, so screening
finds them), withheld where the scenario says, kits registered and left stale; what the
trainee is handed (documents with their MRZ as read, passenger lists in PAXLST parts) becomes
the exercise's materials. A record already planted by an earlier exercise is used again.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bordercheck.auth import service as auth_service
from bordercheck.auth.actors import Actor
from bordercheck.auth.models import ApiClient, Bureau, Role
from bordercheck.auth.tokens import Principal
from bordercheck.documents.countries import country_name
from bordercheck.documents.mrz import parse as parse_mrz
from bordercheck.documents.mrz_generate import generate_mrz
from bordercheck.documents.types import DocumentType
from bordercheck.edge import service as edge_service
from bordercheck.errors import FieldError, ValidationFailed
from bordercheck.hits.models import Hit
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.writer import Envelope, synthetic_flight, write_paxlst
from bordercheck.registry import service as registry
from bordercheck.timestamps import utcnow
from bordercheck.training.scenario import (
    TRAINEES,
    HeldDocument,
    PlantedKit,
    PlantedManifest,
    Scenario,
)

_CODES = {"passport": ("P", "TD3"), "identity_card": ("ID", "TD1")}


@dataclass
class Planted:
    """What an exercise planted: record ids by ref, and the materials handed to trainees."""

    records: dict[str, int] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    kits: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "documents": self.documents,
                "manifests": self.manifests, "kits": self.kits}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Planted:
        return cls(data["records"], data["documents"], data["manifests"], data["kits"])


def ensure_bureau(session: Session, country: str, actor: str) -> None:
    """A bureau the sandbox needs (a scenario names it, a trainee acts for it) exists (made,
    audited, if it did not)."""
    if session.scalar(select(Bureau.id).where(Bureau.country_code == country)) is None:
        auth_service.add_bureau(session, country, f"NCB {country_name(country)}", actor=actor)


def plant(
    session: Session, scenario: Scenario, *, by: str, trainee_bureaus: set[str], secret_key: str
) -> Planted:
    """Make the scenario's situation in the database; the caller has checked it is a sandbox."""
    planted = Planted()
    for record in scenario.records:
        fields = record.record_fields()
        ensure_bureau(session, fields.issuing_country, by)
        owner = Actor(name=by, role=Role.BUREAU_OFFICER, bureau_code=fields.issuing_country)
        existing = registry.find_active(session, fields.key) or registry.overlapping_range(
            session, fields
        )
        made = existing or registry.create_record(session, owner, fields)
        # Planted again (another group, or the same one again): the groups already running
        # keep the record withheld from them, and a check opens a case of this exercise's
        # instead of joining one an earlier exercise left open.
        withheld = set(registry.withheld_from(made)) if existing is not None else set()
        for code in record.withheld_from:
            withheld |= trainee_bureaus if code == TRAINEES else {code}
        withheld.discard(fields.issuing_country)
        session.execute(
            update(Hit).where(Hit.record_id == made.id, Hit.open_key.is_not(None))
            .values(open_key=None)
        )  # fmt: skip
        if withheld or made.withheld_from:
            made = registry.withhold(session, owner, made.id, made.version, sorted(withheld))
        planted.records[record.ref] = made.id
    for document in scenario.documents:
        planted.documents[document.ref] = held_document(document)
    for manifest in scenario.manifests:
        planted.manifests[manifest.ref] = passenger_list(manifest)
    for kit in scenario.kits:
        planted.kits[kit.ref] = stale_kit(session, kit, by=by, secret_key=secret_key)
    return planted


def held_document(document: HeldDocument) -> dict[str, Any]:
    """The document as handed over: its fields, its MRZ as the reader got it, and the number
    a check of that MRZ reads (what the query log will show)."""
    code, mrz_format = _CODES[document.document_type]
    try:
        lines = list(
            generate_mrz(
                mrz_format=mrz_format,  # type: ignore[arg-type]
                document_code=code,
                issuing_country=document.issuing_country,
                document_number=document.document_number,
                surname=document.surname,
                given_names=document.given_names,
                nationality=document.nationality,
                birth_date=document.birth_date,
                sex=document.sex,
                expiry_date=document.expiry_date,
            )
        )
    except ValueError as exc:
        raise ValidationFailed(
            errors=[FieldError(field=f"documents.{document.ref}", reason=str(exc))]
        ) from None
    for damage in document.mrz_damage:
        if damage.line > len(lines) or damage.column > len(lines[damage.line - 1]):
            raise ValidationFailed(
                errors=[FieldError(
                    field=f"documents.{document.ref}.mrz_damage",
                    reason=f"line {damage.line}, column {damage.column} is outside the "
                    f"{mrz_format} zone",
                )]
            )  # fmt: skip
        line = lines[damage.line - 1]
        lines[damage.line - 1] = line[: damage.column - 1] + damage.read_as + line[damage.column :]
    numbers = {document.document_number}
    # A zone damaged past reading: the trainee can only key the number in.
    with contextlib.suppress(ValueError):
        if not document.zone_unreadable:
            numbers.add(parse_mrz(lines).document_number)
    return {
        "document_number": document.document_number,
        "issuing_country": document.issuing_country,
        "document_type": document.document_type,
        "surname": document.surname,
        "given_names": document.given_names,
        "nationality": document.nationality,
        "birth_date": document.birth_date.isoformat(),
        "sex": document.sex,
        "expiry_date": document.expiry_date.isoformat(),
        "note": document.note.model_dump(exclude_none=True) if document.note else None,
        "mrz": [] if document.zone_unreadable else lines,
        "numbers": sorted(n for n in numbers if n),
    }


def passenger_list(manifest: PlantedManifest) -> dict[str, Any]:
    """The flight as PAXLST text in ``parts`` messages, the planted travellers among others."""
    documents = [
        TravelDocument(
            _CODES[t.document_type][0][0],
            DocumentType(t.document_type),
            t.document_number,
            t.issuing_country,
            None,
        )
        for t in manifest.travellers
    ]
    count = manifest.ordinary_travellers + len(documents)
    seed = sum(manifest.ref.encode()) + manifest.departure_at.toordinal()
    flight = synthetic_flight(
        count, seed=seed, flight=manifest.flight, departure=manifest.departure,
        arrival=manifest.arrival, planted=documents,
    )  # fmt: skip
    flight.departure_at = manifest.departure_at
    flight.arrival_at = manifest.departure_at + timedelta(hours=3)
    by_number = {t.document_number: t for t in manifest.travellers}
    for traveller in flight.travellers:
        planted = by_number.get(traveller.documents[0].number)
        if planted is not None:
            traveller.surname, traveller.given_names = planted.surname, planted.given_names
            traveller.birth_date, traveller.sex = planted.birth_date, planted.sex
            traveller.nationality = planted.nationality
    per_part = math.ceil(count / manifest.parts)
    text = write_paxlst(flight, Envelope(sender=manifest.flight[:2]), per_part=per_part)
    return {
        "flight": manifest.flight,
        "travellers": count,
        "parts": manifest.parts,
        "paxlst": text,
        "documents": [t.document_number for t in manifest.travellers],
    }


def stale_kit(session: Session, kit: PlantedKit, *, by: str, secret_key: str) -> dict[str, Any]:
    """A kit of the bureau, registered for a client of its own, last synced hours ago."""
    ensure_bureau(session, kit.bureau, by)
    name = f"training kit {kit.ref}"
    # Planted again: the same client (a name is unique in its bureau), a kit of this exercise.
    client = session.scalar(
        select(ApiClient).join(Bureau, ApiClient.bureau_id == Bureau.id)
        .where(ApiClient.name == name, Bureau.country_code == kit.bureau)
    ) or auth_service.add_client(
        session, name, bureau=kit.bureau, role=Role.BORDER_OFFICER, actor=by
    )[0]  # fmt: skip
    principal = Principal(
        kind="client", id=client.client_id, name=client.name, role=Role.BORDER_OFFICER,
        bureau_code=kit.bureau,
    )  # fmt: skip
    made, _ = edge_service.register_kit(session, principal, edge_service.wrapping_key(secret_key))
    made.last_sync_at = utcnow() - timedelta(hours=kit.last_sync_hours_ago)
    made.last_sync_seq = 0
    session.flush()
    return {
        "kit_id": made.kit_id,
        "bureau": kit.bureau,
        "last_sync_at": made.last_sync_at.isoformat(),
        "last_sync_hours_ago": kit.last_sync_hours_ago,
    }
