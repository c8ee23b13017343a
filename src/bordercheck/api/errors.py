"""Domain errors to HTTP responses, in one place: every endpoint just raises."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bordercheck.errors import BordercheckError, ValidationFailed


def _body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BordercheckError)
    extra: dict[str, Any] = {"detail": exc.detail} if exc.detail else {}
    if isinstance(exc, ValidationFailed):
        extra["errors"] = [{"field": e.field, "reason": e.reason} for e in exc.errors]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if "retry_after" in exc.detail:
        headers = {"Retry-After": str(exc.detail["retry_after"])}
    return JSONResponse(
        _body(exc.code, exc.message, **extra), status_code=exc.status_code, headers=headers
    )


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for item in exc.errors():
        loc = [str(part) for part in item.get("loc", ()) if part != "body"]
        reason = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append({"field": ".".join(loc) or "body", "reason": reason})
    first = errors[0] if errors else {"field": "body", "reason": "invalid"}
    return JSONResponse(
        _body("invalid", f"{first['field']}: {first['reason']}", errors=errors), status_code=422
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BordercheckError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
