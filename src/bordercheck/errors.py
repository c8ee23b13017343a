"""Domain errors. Each carries the HTTP status it maps to; the API maps them in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class BordercheckError(Exception):
    """Base of every error a user can cause; the message says what is wrong and where."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(BordercheckError):
    status_code = 422
    code = "invalid"


class NotFound(BordercheckError):
    status_code = 404
    code = "not_found"


class Conflict(BordercheckError):
    status_code = 409
    code = "conflict"


class StaleVersion(Conflict):
    code = "stale_version"


class DuplicateRecord(Conflict):
    code = "duplicate"


class Forbidden(BordercheckError):
    status_code = 403
    code = "forbidden"


class Unauthorized(BordercheckError):
    status_code = 401
    code = "unauthorized"


class ServiceUnavailable(BordercheckError):
    status_code = 503
    code = "unavailable"


class ConfigurationError(BordercheckError):
    """The environment holds a setting bordercheck cannot run with."""

    code = "configuration"


class TooManyRequests(BordercheckError):
    status_code = 429
    code = "rate_limited"


@dataclass(frozen=True)
class FieldError:
    """One invalid field, with the row it came from when it came from a file."""

    field: str
    reason: str
    line: int | None = None


@dataclass
class ValidationFailed(InvalidInput):
    """Several field errors at once (a form, a request body, an import file)."""

    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        first = self.errors[0] if self.errors else None
        text = f"{first.field}: {first.reason}" if first else "invalid input"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        InvalidInput.__init__(self, text + more)
