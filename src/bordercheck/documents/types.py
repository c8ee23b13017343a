"""Document types and statuses, the type families screening matches within, MRZ codes."""

from __future__ import annotations

from enum import StrEnum


class DocumentType(StrEnum):
    PASSPORT = "passport"
    DIPLOMATIC_PASSPORT = "diplomatic_passport"
    SERVICE_PASSPORT = "service_passport"
    EMERGENCY_PASSPORT = "emergency_passport"
    IDENTITY_CARD = "identity_card"
    RESIDENCE_PERMIT = "residence_permit"
    VISA = "visa"
    REFUGEE_TRAVEL_DOCUMENT = "refugee_travel_document"
    SEAFARER_DOCUMENT = "seafarer_document"
    CREW_CERTIFICATE = "crew_certificate"
    OTHER = "other"


class Status(StrEnum):
    """What happened to a recorded document."""

    STOLEN = "stolen"
    LOST = "lost"
    REVOKED = "revoked"
    INVALIDATED = "invalidated"


class TypeFamily(StrEnum):
    """What a query may name instead of a type: any passport, any identity document, any visa."""

    PASSPORT = "passport"
    IDENTITY = "identity"
    VISA = "visa"
    OTHER = "other"


_FAMILY: dict[DocumentType, TypeFamily] = {
    DocumentType.PASSPORT: TypeFamily.PASSPORT,
    DocumentType.DIPLOMATIC_PASSPORT: TypeFamily.PASSPORT,
    DocumentType.SERVICE_PASSPORT: TypeFamily.PASSPORT,
    DocumentType.EMERGENCY_PASSPORT: TypeFamily.PASSPORT,
    # Convention travel documents carry document code P (Doc 9303 Part 4).
    DocumentType.REFUGEE_TRAVEL_DOCUMENT: TypeFamily.PASSPORT,
    DocumentType.IDENTITY_CARD: TypeFamily.IDENTITY,
    DocumentType.RESIDENCE_PERMIT: TypeFamily.IDENTITY,
    DocumentType.SEAFARER_DOCUMENT: TypeFamily.IDENTITY,
    DocumentType.CREW_CERTIFICATE: TypeFamily.IDENTITY,
    DocumentType.VISA: TypeFamily.VISA,
    DocumentType.OTHER: TypeFamily.OTHER,
}

# Second character of the MRZ document code, where issuers agree on a meaning.
_MRZ_SUBTYPES: dict[str, DocumentType] = {
    "PD": DocumentType.DIPLOMATIC_PASSPORT,
    "PS": DocumentType.SERVICE_PASSPORT,
    "PO": DocumentType.SERVICE_PASSPORT,
    "PE": DocumentType.EMERGENCY_PASSPORT,
    "PT": DocumentType.REFUGEE_TRAVEL_DOCUMENT,
    "IR": DocumentType.RESIDENCE_PERMIT,
    "AR": DocumentType.RESIDENCE_PERMIT,
    "CR": DocumentType.RESIDENCE_PERMIT,
    "AC": DocumentType.CREW_CERTIFICATE,
    "IS": DocumentType.SEAFARER_DOCUMENT,
}

_MRZ_FIRST: dict[str, DocumentType] = {
    "P": DocumentType.PASSPORT,
    "I": DocumentType.IDENTITY_CARD,
    "A": DocumentType.IDENTITY_CARD,
    "C": DocumentType.IDENTITY_CARD,
    "V": DocumentType.VISA,
}


class InvalidDocumentType(ValueError):
    """A name that is neither a document type nor a type family."""


def family_of(document_type: DocumentType) -> TypeFamily:
    return _FAMILY[document_type]


def parse_document_type(text: str) -> DocumentType:
    try:
        return DocumentType(text.strip().lower())
    except ValueError:
        names = ", ".join(t.value for t in DocumentType)
        raise InvalidDocumentType(f"{text!r} is not a document type (one of {names})") from None


def parse_type_or_family(text: str) -> DocumentType | TypeFamily:
    """A query may name a type (``passport``) or a family (``identity``); types win on overlap."""
    value = text.strip().lower()
    if value in DocumentType.__members__.values():
        return DocumentType(value)
    if value in TypeFamily.__members__.values():
        return TypeFamily(value)
    names = ", ".join([*(t.value for t in DocumentType), "identity"])
    raise InvalidDocumentType(f"{text!r} is not a document type or family (one of {names})")


def type_from_mrz_code(code: str) -> DocumentType:
    """The document type an MRZ document code (``P<``, ``PD``, ``ID``, ``V<``…) stands for."""
    code = code.upper()
    return _MRZ_SUBTYPES.get(code[:2]) or _MRZ_FIRST.get(code[:1], DocumentType.OTHER)


def family_from_mrz_code(code: str) -> TypeFamily:
    return family_of(type_from_mrz_code(code))
