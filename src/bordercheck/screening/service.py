"""Screening requests: from what a caller sends to the answer, the log entry and hit cases."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from bordercheck.auth.policy import RESTRICTED, details_withheld
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.documents.mrz import NotAnMrz, parse, printed_check_digit
from bordercheck.documents.numbers import (
    MAX_NUMBER_LENGTH,
    InvalidDocumentNumber,
    normalise_number,
)
from bordercheck.documents.types import InvalidDocumentType, parse_type_or_family
from bordercheck.errors import FieldError, ValidationFailed
from bordercheck.screening.matcher import (
    DEFAULT_POLICY,
    Indexed,
    Match,
    MatchPolicy,
    Query,
    Screening,
    screen,
    screen_batch,
)
from bordercheck.screening.querylog import LoggedMatch, LoggedQuery, NewHit, new_query_ids
from bordercheck.screening.schemas import ScreenRequest, Where
from bordercheck.timestamps import utcnow

RESTRICTED_MESSAGE = RESTRICTED
MACHINE_POLICY = MatchPolicy(
    ocr_changes=DEFAULT_POLICY.ocr_changes, transpositions_up_to=0, substitutions_up_to=0
)


@dataclass(frozen=True)
class Asker:
    """Who screens: recorded in the log and in hit cases."""

    kind: str
    name: str
    bureau_code: str


@dataclass(slots=True)
class Screened:
    """One answered request: the JSON answer, and its log entry with any hit cases it opens."""

    answer: dict[str, Any]
    logged: LoggedQuery


class PreparedRequest(NamedTuple):
    """A request as the matcher asks it, with where it was asked from and what its answer
    tells of it (the document type logged, the MRZ read)."""

    query: Query
    request: Where
    document_type: str | None
    mrz: dict[str, Any] | None


# Batches repeat a few countries and types many times over: answer those from a cache.
_country = functools.lru_cache(maxsize=1024)(normalise_country)
_kind = functools.lru_cache(maxsize=256)(parse_type_or_family)


def _is_normal(number: str) -> bool:
    """Already as it is compared (upper-case ASCII letters and digits): nothing to do."""
    return (
        0 < len(number) <= MAX_NUMBER_LENGTH
        and number.isascii()
        and number.isalnum()
        and number == number.upper()
    )


def prepare(request: ScreenRequest, where: str = "") -> PreparedRequest:
    """The matcher's query for a request; a bad field is reported by name (422)."""
    if request.mrz is not None:
        return _from_mrz(request, where)
    errors: list[FieldError] = []
    number = country = ""
    kind = None
    raw = request.document_number or ""
    try:
        number = raw if _is_normal(raw) else normalise_number(raw)
    except InvalidDocumentNumber as exc:
        errors.append(FieldError(f"{where}document_number", str(exc)))
    try:
        country = _country(request.issuing_country or "")
    except InvalidCountry as exc:
        errors.append(FieldError(f"{where}issuing_country", str(exc)))
    if request.document_type is not None:
        try:
            kind = _kind(request.document_type)
        except InvalidDocumentType as exc:
            errors.append(FieldError(f"{where}document_type", str(exc)))
    if errors:
        raise ValidationFailed(errors=errors)
    query = Query(number, country, kind)
    return PreparedRequest(query, request, kind.value if kind else None, None)


def _prepare_batch(requests: Sequence[ScreenRequest]) -> list[PreparedRequest]:
    """``prepare`` for each document of a batch; an error names the document's fields."""
    try:
        return [prepare(r) for r in requests]
    except ValidationFailed:
        # Said again with the documents' positions (only now: formatting them costs).
        for i, request in enumerate(requests):
            prepare(request, f"documents.{i}.")
        raise


def _from_mrz(request: ScreenRequest, where: str) -> PreparedRequest:
    try:
        mrz = parse(request.mrz or "", correct=True)
    except NotAnMrz as exc:
        raise ValidationFailed(errors=[FieldError(f"{where}mrz", str(exc))]) from None
    # The digit as printed: a variant counts only if it agrees with it (see docs/screening.md).
    printed = printed_check_digit(mrz)
    query = Query(
        number=mrz.document_number,
        country=mrz.issuing_country,
        document_type=mrz.document_type,
        check_digit=printed if printed and printed.isdigit() else None,
        birth_date=mrz.birth_date,
        nationality=mrz.nationality or None,
    )
    summary = {
        "format": mrz.format,
        "valid": mrz.valid,
        "checks": dict(mrz.checks),
        "corrections": [c.as_dict() for c in mrz.corrections],
        "problems": list(mrz.problems),
    }
    return PreparedRequest(query, request, mrz.document_type.value, summary)


def no_restrictions(_record_id: int) -> frozenset[str]:
    return frozenset()


def screen_requests(
    index: Indexed,  # the centre's index, or an edge kit's
    requests: Sequence[ScreenRequest],
    asker: Asker,
    *,
    source: str,
    withheld_from: Callable[[int], frozenset[str]] = no_restrictions,
    stale_warning: str | None = None,
) -> list[Screened]:
    """Screen every request in one pass over the index; the answers keep the requests' order.

    ``withheld_from`` tells, for a record flagged restricted, which querying countries its
    owner withholds the details from.
    """
    batch = len(requests) > 1
    prepared = [prepare(r) for r in requests] if not batch else _prepare_batch(requests)
    if batch:
        # Batches come from machines (manifests, gates), not from people keying numbers in:
        # OCR variants yes, typing slips no.
        results = screen_batch(index, [p.query for p in prepared], MACHINE_POLICY)
    else:
        results = [screen(index, prepared[0].query)]  # no vectorised set-up for one query
    context = AnswerContext(asker, source, utcnow(), withheld_from, stale_warning)
    ids = new_query_ids(len(prepared))
    return [
        answer_screening(p, s, context, ids[32 * i : 32 * i + 32])
        for i, (p, s) in enumerate(zip(prepared, results, strict=True))
    ]


@dataclass(frozen=True)
class AnswerContext:
    """What every answer of one request shares."""

    asker: Asker
    source: str
    now: datetime
    withheld_from: Callable[[int], frozenset[str]]
    stale_warning: str | None


def answer_screening(
    prepared: PreparedRequest, screening: Screening, context: AnswerContext, query_id: str
) -> Screened:
    """The JSON answer and the log entry (with the hit cases to open) of one document."""
    asker, now = context.asker, context.now
    request = prepared.request
    operation = None if request.operation_id is None else str(request.operation_id)
    result = screening.result
    if screening.matches:
        hidden = {
            m.record_id
            for m in screening.matches
            if m.restricted
            and details_withheld(
                asker.bureau_code, m.issuing_country, context.withheld_from(m.record_id)
            )
        }
        matches = [_match_json(m, withheld=m.record_id in hidden) for m in screening.matches]
        certain = [m.record_id for m in screening.matches if m.match in {"exact", "range"}]
        if result == "hit" and hidden and all(record_id in hidden for record_id in certain):
            result = "possible_hit"  # the owner, not this answer, tells the querying side more
        hits = tuple(
            NewHit(
                query_id=query_id,
                record_id=m.record_id,
                owner_bureau=m.issuing_country,
                querying_bureau=asker.bureau_code,
                queried_by=asker.name,
                match=m.match,
                score=m.score,
                location=request.location,
                operation_id=operation,
                at=now,
                source=context.source,
                withheld=m.record_id in hidden,
                document_number=prepared.query.number,
            )
            for m in screening.matches
            if m.match in {"exact", "range"}
        )
        logged_matches = tuple(
            LoggedMatch(m.record_id, m.match, m.score) for m in screening.matches
        )
    else:  # most answers: nothing to build
        matches, hits, logged_matches = [], (), ()
    answer: dict[str, Any] = {"query_id": query_id, "result": result, "matches": matches}
    if prepared.mrz is not None:
        answer["mrz"] = prepared.mrz
    if context.stale_warning:
        answer["warnings"] = [context.stale_warning]
    # By position, in the fields' order: a third of the cost of naming them, 10,000 times.
    logged = LoggedQuery(
        query_id, now, asker.kind, asker.name, asker.bureau_code, request.location, operation,
        context.source, prepared.query.number, prepared.query.country, prepared.document_type,
        result, logged_matches, hits,
    )  # fmt: skip
    return Screened(answer, logged)


def _match_json(match: Match, *, withheld: bool) -> dict[str, Any]:
    if withheld:
        # The owner withholds this record's details from the querying country.
        return {
            "record_id": None,
            "document_number": None,
            "issuing_country": match.issuing_country,
            "document_type": None,
            "status": None,
            "blank": None,
            "match": "restricted",
            "score": None,  # how close the match is would tell what is withheld
            "message": RESTRICTED_MESSAGE,
        }
    return {
        "record_id": match.record_id,
        "document_number": match.document_number,
        "issuing_country": match.issuing_country,
        "document_type": match.document_type,
        "status": match.status,
        "blank": match.blank,
        "match": match.match,
        "score": match.score,
    }
