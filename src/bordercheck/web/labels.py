"""The names people read for the system's codes (roles, document types, statuses, matches)."""

from __future__ import annotations

from bordercheck.web.i18n import N_

ROLES = {
    "admin": N_("Administrator"),
    "bureau_officer": N_("Bureau officer"),
    "border_officer": N_("Border officer"),
    "analyst": N_("Analyst"),
    "trainer": N_("Trainer"),
    "partner": N_("Partner organisation"),
}
DOCUMENT_TYPES = {
    "passport": N_("Passport"),
    "diplomatic_passport": N_("Diplomatic passport"),
    "service_passport": N_("Service passport"),
    "emergency_passport": N_("Emergency passport"),
    "identity_card": N_("Identity card"),
    "residence_permit": N_("Residence permit"),
    "visa": N_("Visa"),
    "refugee_travel_document": N_("Refugee travel document"),
    "seafarer_document": N_("Seafarer's document"),
    "crew_certificate": N_("Crew member certificate"),
    "other": N_("Other document"),
}
STATUSES = {
    "stolen": N_("Stolen"),
    "lost": N_("Lost"),
    "revoked": N_("Revoked"),
    "invalidated": N_("Invalidated"),
}
MATCHES = {
    "exact": N_("Same number"),
    "range": N_("In a stolen range of blanks"),
    "ocr_variant": N_("Number read differently (OCR)"),
    "substitution": N_("One character different (typing slip)"),
    "transposition": N_("Two characters swapped"),
    "restricted": N_("Details withheld"),
}
KINDS = {"role": ROLES, "type": DOCUMENT_TYPES, "status": STATUSES, "match": MATCHES}
