"""Administration pages: bureaus, people and API clients, offline kits, the audit trail.

Administrators only, as the API's administration routes (``bordercheck.auth.api.ADMINS``);
every page calls the services those routes call.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from bordercheck.errors import BordercheckError
from bordercheck.web.access import language_of
from bordercheck.web.render import render
from bordercheck.web.sessions import Viewer


def page(
    request: Request,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        f"admin/{template}",
        {"viewer": viewer, "errors": {}, "form": {}, **context},
        language=language_of(request, viewer),
        status_code=status_code,
    )


def form_errors(
    exc: BordercheckError, fields: tuple[str, ...], *, default: str, country: str = "bureau"
) -> dict[str, str]:
    """A service's refusal as a form error, by the field it names (else ``default``); a
    refused country is the form's ``country`` field."""
    named = str(exc.detail.get("field", ""))
    if named == "country" or (not named and "country" in exc.detail):
        named = country
    return {named if named in fields else default: exc.message}
