"""Every error answer, in one place and one shape: ``{"error", "message", "errors"}``.

Endpoints just raise domain errors; the framework's own refusals (unknown path, wrong method,
a body that is not JSON) and anything unexpected are turned into the same shape here, so a
client reads every failure the same way (docs/api.md, Errors).
"""

from __future__ import annotations

import secrets
import time
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as db_errors
from starlette.exceptions import HTTPException

from bordercheck.auth.tokens import TOKEN_URL
from bordercheck.db import UNTIL, storage_fault
from bordercheck.errors import BordercheckError, ValidationFailed
from bordercheck.installation import TRAINING_HEADER
from bordercheck.logs import get_logger

log = get_logger(__name__)

# The framework's statuses, named as the domain errors name theirs.
_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
STORAGE_RETRY_AFTER = 30  # seconds: about how long an operator takes to free some space
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Seconds a client is told to wait when the database does not answer: about how long a
# restarted PostgreSQL takes to take connections again.
DATABASE_RETRY_AFTER = 2
# What the database's driver raises when it cannot be reached, or went away mid-request:
# the request is refused (503), not failed (500). Errors in what was asked (integrity, data)
# are not among them.
_UNREACHABLE = (db_errors.OperationalError, db_errors.InterfaceError, db_errors.TimeoutError)
LOG_REFUSALS_EVERY_SECONDS = 1.0
# What psycopg says of text holding the NUL character.
NUL_REFUSED = "cannot contain NUL"
_refused = [float("-inf"), 0.0]  # when the last refusal was logged; refusals since


def error_body(
    code: str, message: str, errors: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    """The one shape of an error answer; ``errors`` lists the fields at fault (maybe none)."""
    return {"error": code, "message": message, "errors": errors or [], **extra}


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BordercheckError)
    extra: dict[str, Any] = {"detail": exc.detail} if exc.detail else {}
    errors = []
    if isinstance(exc, ValidationFailed):
        errors = [{"field": e.field, "reason": e.reason} for e in exc.errors]
    elif isinstance(exc.detail.get("field"), str):
        # An error about one field, raised without a list: said the same way as a list of one.
        errors = [{"field": exc.detail["field"], "reason": exc.message}]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if "retry_after" in exc.detail:
        headers = {"Retry-After": str(exc.detail["retry_after"])}
    return JSONResponse(
        error_body(exc.code, exc.message, errors, **extra),
        status_code=exc.status_code,
        headers=headers,
    )


def _field_error(item: Any) -> dict[str, str]:
    loc = [part for part in item.get("loc", ()) if part != "body"]
    reason = str(item.get("msg", "invalid")).removeprefix("Value error, ")
    if item.get("type") == "json_invalid":
        # The location of a decoding error is a character position, not a field.
        where = f" at character {loc[0]}" if loc and isinstance(loc[0], int) else ""
        error = item.get("ctx", {}).get("error")
        return {
            "field": "body",
            "reason": f"not valid JSON{where}" + (f": {error}" if error else ""),
        }
    return {"field": ".".join(str(part) for part in loc) or "body", "reason": reason}


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(item) for item in exc.errors()]
    first = errors[0] if errors else {"field": "body", "reason": "invalid"}
    message = f"{first['field']}: {first['reason']}"
    content_type = request.headers.get("content-type", "")
    if request.url.path == TOKEN_URL and not content_type.startswith(FORM_TYPES):
        message = (
            f"{TOKEN_URL} takes a form (application/x-www-form-urlencoded), not "
            f"{content_type or 'an empty body'}: grant_type=password with username and "
            "password, or grant_type=client_credentials with client_id and client_secret"
        )
    return JSONResponse(error_body("invalid", message, errors), status_code=422)


def _page(request: Request, status: int, message: str) -> Response | None:
    """The console's error page when a browser asked for a page (``web.routing``), else None."""
    make = getattr(request.app.state, "error_page", None)
    page: Response | None = make(request, status, message) if make is not None else None
    return page


async def _http_error(request: Request, exc: Exception) -> Response:
    """The framework's own refusals: no such path, a method the path does not take."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    page = _page(request, status, "")
    if page is not None:
        return page
    if status == 404:
        message = f"there is no {request.url.path}; the API's paths are listed at /docs"
    elif status == 405:
        allowed = headers.get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; it takes {allowed}"
    else:
        message = str(exc.detail) if exc.detail else HTTPStatus(status).phrase
    code = _CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
    return JSONResponse(error_body(code, message), status_code=status, headers=headers or None)


async def _database_unreachable(request: Request, exc: Exception) -> Response:
    """The database did not answer (down, restarting, unreachable, out of connections)."""
    unreachable = isinstance(exc, _UNREACHABLE)
    if storage_fault(exc) is not None or (
        isinstance(exc, db_errors.DBAPIError) and not unreachable and not exc.connection_invalidated
    ):
        return await _unexpected(request, exc)  # a full or read-only disk is said as such
    now = time.monotonic()
    _refused[1] += 1
    if now - _refused[0] >= LOG_REFUSALS_EVERY_SECONDS:  # one line a second, not one a request
        log.warning("database unreachable; answering 503", path=request.url.path,
                    error=type(exc.__cause__ or exc).__name__, refused=_refused[1])  # fmt: skip
        _refused[0], _refused[1] = now, 0
    message = "the database does not answer; try again shortly"
    page = _page(request, 503, message)
    if page is not None:
        page.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return page
    return JSONResponse(
        error_body("unavailable", message),
        status_code=503,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A fault of ours: the answer names an id to quote; the log holds the traceback."""
    response = _fault(request, exc)
    # Answered outside every middleware: a sandbox's mark is put on here.
    sandbox = getattr(getattr(request.app.state, "settings", None), "training_sandbox", None)
    if sandbox:
        response.headers[TRAINING_HEADER] = sandbox
    return response


def _fault(request: Request, exc: Exception) -> Response:
    incident = secrets.token_hex(6)
    if (fault := storage_fault(exc)) is not None:
        # Not a fault of the request, nor a lasting one: the transaction was rolled back,
        # and the same request succeeds once the disk has room (or takes writes) again.
        log.error(
            "storage refused a write", reason=fault, incident=incident, method=request.method,
            path=request.url.path, error=str(exc).splitlines()[0][:300],
        )  # fmt: skip
        message = f"{fault}: nothing was changed; try again once {UNTIL[fault]}"
        page = _page(request, 503, message)
        if page is not None:
            return page
        return JSONResponse(
            error_body("unavailable", message, incident=incident),
            status_code=503,
            headers={"Retry-After": str(STORAGE_RETRY_AFTER)},
        )
    if isinstance(exc, db_errors.DataError) and NUL_REFUSED in str(exc.orig):
        # Text the API's models did not see (a console form, a query string) carrying the
        # NUL character, which PostgreSQL cannot store: the sender's fault, nothing written.
        message = "a text sent holds the NUL character (U+0000), which is not accepted"
        page = _page(request, 422, message)
        return page or JSONResponse(error_body("invalid", message), status_code=422)
    log.error(
        "unexpected error", incident=incident, method=request.method, path=request.url.path,
        exc_info=exc,
    )  # fmt: skip
    message = f"an unexpected error on our side; it was logged as incident {incident}"
    page = _page(request, 500, message)
    if page is not None:
        return page
    return JSONResponse(error_body("internal", message, incident=incident), status_code=500)


# The one shape, as the OpenAPI schema states it for every operation (``document_errors``).
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "message", "errors"],
    "properties": {
        "error": {"type": "string", "description": "A code: invalid, not_found, forbidden…"},
        "message": {"type": "string", "description": "What is wrong, and where."},
        "errors": {
            "type": "array",
            "description": "The fields at fault, if any.",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "detail": {"type": "object", "description": "More about the error, by kind."},
        "incident": {"type": "string", "description": "A fault of ours: the id to quote."},
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI schema say what the handlers do: any error, in the one shape.

    FastAPI documents a 422 of its own shape (``HTTPValidationError``), which this API never
    sends, and no other error; every operation here answers 422 and any other error status
    (``default``) with ``Error``.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        content = {"application/json": {"schema": _ERROR_REF}}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "The request is invalid", "content": content}
                responses.setdefault("default", {"description": "An error", "content": content})
        schemas = schema["components"]["schemas"]
        if "HTTPValidationError" not in str(schema["paths"]):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BordercheckError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    for error in (*_UNREACHABLE, db_errors.DBAPIError):
        app.add_exception_handler(error, _database_unreachable)
    app.add_exception_handler(Exception, _unexpected)
    document_errors(app)
