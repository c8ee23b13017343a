"""``POST /screen`` and ``POST /screen/batch``: the hot path. No ORM here: the index is in
memory, and the query log (with the hit cases) is written by its own thread, many requests per
transaction; each answer waits until its own entries are safe (a clean query appended to the
process's journal, a match committed with its case), so that no answer is sent whose log entry
or hit case could still be lost."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from bordercheck.api.deps import (
    Principal,
    SessionDep,
    WriteSessionDep,
    authenticate,
    require_roles,
    roles_check,
)
from bordercheck.api.limits import rate_limit, spend
from bordercheck.api.types import RecordId, UtcDatetime
from bordercheck.auth.models import Role
from bordercheck.errors import ServiceUnavailable
from bordercheck.screening import watches
from bordercheck.screening.columns import ColumnAnswers, screen_column_batch
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.live import LiveIndex
from bordercheck.screening.querylog import QueryLogWriter
from bordercheck.screening.schemas import (
    BatchMatchesResponse,
    BatchResponse,
    CentreBatchRequest,
    ColumnBatchRequest,
    ScreenRequest,
    ScreenResponse,
)
from bordercheck.screening.service import Asker, Screened, screen_requests

SCREENERS = (Role.ADMIN, Role.BUREAU_OFFICER, Role.BORDER_OFFICER)
# For the rate limit a batch counts as one request for every so many documents.
DOCUMENTS_PER_REQUEST = 100
_may_screen = roles_check(*SCREENERS)


async def screener(request: Request) -> Principal:
    """The caller, if it may screen now: 401 without a valid token, 403 without a screening
    role, 429 past its rate (in that order, and before the body is read, as before)."""
    principal = await authenticate(request)
    _may_screen(principal)
    await rate_limit(request, principal)
    return principal


# One dependency, where the token, caller, role and rate limit were a tree of a dozen:
# resolving them took more of a single screen's time than anything else
# (docs/benchmarks.md). The OpenAPI description says what the bearer dependency said.
ScreenerDep = Annotated[Principal, Depends(screener)]
router = APIRouter(tags=["screening"])
_SECURITY: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}]


def _loaded(request: Request) -> tuple[LiveIndex, ScreeningIndex]:
    live: LiveIndex = request.app.state.live_index
    if live.index is None:
        raise ServiceUnavailable(
            "the screening index is still loading; try again in a moment",
            retry_after=1,
        )
    return live, live.index


def _asker(principal: Principal) -> Asker:
    return Asker(kind=principal.kind, name=principal.name, bureau_code=principal.bureau_code)


def run_screening(
    request: Request, principal: Principal, documents: Sequence[ScreenRequest], source: str
) -> tuple[list[Screened], Future[None]]:
    """The answers, and the future of the commit of their log entries and hit cases."""
    live, index = _loaded(request)
    answered = screen_requests(
        index, documents, _asker(principal), source=source, withheld_from=live.withheld_from
    )
    request.app.state.metrics.screenings.inc(len(answered))
    log: QueryLogWriter = request.app.state.query_log
    return answered, log.record([item.logged for item in answered])


def run_column_screening(
    request: Request, principal: Principal, body: ColumnBatchRequest
) -> tuple[ColumnAnswers, Future[None]]:
    """``run_screening`` of a batch sent as columns: its clean queries logged as columns."""
    live, index = _loaded(request)
    answers = screen_column_batch(
        index, body, _asker(principal), source="batch", withheld_from=live.withheld_from
    )
    request.app.state.metrics.screenings.inc(answers.size)
    log: QueryLogWriter = request.app.state.query_log
    return answers, log.record(answers.logged, answers.clean)


async def wait_until_logged(logged: Future[None]) -> None:
    """Wait until the answers' log entries are safe: journalled entries are already, and a
    done future is read at once rather than through a round of the event loop."""
    if logged.done():
        logged.result()
    else:
        await asyncio.wrap_future(logged)


class _JSON(Response):
    media_type = "application/json"


def _json(data: object) -> Response:
    # The answers are built as the schema's plain dicts (``service._answer``): encoded once,
    # with no model in between (``tests/screening/test_http.py`` checks them against it).
    return _JSON(orjson.dumps(data))


def _batch_schema() -> dict[str, Any]:
    """The two forms of a batch: ``documents`` (a list of ``ScreenRequest``) or ``columns``."""
    ref = "#/components/schemas/{model}"
    documents = CentreBatchRequest.model_json_schema(ref_template=ref)
    documents.pop("$defs", None)  # ScreenRequest is in the components already, from /screen
    documents["title"] = "BatchOfDocuments"
    columns = ColumnBatchRequest.model_json_schema(ref_template=ref)
    # DocumentColumns is in no other schema: written where it is used.
    columns = _inlined(columns, columns.pop("$defs", {}))
    columns["title"] = "BatchOfColumns"
    schema = {"oneOf": [documents, columns]}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _inlined(schema: Any, parts: dict[str, Any]) -> Any:
    """``schema`` with its references to ``parts`` replaced by what they refer to."""
    if isinstance(schema, list):
        return [_inlined(item, parts) for item in schema]
    if not isinstance(schema, dict):
        return schema
    name = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
    if name in parts:
        return _inlined(parts[name], parts)
    return {key: _inlined(value, parts) for key, value in schema.items()}


def _parse_batch(raw: bytes) -> CentreBatchRequest | ColumnBatchRequest:
    # Straight from the bytes: a third of the time of parsing to Python objects and then
    # validating them, which is what a declared body parameter does. A body without the word
    # "columns" is a batch of documents; one with it may still be (a number or a place named
    # so), which its refusal as columns tells: it holds "documents".
    try:
        if b'"columns"' in raw:
            try:
                return ColumnBatchRequest.model_validate_json(raw)
            except ValidationError as exc:
                if not any(error["loc"] == ("documents",) for error in exc.errors()):
                    raise
        return CentreBatchRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


@router.post("/screen", response_model=ScreenResponse, openapi_extra={"security": _SECURITY})
async def screen(body: ScreenRequest, request: Request, principal: ScreenerDep) -> Response:
    """Screen one document: hit, possible hit or no hit, with the records it matched."""
    return await answer_screen(request, principal, body)


async def answer_screen(request: Request, principal: Principal, body: ScreenRequest) -> Response:
    """The answer to one screen, once its log entry is safe: the route's, and the fast
    path's (``screening.fast_path``), which answers it before FastAPI's routing."""
    answered, committed = run_screening(request, principal, [body], "mrz" if body.mrz else "number")
    await wait_until_logged(committed)
    return _json(answered[0].answer)


@router.post(
    "/screen/batch",
    response_model=BatchResponse | BatchMatchesResponse,
    openapi_extra={"requestBody": _batch_schema(), "security": _SECURITY},
)
async def screen_batch(request: Request, principal: ScreenerDep) -> Response:
    """Screen up to 10,000 documents, sent as a list of `documents` or as `columns` (one list
    per field); the results come back in the order sent (all of them, or with `"answer":
    "matches"` only those that matched, each with its position)."""
    body = await run_in_threadpool(_parse_batch, await request.body())
    size = body.size if isinstance(body, ColumnBatchRequest) else len(body.documents)
    extra = math.ceil(size / DOCUMENTS_PER_REQUEST) - 1
    if extra > 0:  # the dependency took one request's worth already
        await spend(request, principal.subject, extra)
    if isinstance(body, ColumnBatchRequest):
        columns, logged = await run_in_threadpool(run_column_screening, request, principal, body)
        await wait_until_logged(logged)
        return _JSON(columns.matches_json() if body.answer == "matches" else columns.full_json())
    # Seconds of work for 10,000 damaged MRZs: off the event loop, so that this worker
    # goes on answering other requests (and health checks) meanwhile.
    answered, committed = await run_in_threadpool(
        run_screening, request, principal, body.documents, "batch"
    )
    await wait_until_logged(committed)
    if body.answer == "matches":
        return _json(
            {
                "screened": len(answered),
                "results": [
                    {**item.answer, "position": position}
                    for position, item in enumerate(answered)
                    if item.logged.result != "no_hit"
                ],
            }
        )
    return _json({"results": [item.answer for item in answered]})


# Owners following searches on their records.
records_router = APIRouter(tags=["records"], dependencies=[Depends(rate_limit)])
# Following a record's searches is for the bureau that owns it (people of that bureau).
WATCHERS = (Role.BUREAU_OFFICER,)
OwnerDep = Annotated[Principal, Depends(require_roles(*WATCHERS))]


class WatchOut(BaseModel):
    record_id: int
    bureau_code: str
    since: UtcDatetime


class SearchOut(BaseModel):
    query_id: str
    at: UtcDatetime
    bureau_code: str
    principal_name: str
    location: str | None
    operation_id: str | None
    result: str
    match: str
    score: float


@records_router.post("/records/{record_id}/watch", response_model=WatchOut, status_code=201)
def watch_record(record_id: RecordId, principal: OwnerDep, session: SessionDep) -> WatchOut:
    """Be told of every search that finds this record (owning bureau only)."""
    watches.ensure_owner(session, principal.bureau_code, record_id)
    row = watches.watch(session, record_id, principal.bureau_code, principal.name)
    return WatchOut(record_id=record_id, bureau_code=row.bureau_code, since=row.created_at)


@records_router.delete("/records/{record_id}/watch", status_code=204)
def unwatch_record(record_id: RecordId, principal: OwnerDep, session: SessionDep) -> Response:
    """Stop following searches on this record."""
    watches.ensure_owner(session, principal.bureau_code, record_id)
    watches.unwatch(session, record_id, principal.bureau_code, principal.name)
    return Response(status_code=204)


@records_router.get("/records/{record_id}/searches", response_model=list[SearchOut])
def record_searches(
    record_id: RecordId,
    principal: OwnerDep,
    session: WriteSessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SearchOut]:
    """The searches that found this record since your bureau began to follow it (audited)."""
    watches.ensure_owner(session, principal.bureau_code, record_id)
    found = watches.searches_on(
        session, record_id, principal.bureau_code, by=principal.name, limit=limit
    )
    return [SearchOut.model_validate(search, from_attributes=True) for search in found]
