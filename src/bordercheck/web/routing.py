"""The console's routes: a refusal is a page in the viewer's language, not JSON.

``ConsoleRoute`` turns what a page raises into what a person reads: ``Redirect`` into a
redirect (for htmx, its ``HX-Redirect`` header), a domain error into an error page with its
status, a malformed request into the same page with 422.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute, APIRouter

from bordercheck.errors import BordercheckError
from bordercheck.web.access import Redirect, language_of
from bordercheck.web.i18n import N_, Language
from bordercheck.web.render import render, translate

TITLES = {
    400: N_("This request cannot be read"),
    401: N_("Sign in first"),
    403: N_("You may not open this page"),
    404: N_("Page not found"),
    405: N_("This page does not take this request"),
    409: N_("Someone changed this in the meantime"),
    413: N_("The file is too large"),
    422: N_("Some of what was sent is not valid"),
    429: N_("Too many requests: wait a moment"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is not available right now"),
}


def redirect(request: Request, to: str) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def error_page(
    request: Request, status_code: int, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    viewer = getattr(request.state, "viewer", None)
    title = TITLES.get(status_code) or HTTPStatus(status_code).phrase
    fragment = bool(request.headers.get("HX-Request"))
    return render(
        request,
        "error_fragment.html" if fragment else "error.html",
        {"viewer": viewer, "status_code": status_code, "title": title, "message": message},
        language=language_of(request, viewer),
        status_code=status_code,
        headers=headers,
    )


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except Redirect as exc:
                return redirect(request, exc.to)
            except BordercheckError as exc:
                headers = None
                if "retry_after" in exc.detail:
                    headers = {"Retry-After": str(exc.detail["retry_after"])}
                return error_page(request, exc.status_code, exc.message, headers=headers)
            except RequestValidationError as exc:
                language = language_of(request, getattr(request.state, "viewer", None))
                problems = "; ".join(dict.fromkeys(_problem(language, e) for e in exc.errors()))
                return error_page(request, 422, problems)

        return page


_TOO_LONG = N_("%(field)s: at most %(limit)s characters")
_TOO_SHORT = N_("%(field)s: at least %(limit)s characters")
_MISSING = N_("%(field)s: required")


def _problem(language: Language, error: Mapping[str, Any]) -> str:
    """What is wrong with one field of a request the page's form did not send as it should
    (a value pasted past the field's limit, a form of an older page): the field, and the
    limit it broke where there is one."""
    field = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    field = field.replace("_", " ") or "?"
    limits = error.get("ctx") or {}
    kind = error.get("type")
    if kind == "string_too_long" and "max_length" in limits:
        return translate(language, _TOO_LONG, field=field, limit=limits["max_length"])
    if kind == "string_too_short" and "min_length" in limits:
        return translate(language, _TOO_SHORT, field=field, limit=limits["min_length"])
    if kind == "missing":
        return translate(language, _MISSING, field=field)
    return field


def console_router() -> APIRouter:
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not a program asking the API): errors answer in HTML."""
    path = request.url.path
    if path.startswith(("/api/", "/openapi.json", "/metrics", "/healthz", "/readyz")):
        return False
    return "text/html" in request.headers.get("accept", "") or bool(
        request.headers.get("HX-Request")
    )
