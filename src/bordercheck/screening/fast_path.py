"""``POST /api/v1/screen`` answered below FastAPI's routing and request handling.

A single screen's own work (token, role, rate, the index, the journal) is a fraction of what
FastAPI spends around it: matching the path among the routes, resolving the route, reading
and validating the body through its machinery (docs/benchmarks.md, "The request path"). This
layer sits inside the app's middleware (errors, training mark, body size limit, metrics and
access log all still apply) and in front of its routing: it answers ``POST /api/v1/screen``
itself, making the same checks in the same order as the FastAPI route, with the same
functions (``screening.api``), and passes every other request on untouched. The route stays
registered: it is what the OpenAPI document describes, and what answers when this layer is
left out (``create_app(fast_screen=False)``, for the tests that compare the two).
"""

from __future__ import annotations

import email.message
import json
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from bordercheck.screening import api as screening_api
from bordercheck.screening.api import answer_screen, screen, screener
from bordercheck.screening.schemas import ScreenRequest

PATH = "/api/v1/screen"
_EMPTY = object()  # no body: "Field required", where ``null`` is a value (not an object)
# FastAPI's error for a required body that was not sent (``get_missing_field_error``).
MISSING = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}


class FastScreen:
    """Pure ASGI: answers ``POST /api/v1/screen``; anything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, *, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi
        self._route: APIRoute | None = None

    def _screen_route(self) -> APIRoute:
        # The route as the router hands it to the request (``scope["route"]``: the metrics
        # label its template), with its body field and content-type rule.
        if self._route is None:
            for route in screening_api.router.routes:
                if isinstance(route, APIRoute) and route.endpoint is screen:
                    self._route = route
                    break
            else:  # pragma: no cover - screening.api declares it
                raise RuntimeError(f"no FastAPI route for {PATH}")
        return self._route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        route = self._screen_route()
        # What the router would set: the route's metrics label, the endpoint that
        # ``ensure_open_to`` reads (partners), no path parameters.
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        request = Request(scope, receive)
        try:
            response = await self._answer(route, request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise  # ServerErrorMiddleware answers 500, as for the FastAPI route
            response = await handler(request, exc)
        await response(scope, receive, send)

    async def _answer(self, route: APIRoute, request: Request) -> Any:
        # FastAPI's order: the body is read and decoded first (not-JSON is a 422 before the
        # caller is checked), then the caller (401, 403, 429), then the fields (422).
        value = await _body(request, _strict(route))
        principal = await screener(request)
        assert route.body_field is not None
        if value is _EMPTY:
            body, errors = None, [MISSING]
        else:
            body, errors = route.body_field.validate(value, {}, loc=("body",))
        if errors:
            raise RequestValidationError(errors)
        assert isinstance(body, ScreenRequest)
        return await answer_screen(request, principal, body)

    def _handler(self, exc: Exception) -> Any:
        """The app's handler for ``exc``, as Starlette's exception middleware finds it (the
        handler of ``Exception`` belongs to the server-error middleware outside)."""
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None


def _strict(route: APIRoute) -> bool:
    strict = route.strict_content_type
    return bool(strict.value if isinstance(strict, DefaultPlaceholder) else strict)


async def _body(request: Request, strict_content_type: bool) -> Any:
    """The body as FastAPI's request handling gives it to validation: the decoded JSON when
    it is declared JSON, the raw bytes otherwise, ``_EMPTY`` when there is none."""
    try:
        raw = await request.body()
        if not raw:
            return _EMPTY
        content_type = request.headers.get("content-type")
        if not content_type:
            return raw if strict_content_type else _decode(raw)
        if content_type == "application/json":
            return _decode(raw)
        message = email.message.Message()
        message["content-type"] = content_type
        if message.get_content_maintype() == "application":
            subtype = message.get_content_subtype()
            if subtype == "json" or subtype.endswith("+json"):
                return _decode(raw)
        return raw
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from exc
    except RequestValidationError:
        raise
    except Exception as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc


def _decode(raw: bytes) -> Any:
    # orjson where it can (several times faster); what it refuses is decoded as FastAPI
    # decodes it (``json.loads``), so that every refusal, and the few inputs the two read
    # differently (a byte-order mark, lone surrogates, huge numbers), are answered alike.
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
