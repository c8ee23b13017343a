"""Every error answer, in one place and one shape: ``{"error", "message", "errors"}``.

Endpoints just raise domain errors; the framework's own refusals (unknown path, wrong method,
a body that is not JSON) and anything unexpected are turned into the same shape here, so a
client reads every failure the same way (docs/api.md, Errors).
"""

from __future__ import annotations

import secrets
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from bordercheck.auth.tokens import TOKEN_URL
from bordercheck.db import UNTIL, storage_fault
from bordercheck.errors import BordercheckError, ValidationFailed
from bordercheck.logs import get_logger

log = get_logger(__name__)

# The framework's statuses, named as the domain errors name theirs.
_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
STORAGE_RETRY_AFTER = 30  # seconds: about how long an operator takes to free some space
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A fault of ours: the answer names an id to quote; the log holds the traceback."""
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
    log.error(
        "unexpected error", incident=incident, method=request.method, path=request.url.path,
        exc_info=exc,
    )  # fmt: skip
    message = f"an unexpected error on our side; it was logged as incident {incident}"
    page = _page(request, 500, message)
    if page is not None:
        return page
    return JSONResponse(error_body("internal", message, incident=incident), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BordercheckError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
